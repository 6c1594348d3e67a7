#!/usr/bin/env bash
# Set up everything the test suite needs and run it:
#   a .venv with segc (editable), pytest and ruff, and PaddleSeg 2.8 as the parity oracle.
# PaddleSeg pins an old opencv and visualdl, so it goes in with --no-deps; the light
# dependencies its model code imports come with the `test` extra.
# Extra arguments go to pytest, e.g.  bash tests/run.sh -m "not slow"  for a quick local run.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".[test]"
.venv/bin/python -m pip install -q --disable-pip-version-check --no-deps paddleseg==2.8.0
# Tests run in parallel processes, one per core up to four (SEGC_TEST_WORKERS=N changes
# it, 0 runs them in this process): a Paddle model on CPU trains on one core, and the
# suite is mostly such runs. Tests sharing an expensive fixture stay on one worker
# (tests/conftest.py).
workers=${SEGC_TEST_WORKERS:-$(.venv/bin/python -c "import os; print(min(os.cpu_count() or 1, 4))")}
exec .venv/bin/python -m pytest -n "$workers" --dist loadgroup "$@"
