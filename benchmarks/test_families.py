"""What each test family costs, and per combination: from a pytest JUnit report.

    bash tests/run.sh --junitxml=report.xml        # the whole suite, as CI runs it
    python benchmarks/test_families.py report.xml  # -> benchmarks/results/test_families.json

A family is a test file. Its cost per combination is its time over the number of
combinations (or architectures) its tests are parametrised with, which says how the
suite grows as the zoo does: CI must stay under 40 minutes on a 2-core machine.
Not a test: it measures and records, it never fails on time.
"""

from __future__ import annotations

import argparse
import json
import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PARAMETER = re.compile(r"\[(.+)\]$")


def families(report: Path) -> dict[str, dict]:
    """{test file: {"seconds", "tests", "parameters": the distinct ids it ran with}}."""
    found: dict[str, dict] = defaultdict(lambda: {"seconds": 0.0, "tests": 0, "parameters": set()})
    for case in ET.parse(report).getroot().iter("testcase"):
        family = case.get("classname", "").split(".")[-1] or "?"
        entry = found[family]
        entry["seconds"] += float(case.get("time", 0))
        entry["tests"] += 1
        match = PARAMETER.search(case.get("name", ""))
        if match:
            entry["parameters"].add(match.group(1))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", type=Path, help="pytest --junitxml report of a suite run")
    parser.add_argument("--output", type=Path,
                        default=REPO / "benchmarks" / "results" / "test_families.json")
    args = parser.parse_args()
    found = families(args.report)
    total = sum(entry["seconds"] for entry in found.values())
    rows = []
    for family, entry in sorted(found.items(), key=lambda item: -item[1]["seconds"]):
        count = len(entry["parameters"])
        rows.append({
            "family": family,
            "seconds": round(entry["seconds"], 1),
            "share": round(entry["seconds"] / total, 3) if total else 0.0,
            "tests": entry["tests"],
            "parametrised_over": count,
            "seconds_per_parameter": round(entry["seconds"] / count, 1) if count else None,
        })
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({"report": args.report.name, "total_seconds": round(total, 1),
                                       "families": rows}, indent=2) + "\n")
    print(f"{'family':32} {'seconds':>8} {'share':>6} {'tests':>6} {'params':>7} {'s/param':>8}")
    for row in rows:
        per = "" if row["seconds_per_parameter"] is None else f"{row['seconds_per_parameter']:.1f}"
        print(f"{row['family']:32} {row['seconds']:8.1f} {row['share']:6.1%} {row['tests']:6d} "
              f"{row['parametrised_over']:7d} {per:>8}")
    print(f"total {total:.0f} s -> {args.output}")


if __name__ == "__main__":
    main()
