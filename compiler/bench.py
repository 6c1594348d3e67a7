"""`segc bench`: measure every generated combination (or some) on this machine and device.

For each combination, in a fresh worker process (so one model's memory, oneDNN caches
and threads never colour the next one's figures, and a crash loses one entry only):

1. parameters (total, and eval-mode as paddle.flops counts them) and FLOPs at the
   input shape (1x3x512x1024 by default) with paddle.flops' conventions;
2. export through the generated export.py, as a user runs it (its own check included);
3. Paddle Inference at batch 1 through the generated infer.py's functions: a warm-up,
   then `runs` timed runs of read, preprocess, inference and postprocess (median and
   spread of each, wall-clock and CPU time).

The entries go into one results file (see bench_results.py for its schema), merged by
combination; then docs/model_zoo.md and its three charts are regenerated from that file
alone (`--report-only` does just that step). Nothing heavy is imported until it runs.
"""

from __future__ import annotations

import datetime
import hashlib
import importlib.util
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from . import __version__
from .bench_results import (
    DEFAULT_RESULTS,
    LATENCY_STAGES,
    ResultsError,
    load_results,
    merge_entries,
    save_results,
)
from .diagnostics import UsageError
from .model_figures import update_figures

DEFAULT_DOCS = Path("docs")
SCRIPTS = ("train.py", "export.py", "infer.py")


# ---- the command (parent process) -------------------------------------------------

def find_combinations(generated: Path, names: list[str]) -> list[Path]:
    """Folders of the named combinations (all of them when `names` is empty), sorted."""
    if not generated.is_dir():
        raise UsageError(f"{generated}: no such folder; run `segc compile --all` first")
    available = {p.name: p for p in sorted(generated.iterdir())
                 if all((p / s).is_file() for s in SCRIPTS)}
    if not names:
        if not available:
            raise UsageError(f"{generated}: no compiled combinations in it")
        return list(available.values())
    unknown = [n for n in names if n not in available]
    if unknown:
        raise UsageError(f"unknown combination(s) {', '.join(unknown)} in {generated}; "
                         "`segc list` shows them")
    return [available[n] for n in dict.fromkeys(names)]


def format_seconds(seconds: float) -> str:
    seconds = round(seconds)
    return f"{seconds // 60}:{seconds % 60:02d}" if seconds < 3600 else \
        f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def run_bench(args) -> int:
    results_path = Path(args.results)
    docs = Path(args.docs)
    if args.report_only:
        try:
            results = load_results(results_path)
        except ResultsError as exc:
            raise UsageError(str(exc)) from None
        write_figures(args.zoo, list(results["entries"].values()))
        return write_report(results, docs, args.results)

    if args.runs < 1 or args.warmup < 0:
        raise UsageError("--runs must be >= 1 and --warmup >= 0")
    if args.cpu_threads is not None and args.cpu_threads < 1:
        raise UsageError("--cpu-threads must be >= 1")
    try:
        results = load_results(results_path, missing_ok=True)
    except ResultsError as exc:
        raise UsageError(f"{exc}; fix or remove it first") from None
    folders = find_combinations(Path(args.generated), args.combinations)
    settings = {
        "device": args.device,
        "cpu_threads": args.cpu_threads or os.cpu_count() or 1,
        "onednn": not args.no_onednn,
        "input_shape": [1, 3, args.input_size[1], args.input_size[0]],
        "warmup": args.warmup,
        "runs": args.runs,
        "flops": not args.no_flops,
        "latency": not args.no_latency,
        "onnx": args.onnx,
    }
    steps = [s for s, on in (("FLOPs", settings["flops"]), ("export + latency",
                                                             settings["latency"])) if on]
    print(f"segc bench: {len(folders)} combination(s); {', '.join(steps) or 'parameters only'}"
          f"; {args.warmup} warm-up + {args.runs} timed runs at "
          f"{args.input_size[0]}x{args.input_size[1]}; results -> {results_path}", flush=True)
    started = time.perf_counter()
    failed = []
    for index, folder in enumerate(folders, start=1):
        print(f"[{index}/{len(folders)}] {folder.name}", flush=True)
        combo_start = time.perf_counter()
        entry, problem = run_worker(folder, settings, args.keep_exports)
        if entry is None:
            failed.append(folder.name)
            print(f"[{index}/{len(folders)}] {folder.name}: FAILED ({problem}); its previous "
                  "entry, if any, is kept", flush=True)
        else:
            # saved after each combination: an interrupted run keeps what it measured
            results = merge_entries(results, [entry])
            save_results(results_path, results)
            write_figures(args.zoo, [entry])
            if entry["errors"]:
                failed.append(folder.name)
            elapsed = time.perf_counter() - started
            eta = elapsed / index * (len(folders) - index)
            print(f"[{index}/{len(folders)}] {folder.name}: {summary_line(entry)} "
                  f"({format_seconds(time.perf_counter() - combo_start)}; elapsed "
                  f"{format_seconds(elapsed)}, eta {format_seconds(eta)})", flush=True)
    print(f"segc bench: measured {len(folders) - len(failed)}/{len(folders)} in "
          f"{format_seconds(time.perf_counter() - started)}; results in {results_path}")
    if not args.no_report:
        write_report(results, docs, args.results)
    if failed:
        print(f"segc bench: problems with {', '.join(failed)} (see the errors above and in "
              "the results file)", file=sys.stderr)
        return 1
    return 0


def summary_line(entry: dict) -> str:
    parts = [f"params {entry['params']['total'] / 1e6:.2f} M"]
    if entry["flops"]:
        parts.append(f"{entry['flops']['gflops']:.2f} GFLOPs")
    latency = entry["latency_ms"]
    if latency:
        parts.append(f"inference {latency['inference']['median']:.1f} ms "
                     f"(p10-p90 {latency['inference']['p10']:.1f}-"
                     f"{latency['inference']['p90']:.1f}), preprocess "
                     f"{latency['preprocess']['median']:.2f} ms, postprocess "
                     f"{latency['postprocess']['median']:.2f} ms")
    if entry.get("onnx_latency_ms"):
        parts.append(f"onnxruntime {entry['onnx_latency_ms']['median']:.1f} ms")
    parts += [f"ERROR {e}" for e in entry["errors"]]
    return ", ".join(parts)


def run_worker(folder: Path, settings: dict, keep_exports) -> tuple[dict | None, str]:
    """Measure one combination in a child process; (entry, '') or (None, why not)."""
    with tempfile.TemporaryDirectory(prefix="segc-bench-") as tmp:
        out = Path(tmp) / "entry.json"
        export_dir = (Path(keep_exports).resolve() / folder.name if keep_exports
                      else Path(tmp) / "export")
        command = [sys.executable, "-m", "segc.bench", "--worker", str(folder.resolve()),
                   str(out), str(export_dir), json.dumps(settings)]
        completed = subprocess.run(command, cwd=tmp, check=False)
        if completed.returncode != 0 or not out.is_file():
            return None, f"worker exit code {completed.returncode}"
        return json.loads(out.read_text(encoding="utf-8")), ""


def write_figures(zoo: str | None, entries: list[dict]) -> None:
    """Record the entries' parameters and GFLOPs for the model cards in the zoo's
    measured.json (./zoo_specs unless --zoo names another; none outside a project)."""
    folder = Path(zoo) if zoo else Path("zoo_specs")
    if not folder.is_dir():
        return
    written = update_figures(folder, entries)
    if written:
        print(f"segc bench: model-card figures updated in {written}; run `segc compile --all`"
              " to put them in the model cards", flush=True)


def write_report(results: dict, docs: Path, source: str) -> int:
    from .zoo_page import write_zoo_page

    written = write_zoo_page(results, docs, source)
    print(f"segc bench: wrote {', '.join(str(p) for p in written)}")
    return 0


def add_parser(sub) -> None:
    p = sub.add_parser(
        "bench", help="measure params, GFLOPs, export and inference latency of compiled "
        "combinations; regenerate docs/model_zoo.md and its charts",
        description="Measure every compiled combination (or those named) on this machine: "
        "parameters, GFLOPs (paddle.flops conventions), export through export.py and Paddle "
        "Inference latency through infer.py at batch 1. Results are merged into one JSON "
        "file, from which docs/model_zoo.md and three charts are regenerated.")
    p.add_argument("combinations", nargs="*", metavar="COMBINATION",
                   help="combinations to measure (default: every one in --generated)")
    p.add_argument("--generated", default="generated",
                   help="folder of compiled combinations (default: %(default)s)")
    p.add_argument("--results", default=str(DEFAULT_RESULTS),
                   help="results file to update (default: %(default)s)")
    p.add_argument("--docs", default=str(DEFAULT_DOCS),
                   help="where model_zoo.md and its charts go (default: %(default)s)")
    p.add_argument("--zoo", help="zoo folder whose measured.json receives the model-card "
                   "figures (default: ./zoo_specs when it exists, else none)")
    p.add_argument("--report-only", action="store_true",
                   help="measure nothing: regenerate the zoo page and charts from --results")
    p.add_argument("--no-report", action="store_true",
                   help="update --results only, leave the zoo page alone")
    p.add_argument("--device", choices=("auto", "cpu", "gpu"), default="auto",
                   help="where the model runs (default: gpu when Paddle has CUDA and sees "
                   "one, else cpu)")
    p.add_argument("--cpu-threads", type=int, default=None,
                   help="Paddle Inference CPU threads (default: all cores)")
    p.add_argument("--no-onednn", action="store_true", help="CPU inference without oneDNN")
    p.add_argument("--input-size", type=int, nargs=2, default=(1024, 512), metavar=("W", "H"),
                   help="FLOPs and latency input (default: 1024 512, the seed's)")
    p.add_argument("--warmup", type=int, default=3,
                   help="untimed runs before timing (default: %(default)s)")
    p.add_argument("--runs", type=int, default=10,
                   help="timed runs per combination (default: %(default)s)")
    p.add_argument("--no-flops", action="store_true", help="skip the FLOPs count (~45 s for "
                   "a ResNet101 model on 2 cores)")
    p.add_argument("--no-latency", action="store_true", help="skip export and inference")
    p.add_argument("--onnx", action="store_true",
                   help="also export with --onnx and time onnxruntime (needs the onnx extra)")
    p.add_argument("--keep-exports", metavar="DIR",
                   help="keep each exported model in DIR/<combination> (default: a temporary "
                   "folder)")
    p.set_defaults(func=run_bench)


# ---- the worker (child process) ---------------------------------------------------

def load_script(path: Path, name: str):
    """Import a generated script by path (it runs nothing on import)."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def progress(message: str) -> None:
    print(f"    {message}", file=sys.stderr, flush=True)


def stats(wall_ms: list[float], cpu_ms: list[float]) -> dict:
    """Median and spread of one stage's timed runs."""
    ordered = sorted(wall_ms)

    def percentile(q):
        position = (len(ordered) - 1) * q
        low = int(position)
        high = min(low + 1, len(ordered) - 1)
        return ordered[low] + (ordered[high] - ordered[low]) * (position - low)

    return {
        "runs": len(wall_ms),
        "median": round(statistics.median(wall_ms), 4),
        "mean": round(statistics.fmean(wall_ms), 4),
        "min": round(ordered[0], 4),
        "max": round(ordered[-1], 4),
        "p10": round(percentile(0.1), 4),
        "p90": round(percentile(0.9), 4),
        "stdev": round(statistics.stdev(wall_ms), 4) if len(wall_ms) > 1 else 0.0,
        "cpu_median": round(statistics.median(cpu_ms), 4),
    }


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def memory_gib() -> float | None:
    try:
        with open("/proc/meminfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return round(int(line.split()[1]) / 2 ** 20, 1)
    except OSError:
        pass
    return None


def module_version(name: str) -> str | None:
    try:
        from importlib.metadata import version

        return version(name)
    except Exception:  # noqa: BLE001 - absent or unreadable: simply unknown
        return None


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
        "load_average": [round(v, 2) for v in os.getloadavg()] if hasattr(os, "getloadavg")
        else [],
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


def run_export(folder: Path, export_dir: Path, onnx: bool) -> dict:
    """Run the generated export.py as a user does; its seconds and its checks."""
    command = [sys.executable, str(folder / "export.py"), "--save-dir", str(export_dir)]
    if onnx:
        command.append("--onnx")
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


def time_stages(stages, warmup: int, runs: int):
    """Run the stage callables in order warmup + runs times, each stage's output feeding
    the next; per stage, the wall-clock and CPU milliseconds of the timed runs."""
    wall = [[] for _ in stages]
    cpu = [[] for _ in stages]
    for run in range(warmup + runs):
        value = None
        for index, stage in enumerate(stages):
            wall_start, cpu_start = time.perf_counter(), time.process_time()
            value = stage(value)
            if run >= warmup:
                wall[index].append((time.perf_counter() - wall_start) * 1000)
                cpu[index].append((time.process_time() - cpu_start) * 1000)
    return [stats(w, c) for w, c in zip(wall, cpu)]


def measure_latency(infer, export_dir: Path, image_path: Path, settings: dict, device: str):
    config = infer.load_deploy_config(str(export_dir))
    predictor = infer.create_inference_predictor(
        config["model_file"], config["params_file"], device, settings["cpu_threads"],
        settings["onednn"])
    scale, shift = infer.infer_normalize_coefficients(config["mean"], config["std"])
    size = {}

    def read(_):
        image = infer.read_infer_image(str(image_path))
        size["wh"] = (image.shape[1], image.shape[0])
        return image

    stages = [
        read,
        lambda image: infer.infer_preprocess(image, scale, shift, config["resize"]),
        lambda batch: infer.run_inference_predictor(predictor, batch),
        lambda output: infer.infer_postprocess(output, size["wh"]),
    ]
    return dict(zip(LATENCY_STAGES, time_stages(stages, settings["warmup"], settings["runs"])))


def measure_onnx_latency(infer, export_dir: Path, image, settings: dict, device: str):
    config = infer.load_deploy_config(str(export_dir))
    session = infer.create_onnx_session(str(export_dir / "model.onnx"), device,
                                        settings["cpu_threads"])
    scale, shift = infer.infer_normalize_coefficients(config["mean"], config["std"])
    batch = infer.infer_preprocess(image, scale, shift, config["resize"])
    [result] = time_stages([lambda _: infer.run_onnx_session(session, batch)],
                           settings["warmup"], settings["runs"])
    return result


def measure(folder: Path, export_dir: Path, settings: dict) -> dict:
    """The results entry of one combination (errors recorded per step, not raised)."""
    import cv2
    import paddle

    from .measure import paddle_flops

    device = resolve_device(settings["device"])
    paddle.set_device(device)
    env = environment(device)
    errors = []
    train = load_script(folder / "train.py", f"segc_bench_{folder.name}_train")
    spec = train.SPEC
    input_shape = list(settings["input_shape"])
    entry = {
        "combination": folder.name,
        "arch": spec.get("title", spec.get("arch", folder.name)),
        "backbone": spec.get("backbone", ""),
        "spec_file": spec.get("spec_file", ""),
        "measured_at": datetime.datetime.now(datetime.timezone.utc).isoformat(
            timespec="seconds").replace("+00:00", "Z"),
        "segc_version": __version__,
        "scripts_sha256": {s: hashlib.sha256((folder / s).read_bytes()).hexdigest()
                           for s in SCRIPTS},
        "environment": env,
        "settings": {"device": device,
                     "cpu_threads": settings["cpu_threads"] if device == "cpu" else None,
                     "onednn": settings["onednn"] if device == "cpu" else False,
                     "input_shape": input_shape, "warmup": settings["warmup"],
                     "runs": settings["runs"],
                     "output_op": spec.get("export", {}).get("output_op", "argmax")},
        "params": {"total": 0, "eval": None},
        "flops": None,
        "export": None,
        "latency_ms": None,
        "onnx_latency_ms": None,
        "reference": dict(spec.get("reference") or {}),
        "errors": errors,
    }
    model = train.build_model()
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

    if settings["latency"]:
        try:
            progress("export.py ...")
            entry["export"] = run_export(folder, export_dir, settings["onnx"])
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
        if settings["onnx"]:
            try:
                progress("onnxruntime ...")
                entry["onnx_latency_ms"] = measure_onnx_latency(infer, export_dir, image,
                                                                settings, device)
            except (Exception, SystemExit) as exc:  # noqa: BLE001 - fail() exits
                errors.append(f"onnx: {type(exc).__name__}: {exc}")
    return entry


def worker_main(argv: list[str]) -> int:
    folder, out, export_dir, settings = argv
    entry = measure(Path(folder), Path(export_dir), json.loads(settings))
    Path(out).write_text(json.dumps(entry), encoding="utf-8")
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "--worker":
        sys.exit(worker_main(sys.argv[2:]))
    sys.exit("usage: segc bench ... (this module's entry point is the segc command)")
