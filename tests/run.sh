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
exec .venv/bin/python -m pytest "$@"
