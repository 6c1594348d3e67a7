"""The side-by-side benchmark's engine part: end-to-end inference per image with every
engine segc's infer.py can run, against PaddleSeg's deploy script on the same exported
model, for one combination of each family in the zoo.

Per combination: export.py writes the Paddle program and model.onnx (at 512x1024 where
paddle2onnx needs a fixed input size) and, with --int8, model_int8.onnx (NNCF,
calibrated on the benchmark's synthetic training scenes). Then each round runs, each in a
fresh process, segc's infer.py functions on Paddle Inference (oneDNN), onnxruntime and
OpenVINO (float32, then int8), and PaddleSeg's deploy/python/infer.py Predictor with
oneDNN on and with its CPU default (oneDNN off). The ratio that counts is segc's engine
against PaddleSeg's faster configuration: issue 12's target is <= 0.5.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
from pathlib import Path

from segc.bench.machine import load_average
from segc.bench.scripts import load_script

from .processes import run_json_child
from .report import ratio

# One combination of each family present: HRNet, ResNet-vd, the real-time nets, the
# U-Net family, the small human-segmentation nets.
ENGINE_COMBINATIONS = ("fcn_hrnet_w18", "deeplabv3p_resnet50_vd_os8", "pp_liteseg_stdc1",
                       "unet", "pp_humanseg_lite")
FLOAT_ENGINES = ("paddle", "onnxruntime", "openvino")
INT8_ENGINES = ("onnxruntime", "openvino")
# Where paddle2onnx needs a static input, the ONNX model is exported at the benchmark
# images' model input (1024x512 images); a multiple of every fixed-size model's step.
FIXED_ONNX_INPUT = (1, 3, 512, 1024)


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def export_for_engines(combination_dir: Path, export_dir: Path, calib_dir: Path,
                       int8: bool) -> dict:
    """Export the untrained model (speed does not depend on the weights) for every engine;
    what export.py said about it (its checks), and whether int8 was written."""
    spec = load_script(combination_dir / "export.py", f"engines_{combination_dir.name}").SPEC
    command = [sys.executable, str(combination_dir / "export.py"), "--save-dir",
               str(export_dir), "--engines", ",".join(FLOAT_ENGINES)]
    if spec.get("onnx_fixed_input"):
        command += ["--input-shape", *map(str, FIXED_ONNX_INPUT)]
    if int8:
        command += ["--quantize", "int8", "--calib-data", str(calib_dir), "--calib-count",
                    str(len(list(calib_dir.iterdir())))]
    if not (export_dir / "deploy.yaml").is_file():
        say(f"exporting {combination_dir.name} for {', '.join(FLOAT_ENGINES)}"
            f"{' and int8' if int8 else ''} ...")
        completed = subprocess.run(command, capture_output=True, text=True, check=False)
        if completed.returncode != 0:
            raise RuntimeError(f"{' '.join(command)}: exit {completed.returncode}\n"
                               + (completed.stdout + completed.stderr)[-3000:])
        (export_dir / "export_output.txt").write_text(completed.stdout)
    output = (export_dir / "export_output.txt").read_text()
    checks = [line for line in output.splitlines() if "check" in line and ":" in line]
    return {"checks": checks, "fixed_onnx_input": bool(spec.get("onnx_fixed_input")),
            "int8": (export_dir / "model_int8.onnx").is_file()}


def calibration_folder(s: dict, work: Path) -> Path:
    """The int8 calibration images: the benchmark's 1024x512 test scenes (the size the
    models run at here), linked into a folder of their own."""
    folder = work / "calibration"
    folder.mkdir(exist_ok=True)
    for image in s["images"]:
        link = folder / Path(image).name
        if not link.exists():
            link.symlink_to(Path(image).resolve())
    return folder


def impls_for(exported: dict) -> list[tuple[str, dict]]:
    """(label, child settings) of each side measured: segc's engines, then PaddleSeg's
    deploy script with oneDNN on and off."""
    sides = [(f"segc {engine}", {"impl": "segc", "engine": engine}) for engine in FLOAT_ENGINES]
    if exported["int8"]:
        sides += [(f"segc {engine} int8", {"impl": "segc", "engine": engine,
                                           "onnx_file": "model_int8.onnx"})
                  for engine in INT8_ENGINES]
    sides += [("paddleseg", {"impl": "paddleseg"}),
              ("paddleseg_default", {"impl": "paddleseg_default"})]
    return sides


def measure_engines(s: dict, work: Path, rounds: int, combinations: list[str],
                    generated: Path, int8: bool, machine: dict) -> tuple[dict, dict]:
    """Every combination's end-to-end milliseconds per image on each side, the medians
    of `rounds` alternating rounds; the ratio of each segc engine to PaddleSeg's faster
    configuration. `machine` (the run's environment) is recorded with the part, which
    may be measured on another day than the page's other parts (--update)."""
    part = {"combinations": {}, "int8": int8, "fixed_onnx_input": list(FIXED_ONNX_INPUT),
            "environment": machine, "cpu_threads": s["cpu_threads"], "runs": s["runs"]}
    best_ratios = {}
    for combination in combinations:
        combination_dir = generated / combination
        export_dir = work / f"engines_{combination}"
        exported = export_for_engines(combination_dir, export_dir, calibration_folder(s, work),
                                      int8)
        sides = impls_for(exported)
        runs = {label: [] for label, _ in sides}
        for round_index in range(rounds):
            for label, side in sides:
                say(f"{combination}, round {round_index + 1}/{rounds}: {label} ...")
                onnx_file = side.get("onnx_file")
                settings = dict(s, combination_dir=str(combination_dir.resolve()),
                                export_dir=str(export_dir), engine=side.get("engine", "paddle"),
                                onnx_file=str(export_dir / onnx_file) if onnx_file else None)
                tag = f"engines_{combination}_{label.replace(' ', '_')}_{round_index}"
                runs[label].append(run_json_child("infer", side["impl"], settings, work, tag))
        figures = {}
        for label, done in runs.items():
            figures[label] = {
                "total_ms": round(statistics.median(r["ms"]["total"]["median"] for r in done), 2),
                "model_ms": round(statistics.median(r["ms"]["inference"]["median"]
                                                    for r in done), 2),
                "peak_rss_mib": max(r["process"]["peak_rss_mib"] for r in done),
            }
        paddleseg_best = min(("paddleseg", "paddleseg_default"),
                             key=lambda label: figures[label]["total_ms"])
        for label, values in figures.items():
            if label.startswith("segc"):
                values["ratio_to_paddleseg_best"] = ratio(
                    values["total_ms"], figures[paddleseg_best]["total_ms"])
        fastest = min((label for label in figures if label.startswith("segc")),
                      key=lambda label: figures[label]["total_ms"])
        fastest_float = min((f"segc {engine}" for engine in FLOAT_ENGINES),
                            key=lambda label: figures[label]["total_ms"])
        part["combinations"][combination] = {
            "figures": figures, "paddleseg_best": paddleseg_best, "segc_fastest": fastest,
            "segc_fastest_float": fastest_float, "export": exported}
        best_ratios[combination] = figures[fastest]["ratio_to_paddleseg_best"]
        say(f"  {combination}: " + ", ".join(f"{label} {v['total_ms']:.1f} ms"
                                             for label, v in figures.items()))
    part["environment"]["load_average_end"] = load_average()
    return part, {"e2e_inference_best_engine": max(best_ratios.values(), default=None)}
