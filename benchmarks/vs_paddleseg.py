"""segc's generated code against PaddleSeg 2.8, side by side: the command.

    python benchmarks/vs_paddleseg.py --paddleseg-repo PATH [--combination fcn_hrnet_w18]
    python benchmarks/vs_paddleseg.py --paddleseg-repo PATH --quick     # minutes, not an hour
    python benchmarks/vs_paddleseg.py --report-only     # docs/vs_paddleseg.md from the results

The benchmark itself is the package benchmarks/side_by_side/ (its docstring says what
it measures and how). This script is its entry point, and each measurement's child
process runs through it too, with --child.
"""

from side_by_side.orchestration import main  # benchmarks/ is sys.path[0] when run as a script

if __name__ == "__main__":
    main()
