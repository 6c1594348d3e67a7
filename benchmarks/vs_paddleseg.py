"""segc's generated code against PaddleSeg 2.8, side by side: the command.

    python benchmarks/vs_paddleseg.py --paddleseg-repo PATH [--combination fcn_hrnet_w18]
    python benchmarks/vs_paddleseg.py --paddleseg-repo PATH --quick     # minutes, not an hour
    python benchmarks/vs_paddleseg.py --report-only     # docs/vs_paddleseg.md from the results

The benchmark itself is the package benchmarks/side_by_side/ (its docstring says what
it measures and how). This script is its entry point, and each measurement's child
process runs through it too, with --child.
"""

import sys
from pathlib import Path

# benchmarks/ is sys.path[0] when run as a script; the repository root holds tests.oracle,
# the PaddleSeg oracle the tests use too
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))

from side_by_side.orchestration import main

if __name__ == "__main__":
    main()
