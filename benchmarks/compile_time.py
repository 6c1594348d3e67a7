"""Benchmark: wall time of `segc compile --all` (a fresh process each run, as a user runs it).

    python benchmarks/compile_time.py [--runs 5]

Writes benchmarks/results/compile_time.json with the machine and the figures.
Not a test: it measures and records, it never fails on time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--output", default=str(REPO / "benchmarks" / "results" /
                                                "compile_time.json"))
    args = parser.parse_args()

    cold, check = [], []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "generated"
        for _ in range(args.runs):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "segc", "compile", "--all", "--out", str(out)],
                           cwd=REPO, check=True, capture_output=True)
            cold.append(time.perf_counter() - start)
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "segc", "compile", "--all", "--out", str(out),
                            "--check"], cwd=REPO, check=True, capture_output=True)
            check.append(time.perf_counter() - start)
        combos = len([p for p in out.iterdir() if p.is_dir()])

    result = {
        "benchmark": "segc compile --all",
        "combinations": combos,
        "runs": args.runs,
        "compile_s": {"median": statistics.median(cold), "min": min(cold), "max": max(cold)},
        "check_s": {"median": statistics.median(check), "min": min(check), "max": max(check)},
        "machine": {"python": platform.python_version(), "platform": platform.platform(),
                    "cpus": os.cpu_count()},
    }
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(result, indent=2) + "\n")
    print(f"segc compile --all ({combos} combinations): median {result['compile_s']['median']:.3f}"
          f" s, --check median {result['check_s']['median']:.3f} s -> {args.output}")


if __name__ == "__main__":
    main()
