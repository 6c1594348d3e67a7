"""Measure what `export.py --onnx` does for every compiled combination, and whether
OpenVINO runs the ONNX file it writes; record it for docs/model_zoo.md.

    python benchmarks/onnx_status.py                      # all of generated/
    python benchmarks/onnx_status.py pspnet_resnet50_vd_os8 ccnet_resnet101_vd_os8
    python benchmarks/onnx_status.py --report-only        # the page from the results

Per combination, in a fresh folder, the generated export.py (untrained model, its default
argmax output) runs as a user runs it:

1. `export.py --onnx`: it converts (exit 0, with its own line comparing onnxruntime with
   Paddle Inference), or stops with one line and exit 2, recorded as said.
2. For a model whose card asks for a fixed input size (SPEC's `onnx_fixed_input`), that
   refusal, then `export.py --onnx --input-shape 1 3 M 2M` at its smallest multiple M
   (M x M where 2M would exceed 1024 pixels: DMNet's 840).
3. OpenVINO reads a converted model.onnx (openvino.Core().read_model) and compiles it for
   CPU twice: at f32 inference precision, which checks the conversion, and at OpenVINO's
   default precision (bf16 on CPUs with AMX or AVX512-BF16), what a user gets unless they
   ask; both run on export.py's check input and are compared with onnxruntime pixel by
   pixel (class ids).

Writes benchmarks/results/onnx_status.json (entries merged by combination, with the
paddle, paddle2onnx, onnxruntime and openvino versions), then regenerates
docs/model_zoo.md from it and benchmarks/results/zoo_bench.json (`segc bench
--report-only` does the same). Not a test: it measures and records, it never fails on
a model's status.
"""

from __future__ import annotations

import argparse
import ast
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from segc.bench import onnx_status as status_file
from segc.bench.machine import cpu_model, module_version, utc_timestamp
from segc.bench.page import write_zoo_page
from segc.bench.results import DEFAULT_RESULTS, load_results

REPO = Path(__file__).resolve().parent.parent

# The largest side export.py is asked to check a fixed-size model at.
LARGEST_SIDE = 1024


def script_constants(export_py: Path, *names: str) -> dict:
    """Top-level literal constants of a generated export.py (SPEC, EXPORT_CHECK_SIZE...),
    read without importing it."""
    found = {}
    for node in ast.parse(export_py.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name) and target.id in names:
                found[target.id] = ast.literal_eval(node.value)
    return found


def run_export(folder: Path, work: Path, *extra: str) -> dict:
    """export.py --onnx as a user runs it: exit status, its error line, its ONNX check."""
    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, str(folder / "export.py"), "--save-dir", "export", "--onnx", *extra],
        cwd=work, capture_output=True, text=True, check=False)
    errors = [line.removeprefix("error: ") for line in completed.stderr.splitlines()
              if line.startswith("error: ")]
    checks = [line.split(": ", 1)[1] for line in completed.stdout.splitlines()
              if line.startswith("onnx check (onnxruntime vs Paddle Inference): ")]
    return {"returncode": completed.returncode, "error": errors[-1] if errors else None,
            "onnx_check": checks[-1] if checks else None,
            "seconds": round(time.perf_counter() - started, 1),
            "tail": (completed.stdout + completed.stderr)[-1500:]}


def openvino_agreement(onnx_file: Path, shape: list[int]) -> dict:
    """OpenVINO (f32 and default precision) against onnxruntime on export.py's check input:
    the share of pixels with equal class ids."""
    import onnxruntime
    import openvino

    batch = np.random.default_rng(0).uniform(-1.0, 1.0, shape).astype(np.float32)
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    session = onnxruntime.InferenceSession(str(onnx_file), options,
                                           providers=["CPUExecutionProvider"])
    expected = session.run(None, {session.get_inputs()[0].name: batch})[0]
    core = openvino.Core()
    model = core.read_model(str(onnx_file))
    found = {}
    for key, config in (("f32", {"INFERENCE_PRECISION_HINT": "f32"}), ("default", {})):
        compiled = core.compile_model(model, "CPU", config)
        actual = compiled(batch)[0]
        found[key] = (float((actual == expected).mean()) if actual.shape == expected.shape
                      else 0.0)
        if key == "default":
            found["default_precision"] = compiled.get_property(
                "INFERENCE_PRECISION_HINT").get_type_name()
    return found


def measure(folder: Path) -> dict:
    constants = script_constants(folder / "export.py", "SPEC", "EXPORT_CHECK_SIZE")
    fixed = constants["SPEC"].get("onnx_fixed_input")
    entry = {"combination": folder.name, "measured_at": utc_timestamp(), "status": None,
             "reason": None, "multiple": None, "input_shape": None, "onnx_check": None,
             "onnxruntime_agreement": None, "openvino": None, "export_seconds": None}
    with tempfile.TemporaryDirectory(prefix=f"onnx-{folder.name}-") as tmp:
        work = Path(tmp)
        outcome = run_export(folder, work)
        if fixed:
            entry["multiple"] = multiple = fixed["multiple"]
            if outcome["returncode"] != 2:
                entry["status"] = "failed"
                entry["reason"] = ("export.py --onnx did not stop without a fixed input size "
                                   f"(exit {outcome['returncode']})")
                return entry
            entry["reason"] = outcome["error"]
            width = 2 * multiple if 2 * multiple <= LARGEST_SIDE else multiple
            entry["input_shape"] = [1, 3, multiple, width]
            outcome = run_export(folder, work, "--input-shape", *map(str, entry["input_shape"]))
        entry["export_seconds"] = outcome["seconds"]
        if outcome["returncode"] == 0 and outcome["onnx_check"]:
            entry["status"] = "fixed_input" if fixed else "converts"
            if not fixed:
                entry["input_shape"] = [1, 3, *constants["EXPORT_CHECK_SIZE"]]
            entry["onnx_check"] = outcome["onnx_check"]
            entry["onnxruntime_agreement"] = float(
                outcome["onnx_check"].split("argmax agreement ")[1].split()[0])
            entry["openvino"] = openvino_agreement(work / "export" / "model.onnx",
                                                   entry["input_shape"])
        elif outcome["returncode"] == 2 and not fixed:
            entry["status"], entry["reason"] = "unsupported", outcome["error"]
        else:
            entry["status"] = "failed"
            last = outcome["tail"].strip().splitlines()[-1:] or [""]
            entry["reason"] = outcome["error"] or f"exit {outcome['returncode']}: {last[0]}"
    return entry


def versions() -> dict:
    return {"python": platform.python_version(), "platform": platform.platform(),
            "cpu_model": cpu_model(), "logical_cpus": os.cpu_count() or 1,
            **{name: module_version(package) for name, package in (
                ("paddle", "paddlepaddle"), ("paddle2onnx", "paddle2onnx"),
                ("onnxruntime", "onnxruntime"), ("openvino", "openvino"))}}


def summary(entry: dict) -> str:
    if entry["status"] in ("converts", "fixed_input"):
        openvino = entry["openvino"]
        return (f"{entry['status']} at {'x'.join(map(str, entry['input_shape'][2:]))}: "
                f"onnxruntime {entry['onnxruntime_agreement']:.6f}, OpenVINO f32 "
                f"{openvino['f32']:.6f}, {openvino['default_precision']} "
                f"{openvino['default']:.6f} ({entry['export_seconds']:.0f} s)")
    return f"{entry['status']}: {entry['reason']}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("combinations", nargs="*", help="default: every folder in generated/")
    parser.add_argument("--generated", default=str(REPO / "generated"))
    parser.add_argument("--output", default=str(REPO / status_file.DEFAULT_STATUS))
    parser.add_argument("--docs", default=str(REPO / "docs"))
    parser.add_argument("--report-only", action="store_true",
                        help="measure nothing: regenerate docs/model_zoo.md")
    args = parser.parse_args()
    output = Path(args.output)
    status = status_file.load_status(output, missing_ok=True)
    if not args.report_only:
        generated = Path(args.generated)
        names = args.combinations or sorted(
            p.name for p in generated.iterdir() if (p / "export.py").is_file())
        environment = versions()
        for index, name in enumerate(names, start=1):
            entry = dict(measure(generated / name), environment=environment)
            status = status_file.merge_status(status, [entry])
            status_file.save_status(output, status)  # after each: a kill keeps the rest
            print(f"[{index}/{len(names)}] {name}: {summary(entry)}", flush=True)
    written = write_zoo_page(load_results(REPO / DEFAULT_RESULTS), Path(args.docs),
                             str(DEFAULT_RESULTS), onnx=status)
    print(f"wrote {written[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
