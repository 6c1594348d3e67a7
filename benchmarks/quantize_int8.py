"""int8 post-training quantization (export.py --quantize int8): accuracy kept, latency gained.

    python benchmarks/quantize_int8.py                  # everything, about 25 min on 2 cores
    python benchmarks/quantize_int8.py --runs 20        # more timed runs per model and engine
    python benchmarks/quantize_int8.py --skip-deeplab   # without the large random-weight model
    python benchmarks/quantize_int8.py --report-only    # the markdown from the results file

Needs the int8 extra and OpenVINO (pip install -e .[int8] openvino). For each model:

- mIoU on the demo validation set (8 images, 512x256), float ONNX vs int8 ONNX, on each
  engine, with the generated infer.py's preprocessing and postprocessing and train.py's
  metrics. PP-LiteSeg (STDC1) trained as `segc demo` trains it (100 iterations) and
  FCN (HRNet-W18) trained on the same data for --hrnet-iters (150); both exported and
  quantized by their generated export.py with --calib-data demo (the 32 training images).
  A drop of more than 1 point is flagged.
- Latency at 1x3x512x1024 with --threads (2) threads: onnxruntime, OpenVINO as it runs by
  default (on a CPU with AMX or AVX512-BF16 it runs a float model in bfloat16) and
  OpenVINO held to float32 (INFERENCE_PRECISION_HINT f32). Float and int8 runs alternate,
  so both see the same load; the median of --runs each, and their ratio from this run.
  Then the exported Paddle model on Paddle Inference (oneDNN, as infer.py runs it, and
  as PaddleSeg's deploy script does) alternating with OpenVINO's int8 run: int8 against
  the deploy path of PaddleSeg users, model time only.
  PP-LiteSeg's ONNX needs a fixed input (multiples of 128), so it is exported and
  quantized again at 512x1024; DeepLabV3+ (ResNet50-vd, output stride 8) is timed with
  random weights (its latency does not depend on them).

Trained models and exports are kept in --workdir and reused by a rerun (delete it to
start over), so a re-measurement on an idle machine takes the latency part only.
Writes benchmarks/results/quantize_int8.json and quantize_int8.md (a section for
docs/vs_paddleseg.md).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
GENERATED = REPO / "generated"
RESULTS = REPO / "benchmarks" / "results"
LATENCY_SHAPE = (1, 3, 512, 1024)
MAX_MIOU_DROP = 0.01  # a point of mIoU

# name, combination, training iterations (None: untrained), export shape for mIoU (None:
# dynamic) and for latency
MODELS = {
    "pp_liteseg_stdc1": {"iters": 100, "eval_shape": (1, 3, 256, 512), "fixed": True},
    "fcn_hrnet_w18": {"iters": 150, "eval_shape": None, "fixed": False},
    "deeplabv3p_resnet50_vd_os8": {"iters": None, "eval_shape": None, "fixed": False},
}


def run(command, cwd, log):
    """Run a generated script; stop with its output's tail when it fails."""
    started = time.perf_counter()
    completed = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    Path(log).write_text(completed.stdout + completed.stderr, encoding="utf-8")
    if completed.returncode != 0:
        sys.exit(
            f"failed: {' '.join(map(str, command))}\n{(completed.stdout + completed.stderr)[-3000:]}"
        )
    return time.perf_counter() - started, completed.stdout


def load_generated(combination, script):
    """A generated script as a module (train.py imports its sibling model.py)."""
    folder = GENERATED / combination
    sys.path.insert(0, str(folder))
    try:
        spec = importlib.util.spec_from_file_location(
            f"q8_{combination}_{script[:-3]}", folder / script
        )
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(folder))
        sys.modules.pop("model", None)
    return module


def train(work, combination, iters):
    """The combination trained on the demo data as `segc demo` trains PP-LiteSeg; reused."""
    save_dir = work / f"train_{combination}"
    # PP-LiteSeg exactly as `segc demo` trains it (evaluated halfway and at the end, the
    # best kept); the others evaluated at the end only
    every = iters // 2 if combination == "pp_liteseg_stdc1" else iters
    if (save_dir / "best_model" / "model.pdparams").is_file():
        return save_dir, None
    command = [
        sys.executable,
        str(GENERATED / combination / "train.py"),
        "--data",
        "demo",
        "--iters",
        str(iters),
        "--batch-size",
        "4",
        "--crop-size",
        "256",
        "128",
        "--eval-interval",
        str(every),
        "--save-interval",
        str(every),
        "--log-interval",
        "10",
        "--num-workers",
        "2",
        "--seed",
        "0",
        "--save-dir",
        save_dir.name,
    ]
    seconds, _ = run(command, work, work / f"train_{combination}.log")
    return save_dir, seconds


def export(work, combination, weights, shape, name):
    """export.py --quantize int8 --calib-data demo; the folder and its quantization.json."""
    folder = work / name
    if not (folder / "quantization.json").is_file():
        command = [
            sys.executable,
            str(GENERATED / combination / "export.py"),
            "--save-dir",
            folder.name,
            "--quantize",
            "int8",
            "--calib-data",
            "demo",
        ]
        if weights is not None:
            command += ["--model-path", str(weights)]
        if shape is not None:
            command += ["--input-shape", *map(str, shape)]
        run(command, work, work / f"{name}.log")
    return folder, json.loads((folder / "quantization.json").read_text(encoding="utf-8"))


class Engines:
    """Sessions of one ONNX file on each engine, `threads` threads, one image at a time."""

    def __init__(self, threads):
        import onnxruntime
        import openvino

        self.onnxruntime, self.core, self.threads = onnxruntime, openvino.Core(), threads

    def open(self, onnx_file, engine):
        """A callable batch -> first output, and the precision the engine runs at."""
        if engine == "onnxruntime":
            options = self.onnxruntime.SessionOptions()
            options.intra_op_num_threads = self.threads
            options.inter_op_num_threads = 1
            options.log_severity_level = 3
            session = self.onnxruntime.InferenceSession(
                str(onnx_file), options, providers=["CPUExecutionProvider"]
            )
            name = session.get_inputs()[0].name
            return (lambda batch: session.run(None, {name: batch})[0]), "f32"
        config = {"INFERENCE_NUM_THREADS": self.threads, "PERFORMANCE_HINT": "LATENCY"}
        if engine == "openvino_f32":
            config["INFERENCE_PRECISION_HINT"] = "f32"
        compiled = self.core.compile_model(str(onnx_file), "CPU", config)
        request = compiled.create_infer_request()
        precision = compiled.get_property("INFERENCE_PRECISION_HINT").to_string()

        def infer(batch):
            return request.infer([batch])[0]

        return infer, precision


ENGINES = ("onnxruntime", "openvino", "openvino_f32")


def demo_miou(folder, combination, engines, work):
    """mIoU on the demo validation set of the float and the int8 model, per engine."""
    infer = load_generated(combination, "infer.py")
    metrics = load_generated(combination, "train.py")
    config = infer.load_deploy_config(str(folder))
    scale, shift = infer.infer_normalize_coefficients(config["mean"], config["std"])
    samples = []
    for line in (work / "demo_data" / "val.txt").read_text().splitlines():
        image_path, label_path = line.split()
        image = infer.read_image_file(str(work / "demo_data" / image_path))
        label = infer.read_image_file(str(work / "demo_data" / label_path), flags=0)
        batch = infer.infer_preprocess(
            image, scale, shift, config["resize"], config["padding"], config["scale_padding"]
        )
        samples.append((batch, label))
    num_classes = 5
    figures = {}
    for engine in ENGINES:
        for kind, name in (("float", "model.onnx"), ("int8", "model_int8.onnx")):
            model, _ = engines.open(folder / name, engine)
            confusion = np.zeros((num_classes, num_classes), dtype=np.int64)
            for batch, label in samples:
                size = (label.shape[1], label.shape[0])
                mask = infer.infer_postprocess(model(batch), size)
                confusion += metrics.confusion_matrix(mask, label, num_classes, 255)
            figures.setdefault(engine, {})[kind] = round(
                metrics.segmentation_metrics(confusion)["miou"], 4
            )
        figures[engine]["drop_points"] = round(
            100 * (figures[engine]["float"] - figures[engine]["int8"]), 2
        )
        figures[engine]["flag"] = figures[engine]["float"] - figures[engine]["int8"] > MAX_MIOU_DROP
    return figures


def latency(folder, combination, engines, runs, shape):
    """Median ms of float and int8 per engine, runs alternating, and their ratio; then
    Paddle Inference's float model (oneDNN, as infer.py runs it) alternating with
    OpenVINO's int8 one, the ratio against the deploy path PaddleSeg users have."""
    batch = np.random.default_rng(0).uniform(-1, 1, shape).astype(np.float32)
    figures = {}
    for engine in (*ENGINES, "paddle_inference"):
        # opened engine by engine, so that only two models are in memory at once
        if engine == "paddle_inference":
            models = {
                "float": paddle_inference(folder, combination, engines.threads),
                "int8": engines.open(folder / "model_int8.onnx", "openvino"),
            }
        else:
            models = {
                kind: engines.open(folder / name, engine)
                for kind, name in (("float", "model.onnx"), ("int8", "model_int8.onnx"))
            }
        times = timed_alternately(models, batch, runs)
        medians = {kind: statistics.median(values) for kind, values in times.items()}
        figures[engine] = {
            "float_ms": round(medians["float"], 1),
            "int8_ms": round(medians["int8"], 1),
            "int8_over_float": round(medians["int8"] / medians["float"], 3),
            "float_precision": models["float"][1],
        }
        if engine == "paddle_inference":
            figures[engine]["int8_engine"] = "openvino"
        print(
            f"  {engine}: float {medians['float']:.1f} ms, int8 {medians['int8']:.1f} ms",
            flush=True,
        )
        models.clear()
    return figures


def timed_alternately(models, batch, runs):
    """ms per run of each model, the models taking turns so that both see the same load."""
    for model, _ in models.values():
        model(batch)  # warm-up: first-run allocations and kernel selection
        model(batch)
    times = {kind: [] for kind in models}
    for _ in range(runs):
        for kind, (model, _) in models.items():
            started = time.perf_counter()
            model(batch)
            times[kind].append(1000 * (time.perf_counter() - started))
    return times


def paddle_inference(folder, combination, threads):
    """The exported Paddle model as the generated infer.py runs it (CPU, oneDNN)."""
    infer = load_generated(combination, "infer.py")
    config = infer.load_deploy_config(str(folder))
    predictor = infer.create_inference_predictor(
        config["model_file"], config["params_file"], "cpu", threads, True
    )
    return (lambda batch: infer.run_inference_predictor(predictor, batch)), "f32 (oneDNN)"


def machine():
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    cpu = platform.processor() or platform.machine()
    if Path("/proc/cpuinfo").is_file():
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {"cpu": cpu, "cores": os.cpu_count(), "load_average_at_start": load}


def measure(args):
    import nncf
    import onnxruntime
    import openvino

    work = Path(args.workdir).resolve()
    work.mkdir(parents=True, exist_ok=True)
    engines = Engines(args.threads)
    results = {
        "what": "export.py --quantize int8 (NNCF, QDQ ONNX): demo mIoU and latency, float vs int8",
        "machine": machine(),
        "threads": args.threads,
        "runs": args.runs,
        "latency_shape": list(LATENCY_SHAPE),
        "packages": {
            "nncf": nncf.__version__,
            "onnxruntime": onnxruntime.__version__,
            "openvino": openvino.__version__.split("-")[0],
        },
        "models": {},
    }
    for combination, setting in MODELS.items():
        if combination.startswith("deeplab") and args.skip_deeplab:
            continue
        print(f"{combination}", flush=True)
        entry = results["models"][combination] = {}
        weights = None
        if setting["iters"] is not None:
            iters = args.hrnet_iters if combination == "fcn_hrnet_w18" else setting["iters"]
            weights, seconds = train(work, combination, iters)
            entry["trained_iterations"] = iters
            if seconds is not None:
                entry["train_seconds"] = round(seconds, 1)
        else:
            entry["trained_iterations"] = 0
        if weights is not None:
            folder, record = export(
                work, combination, weights, setting["eval_shape"], f"export_{combination}"
            )
            entry["export_shape"] = setting["eval_shape"] or "dynamic"
            entry["check"] = record["check"]
            entry["miou"] = demo_miou(folder, combination, engines, work)
            print(f"  mIoU {entry['miou']}", flush=True)
        if setting["fixed"] or weights is None:
            folder, _ = export(
                work,
                combination,
                weights,
                LATENCY_SHAPE,
                f"export_{combination}_{LATENCY_SHAPE[2]}x{LATENCY_SHAPE[3]}",
            )
        runs = max(3, args.runs // 2) if combination.startswith("deeplab") else args.runs
        entry["latency_runs"] = runs
        entry["latency"] = latency(folder, combination, engines, runs, LATENCY_SHAPE)
    results["machine"]["load_average_at_end"] = (
        os.getloadavg() if hasattr(os, "getloadavg") else None
    )
    return results


def render_markdown(results):
    """The section for docs/vs_paddleseg.md, a pure function of the results."""
    shape = "x".join(map(str, results["latency_shape"]))
    load = results["machine"]
    lines = [
        "## int8 post-training quantization (`export.py --quantize int8`)",
        "",
        (
            "NNCF's ONNX backend quantizes the exported ONNX model (BatchNorm folded first, opset 13, "
            "preset `performance`) on 32 calibration images (the demo training set, preprocessed "
            "as infer.py does); the QDQ file `model_int8.onnx` runs in onnxruntime and OpenVINO. "
            f"`python benchmarks/quantize_int8.py` measured on {load['cpu']} ({load['cores']} cores), "
            f"{results['threads']} threads, load average {fmt_load(load)}: "
            "above the benchmark's own threads it means other work shared the CPU and the "
            "latencies are noisy; float and int8 runs alternate, so their ratio is fairer than "
            "either figure."
        ),
        "",
        (
            "mIoU on the demo validation set (8 images at 512x256; the same preprocessing, "
            "engine and metrics for both; a drop of more than 1 point is marked **DROP**):"
        ),
        "",
        "| model | trained | engine | float mIoU | int8 mIoU | change (points) | int8 vs float class maps (held-out) |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, entry in results["models"].items():
        for engine, figures in entry.get("miou", {}).items():
            change = -figures["drop_points"]
            mark = " **DROP**" if figures["flag"] else ""
            lines.append(
                f"| {name} | {entry['trained_iterations']} iterations | {engine} | "
                f"{figures['float']:.4f} | {figures['int8']:.4f} | {change:+.2f}{mark} | "
                f"{entry['check']['heldout_agreement']} |"
            )
    lines += [
        "",
        (
            f"Latency at {shape}, median of the runs (ms), int8 / float measured in the same run "
            "(openvino: the engine's default precision for the float model, `bf16` on a CPU with "
            "AMX; openvino_f32: held to float32; paddle_inference: the exported Paddle model with "
            "oneDNN, as infer.py runs it, against OpenVINO's int8 run):"
        ),
        "",
        "| model | engine | float precision | float ms | int8 ms | int8 / float | runs |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, entry in results["models"].items():
        for engine, figures in entry["latency"].items():
            lines.append(
                f"| {name} | {engine} | {figures['float_precision']} | {figures['float_ms']} | "
                f"{figures['int8_ms']} | {figures['int8_over_float']} | {entry['latency_runs']} |"
            )
    return "\n".join(lines) + "\n"


def fmt_load(machine):
    start, end = machine.get("load_average_at_start"), machine.get("load_average_at_end")
    if not start:
        return "unknown"
    text = f"{start[0]:.1f} at the start"
    return text + (f", {end[0]:.1f} at the end" if end else "")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--workdir",
        default=str(REPO / "benchmarks" / ".quantize_int8"),
        help="trained models and exports, reused by a rerun",
    )
    parser.add_argument("--runs", type=int, default=10, help="timed runs per model and engine")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--hrnet-iters", type=int, default=MODELS["fcn_hrnet_w18"]["iters"])
    parser.add_argument("--skip-deeplab", action="store_true")
    parser.add_argument("--report-only", action="store_true")
    args = parser.parse_args(argv)
    path = RESULTS / "quantize_int8.json"
    if args.report_only:
        results = json.loads(path.read_text(encoding="utf-8"))
    else:
        results = measure(args)
        path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    markdown = render_markdown(results)
    (RESULTS / "quantize_int8.md").write_text(markdown, encoding="utf-8")
    print(markdown)


if __name__ == "__main__":
    main()
