"""Benchmark: wall time of `segc compile --all` (a fresh process each run, as a user runs it):
into an empty folder, with --full, and over an up-to-date tree, compiling and checking.

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

    def timed(*flags, out):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "segc", "compile", "--all", "--out", str(out),
                        *flags], cwd=REPO, check=True, capture_output=True)
        return time.perf_counter() - start

    # cold: into an empty folder; full: every spec rendered again over an up-to-date tree;
    # compile and check: an up-to-date tree, where the manifest says every output is fresh
    times = {"cold": [], "full": [], "compile": [], "check": [], "full_check": []}
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "generated"
            times["cold"].append(timed(out=out))
            times["full"].append(timed("--full", out=out))
            times["compile"].append(timed(out=out))
            times["check"].append(timed("--check", out=out))
            times["full_check"].append(timed("--check", "--full", out=out))
            combos = len([p for p in out.iterdir() if p.is_dir()])

    def summary(values):
        return {"median": statistics.median(values), "min": min(values), "max": max(values)}

    result = {
        "benchmark": "segc compile --all",
        "combinations": combos,
        "runs": args.runs,
        "what": {
            "cold_s": "compile into an empty folder: every spec loaded, validated, rendered",
            "full_s": "compile --full over an up-to-date tree: every spec rendered again",
            "compile_s": "compile over an up-to-date tree (the manifest says all is fresh)",
            "check_s": "compile --check over an up-to-date tree",
            "full_check_s": "compile --check --full: regenerates everything in memory",
        },
        **{f"{name}_s": summary(values) for name, values in times.items()},
        "machine": {"python": platform.python_version(), "platform": platform.platform(),
                    "cpus": os.cpu_count(), "load_average": list(os.getloadavg())},
    }
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(result, indent=2) + "\n")
    print(f"segc compile --all ({combos} combinations), medians: "
          + ", ".join(f"{name} {result[f'{name}_s']['median']:.3f} s" for name in times)
          + f" -> {args.output}")


if __name__ == "__main__":
    main()
