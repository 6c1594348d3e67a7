"""`python -m segc.bench --worker FOLDER OUT EXPORT_DIR SETTINGS`: the per-combination
process that `segc bench` starts (segc.bench.runner.run_worker); people run `segc bench`."""

import sys

if len(sys.argv) == 6 and sys.argv[1] == "--worker":
    from .worker import worker_main

    sys.exit(worker_main(sys.argv[2:]))
sys.exit("usage: segc bench ... (this module's entry point is the segc command)")
