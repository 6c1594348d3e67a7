"""What runs inside `segc bench`'s per-combination process: export, FLOPs, latency.

The runner (segc.bench.runner) starts one such process per combination, as
`python -m segc.bench --worker FOLDER OUT EXPORT_DIR SETTINGS` (see __main__.py), so
that one model's memory, oneDNN caches and threads never colour the next one's
figures, and a crash loses one entry only. It writes the combination's results entry
(see segc.bench.results for its schema) as JSON to OUT:

1. parameters (total, and eval-mode as paddle.flops counts them) and FLOPs at the
   input shape with paddle.flops' conventions;
2. export through the generated export.py, as a user runs it (its own check included);
3. Paddle Inference at batch 1 through the generated infer.py's functions: a warm-up,
   then `runs` timed runs of read, preprocess, inference and postprocess (median and
   spread of each, wall-clock and CPU time).
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

from .. import __version__
from .machine import cpu_model, load_average, memory_gib, module_version, utc_timestamp
from .results import LATENCY_STAGES
from .scripts import GENERATED_SCRIPTS, load_script
from .timing import time_stages


def progress(message: str) -> None:
    print(f"    {message}", file=sys.stderr, flush=True)


def environment(device: str) -> dict:
    import cv2
    import numpy as np
    import paddle

    gpu_name = None
    if device == "gpu":
        gpu_name = paddle.device.cuda.get_device_name()
    return {
        "platform": platform.platform(),
        "cpu_model": cpu_model(),
        "logical_cpus": os.cpu_count() or 1,
        "memory_gib": memory_gib(),
        "python": platform.python_version(),
        "paddle": paddle.__version__,
        "paddle_commit": getattr(paddle.version, "commit", None),
        "paddle_cuda": bool(paddle.is_compiled_with_cuda()),
        "device": gpu_name or "cpu",
        "numpy": np.__version__,
        "opencv": cv2.__version__,
        "onnxruntime": module_version("onnxruntime"),
        "paddle2onnx": module_version("paddle2onnx"),
        "load_average": load_average(),
    }


def resolve_device(requested: str) -> str:
    import paddle

    if requested != "auto":
        if requested == "gpu" and not paddle.is_compiled_with_cuda():
            raise RuntimeError("--device gpu: this Paddle is built without CUDA")
        return requested
    if paddle.is_compiled_with_cuda() and paddle.device.cuda.device_count() > 0:
        return "gpu"
    return "cpu"


def bench_image(width: int, height: int):
    """A deterministic BGR street-like test image: smooth regions, edges and sensor noise,
    so that PNG decoding costs about what a photo of that size does."""
    import cv2
    import numpy as np

    rng = np.random.default_rng(0)
    small = rng.integers(0, 256, (max(height // 32, 2), max(width // 32, 2), 3), np.uint8)
    image = cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC).astype(np.float32)
    image += rng.normal(0, 6, image.shape).astype(np.float32)
    return np.clip(image, 0, 255).astype(np.uint8)


def run_export(folder: Path, export_dir: Path, engines: list[str],
               input_shape: list[int] | None = None) -> dict:
    """Run the generated export.py as a user does, for `engines` (at a static
    `input_shape` when given); its seconds and its checks."""
    command = [sys.executable, str(folder / "export.py"), "--save-dir", str(export_dir),
               "--engines", ",".join(engines)]
    if input_shape:
        command += ["--input-shape", *map(str, input_shape)]
    start = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    output = completed.stdout + completed.stderr
    if completed.returncode != 0:
        last = [line for line in output.splitlines() if line.strip()][-3:]
        raise RuntimeError(f"export.py exit code {completed.returncode}: {' | '.join(last)}")
    check = re.search(r"^export check \([^)]*\): (.*)$", completed.stdout, re.MULTILINE)
    onnx_check = re.search(r"^onnx check \([^)]*\): (.*)$", completed.stdout, re.MULTILINE)
    return {"seconds": round(seconds, 2), "check": check.group(1) if check else "",
            "onnx_check": onnx_check.group(1) if onnx_check else None}


def measure_latency(infer, export_dir: Path, image_path: Path, settings: dict, device: str):
    config = infer.load_deploy_config(str(export_dir))
    predictor = infer.create_inference_predictor(
        config["model_file"], config["params_file"], device, settings["cpu_threads"],
        settings["onednn"])
    scale, shift = infer.infer_normalize_coefficients(config["mean"], config["std"])
    size = {}

    def read(_):
        image = infer.read_image_file(str(image_path))
        size["wh"] = (image.shape[1], image.shape[0])
        return image

    stages = [
        read,
        lambda image: infer.infer_preprocess(image, scale, shift, config["resize"]),
        lambda batch: infer.run_inference_predictor(predictor, batch),
        lambda output: infer.infer_postprocess(output, size["wh"]),
    ]
    return dict(zip(LATENCY_STAGES, time_stages(stages, settings["warmup"], settings["runs"])))


def measure_engine_latency(infer, export_dir: Path, image, settings: dict, device: str,
                           engine_name: str):
    """The model run alone on one of infer.py's engines (as infer.py --engine loads it),
    on the preprocessed bench image."""
    config = infer.load_deploy_config(str(export_dir))
    engine = infer.load_engine(
        engine_name, config, infer.default_onnx_file(config),
        infer.engine_settings(device, settings["cpu_threads"], settings["onednn"]))
    scale, shift = infer.infer_normalize_coefficients(config["mean"], config["std"])
    batch = infer.infer_preprocess(image, scale, shift, config["resize"])
    [result] = time_stages([lambda _: engine.run(batch)], settings["warmup"], settings["runs"])
    return result


def export_engines(folder: Path, engines: list[str], input_shape: list[int],
                   errors: list[str]) -> tuple[list[str], list[int] | None]:
    """The engines to export for, and the static input shape to export at: a model whose
    ONNX conversion needs a fixed size (its export.py SPEC's onnx_fixed_input) gets the
    bench's input shape when both sides are multiples of its step; otherwise its ONNX
    engines are left out, with the reason among the entry's errors."""
    fixed = load_script(folder / "export.py", f"segc_bench_{folder.name}_export").SPEC.get(
        "onnx_fixed_input")
    if not fixed or engines == ["paddle"]:
        return engines, None
    multiple = fixed["multiple"]
    if all(side % multiple == 0 for side in input_shape[2:]):
        return engines, input_shape
    errors.append(f"engines: {', '.join(e for e in engines if e != 'paddle')} left out: "
                  f"ONNX needs both sides multiples of {multiple} for this model")
    return ["paddle"], None


def measure(folder: Path, export_dir: Path, settings: dict) -> dict:
    """The results entry of one combination (errors recorded per step, not raised)."""
    import cv2
    import paddle

    from .flops import paddle_flops

    device = resolve_device(settings["device"])
    paddle.set_device(device)
    env = environment(device)
    errors = []
    model_module = load_script(folder / "model.py", f"segc_bench_{folder.name}_model")
    about = settings.get("about") or {}  # what the runner knows of it from the zoo's specs
    input_shape = list(settings["input_shape"])
    entry = {
        "combination": folder.name,
        "arch": about.get("arch", folder.name),
        "backbone": about.get("backbone") or "",
        "spec_file": about.get("spec_file", ""),
        "measured_at": utc_timestamp(),
        "segc_version": __version__,
        "scripts_sha256": {s: hashlib.sha256((folder / s).read_bytes()).hexdigest()
                           for s in GENERATED_SCRIPTS},
        "environment": env,
        "settings": {"device": device,
                     "cpu_threads": settings["cpu_threads"] if device == "cpu" else None,
                     "onednn": settings["onednn"] if device == "cpu" else False,
                     "input_shape": input_shape, "warmup": settings["warmup"],
                     "runs": settings["runs"],
                     "output_op": about.get("output_op", "argmax"),
                     "engines": settings["engines"]},
        "params": {"total": 0, "eval": None},
        "flops": None,
        "export": None,
        "latency_ms": None,
        "engine_latency_ms": None,
        "reference": dict(about.get("reference") or {}),
        "errors": errors,
    }
    model = model_module.build_model()
    entry["params"]["total"] = int(sum(int(p.numel()) for p in model.parameters()))
    progress(f"parameters: {entry['params']['total'] / 1e6:.2f} M")
    if settings["flops"]:
        start = time.perf_counter()
        try:
            flops, eval_params = paddle_flops(model.eval(), tuple(input_shape))
            entry["flops"] = {"flops": flops, "gflops": round(flops / 1e9, 4)}
            entry["params"]["eval"] = eval_params
            progress(f"FLOPs: {flops / 1e9:.2f} G, eval params {eval_params / 1e6:.2f} M "
                     f"({time.perf_counter() - start:.0f} s)")
        except Exception as exc:  # noqa: BLE001 - recorded, the other steps still run
            errors.append(f"flops: {type(exc).__name__}: {exc}")
    del model

    engines, static_shape = export_engines(folder, settings["engines"], input_shape, errors)
    if settings["latency"]:
        try:
            progress("export.py ...")
            entry["export"] = run_export(folder, export_dir, engines, static_shape)
            progress(f"exported in {entry['export']['seconds']:.0f} s; "
                     f"{entry['export']['check']}")
        except Exception as exc:  # noqa: BLE001
            errors.append(f"export: {exc}")
    if entry["export"] is not None:
        infer = load_script(folder / "infer.py", f"segc_bench_{folder.name}_infer")
        height, width = input_shape[2:]
        image = bench_image(width, height)
        image_path = export_dir.parent / f"bench_{width}x{height}.png"
        cv2.imwrite(str(image_path), image)
        try:
            progress(f"Paddle Inference on {device}: {settings['warmup']} warm-up + "
                     f"{settings['runs']} timed runs ...")
            entry["latency_ms"] = measure_latency(infer, export_dir, image_path, settings,
                                                  device)
        except Exception as exc:  # noqa: BLE001
            errors.append(f"latency: {type(exc).__name__}: {exc}")
        for engine in engines:
            try:
                progress(f"the model run on {engine} ...")
                latency = measure_engine_latency(infer, export_dir, image, settings, device,
                                                 engine)
                entry["engine_latency_ms"] = (entry["engine_latency_ms"] or {}) | {
                    engine: latency}
            except (Exception, SystemExit) as exc:  # noqa: BLE001 - fail() exits
                errors.append(f"{engine}: {type(exc).__name__}: {exc}")
    return entry


def worker_main(argv: list[str]) -> int:
    folder, out, export_dir, settings = argv
    entry = measure(Path(folder), Path(export_dir), json.loads(settings))
    Path(out).write_text(json.dumps(entry), encoding="utf-8")
    return 0

