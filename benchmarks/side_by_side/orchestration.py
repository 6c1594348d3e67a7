"""The side-by-side benchmark's parent process: its arguments, the synthetic data, the
exported model, and the rounds of each part (segc's and PaddleSeg's children
alternating), merged into the results file and its page."""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from segc.bench.machine import cpu_model, load_average, memory_gib, module_version, utc_timestamp
from segc.bench.runner import describe_combinations
from segc.bench.scripts import load_script
from segc.bench.timing import distribution
from tests import oracle  # the repository root is on sys.path (vs_paddleseg.py)

from . import DESCRIPTION
from .engines import ENGINE_COMBINATIONS, measure_engines
from .locations import (
    CONFIGS_DEFAULT_HELP,
    DEFAULT_DOCS,
    DEFAULT_OUTPUT,
    REPO,
    configs_folder,
    find_config,
)
from .processes import child_command, run_child, run_json_child
from .report import TARGETS, display_path, ratio, render_markdown, verdict

OUR_LOG = re.compile(r"\[iter (\d+)/\d+\] loss (\S+) lr \S+ samples/s ([0-9.]+)")
PADDLESEG_LOG = re.compile(r"iter: (\d+)/\d+, loss: (\S+), lr: \S+, batch_cost: ([0-9.]+), "
                           r"reader_cost: ([0-9.]+)")


def say(message: str) -> None:
    print(message, flush=True)


def make_images(train_module, folder: Path, count: int, size: tuple[int, int], seed: int):
    """`count` street scenes of `size` (w, h) with labels, as PNG, via the generated
    train.py's demo-scene generator; the file list's lines. Kept between runs."""
    import cv2
    import numpy as np

    lines = []
    (folder / "images").mkdir(parents=True, exist_ok=True)
    (folder / "labels").mkdir(parents=True, exist_ok=True)
    train_module.DEMO_IMAGE_SIZE = size  # the generator reads it at call time
    rng = np.random.default_rng(seed)
    for index in range(count):
        image_name = f"images/scene_{size[0]}x{size[1]}_{index:02d}.png"
        label_name = f"labels/scene_{size[0]}x{size[1]}_{index:02d}.png"
        if not (folder / image_name).is_file() or not (folder / label_name).is_file():
            image, label = train_module.demo_scene(rng)
            cv2.imwrite(str(folder / label_name), label)
            cv2.imwrite(str(folder / image_name), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
        lines.append(f"{image_name} {label_name}")
    return lines


def environment():
    import cv2
    import numpy as np
    import paddle

    return {"cpu_model": cpu_model(), "logical_cpus": os.cpu_count(),
            "memory_gib": memory_gib(), "python": sys.version.split()[0],
            "paddle": paddle.__version__, "paddleseg": module_version("paddleseg"),
            "numpy": np.__version__, "opencv": cv2.__version__,
            "onnxruntime": module_version("onnxruntime"),
            "openvino": module_version("openvino"), "nncf": module_version("nncf"),
            "measured_at": utc_timestamp(), "load_average_start": load_average()}


def export_model(combination_dir: Path, export_dir: Path, engine: str = "paddle") -> None:
    """The untrained model exported for Paddle Inference and, for an ONNX engine (segc's
    side of --engine), with model.onnx too; an earlier export that has them is kept."""
    onnx = engine != "paddle"
    if (export_dir / "deploy.yaml").is_file() and (not onnx or (export_dir / "model.onnx").is_file()):
        return
    say(f"exporting {combination_dir.name} (untrained weights: speed does not depend on "
        "them) ...")
    subprocess.run([sys.executable, str(combination_dir / "export.py"), "--save-dir",
                    str(export_dir), "--engines", f"paddle,{engine}" if onnx else "paddle"],
                   check=True, capture_output=True)


def training_run(impl, s, work: Path, round_index: int) -> dict:
    """One training run of `iters` iterations; per-iteration seconds from its log."""
    save_dir = work / f"{impl}_train_{round_index}"
    if impl == "segc":
        command = [sys.executable, str(Path(s["combination_dir"]) / "train.py"),
                   "--data", s["data_root"], "--train-list", "train.txt", "--no-eval",
                   "--iters", str(s["iters"]), "--batch-size", str(s["batch_size"]),
                   "--crop-size", *map(str, s["crop_size"]),
                   "--num-workers", str(s["num_workers"]), "--log-interval", "1",
                   "--save-interval", str(s["iters"]), "--seed", "0",
                   "--save-dir", str(save_dir), "--device", s["device"]]
    else:
        command = child_command("paddleseg-train", "paddleseg", s,
                                work / f"paddleseg_train_{round_index}.json")
    result = run_child(command, work, work / f"{impl}_train_{round_index}.log",
                       timeout=s["train_timeout"])
    log = Path(result["log"]).read_text(errors="replace")
    if result["returncode"] != 0:
        raise RuntimeError(f"{impl} training failed (exit {result['returncode']}):\n"
                           + "\n".join(log.splitlines()[-15:]))
    pattern = OUR_LOG if impl == "segc" else PADDLESEG_LOG
    # Seconds per iteration from when each iteration's log line arrived (both sides log
    # every iteration): the same clock for both, finer than segc's 2-decimal samples/s
    arrived = {}
    for when, line in result.pop("lines"):
        match = pattern.search(line)
        if match:
            arrived[int(match[1])] = when
    timed = [arrived[k] - arrived[k - 1] for k in sorted(arrived)
             if k > s["train_warmup_iters"] and k - 1 in arrived]
    # what each side reports itself (segc: samples/s to 2 decimals; PaddleSeg: batch_cost)
    reported = {int(m[1]): (s["batch_size"] / float(m[3]) if impl == "segc" and float(m[3])
                            else float(m[3])) for m in pattern.finditer(log)}
    losses = [float(m[2]) for m in pattern.finditer(log)]
    if not timed:
        raise RuntimeError(f"{impl} training logged no iteration past the warm-up:\n"
                           + "\n".join(log.splitlines()[-15:]))
    return {"iteration_s": timed, "reported_iteration_s": [
        v for k, v in sorted(reported.items()) if k > s["train_warmup_iters"]],
        "losses": losses, "process": result}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=DESCRIPTION)
    parser.add_argument("--paddleseg-repo", type=Path,
                        help="a checkout of PaddleSeg's repository (for deploy/python/infer.py)")
    parser.add_argument("--paddleseg-configs", type=Path, default=None,
                        help=f"PaddleSeg's configs folder (default: {CONFIGS_DEFAULT_HELP})")
    parser.add_argument("--combination", default="fcn_hrnet_w18",
                        help="generated combination to compare (default: %(default)s, the "
                        "smallest model of the zoo)")
    parser.add_argument("--generated", type=Path, default=REPO / "generated")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir())
                        / "segc-vs-paddleseg", help="synthetic data and logs (kept)")
    parser.add_argument("--parts", default="preprocess,infer,data,train,breakdown,engines",
                        help="comma-separated subset of preprocess,infer,data,train,breakdown,"
                        "engines")
    parser.add_argument("--engine-combinations", default=",".join(ENGINE_COMBINATIONS),
                        help="the engines part's combinations (default: one of each family, "
                        "%(default)s)")
    parser.add_argument("--int8", action="store_true",
                        help="engines part: also int8 models (export.py --quantize int8, "
                        "which needs the int8 extra) on onnxruntime and OpenVINO")
    parser.add_argument("--device", choices=("cpu", "gpu"), default="cpu")
    parser.add_argument("--cpu-threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--engine", choices=("paddle", "onnxruntime", "openvino"),
                        default="paddle",
                        help="segc's engine for end-to-end inference (infer.py --engine; "
                        "PaddleSeg's side is always Paddle Inference; default: %(default)s)")
    parser.add_argument("--no-onednn", action="store_true",
                        help="both predictors without oneDNN (PaddleSeg's CPU default)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="alternating segc/PaddleSeg rounds per measurement")
    parser.add_argument("--infer-runs", type=int, default=10)
    parser.add_argument("--preprocess-runs", type=int, default=50)
    parser.add_argument("--data-samples", type=int, default=42,
                        help="samples per data-pipeline measurement (PaddleSeg's cost varies "
                        "with the drawn scale factor: several of each of the 7 are needed)")
    parser.add_argument("--batch-size", type=int, default=None,
                        help="training batch (default: the spec's, which is PaddleSeg's)")
    parser.add_argument("--crop-size", type=int, nargs=2, default=None, metavar=("W", "H"),
                        help="training crop (default: the spec's, which is PaddleSeg's)")
    parser.add_argument("--iters", type=int, default=12,
                        help="training iterations per run; the first 2 are not timed")
    parser.add_argument("--num-workers", type=int, default=0,
                        help="data-loading workers of both trainers (default 0: one process, "
                        "so the peak RSS is the whole run's)")
    parser.add_argument("--quick", action="store_true",
                        help="small settings that prove the benchmark works in minutes: "
                        "1 round, batch 1, 512x256 crops, 5 iterations, fewer runs")
    parser.add_argument("--docs", type=Path, default=DEFAULT_DOCS,
                        help="Markdown summary written beside the JSON (default: %(default)s)")
    parser.add_argument("--update", action="store_true",
                        help="keep the parts of --output that this run does not measure")
    parser.add_argument("--report-only", action="store_true",
                        help="measure nothing: rewrite --docs from --output")
    parser.add_argument("--child", nargs=4, metavar=("MODE", "IMPL", "SETTINGS", "OUT"),
                        help=argparse.SUPPRESS)
    return parser


# ---- the parts: each runs its children round by round and sums them up ---------------
# Each returns its entry of results["parts"] and the ratios it measured (see TARGETS).

def measure_preprocess(s: dict, work: Path) -> tuple[dict, dict]:
    say("preprocess: one 1024x512 image, segc's and PaddleSeg's alternating ...")
    pre = run_json_child("preprocess", "both", s, work, "preprocess")
    ms = pre["ms"]
    part = {
        "ms": ms, "max_abs_difference_segc_vs_paddleseg":
            pre["max_abs_difference_segc_vs_paddleseg"],
        "ratio": ratio(ms["segc"]["median"], ms["paddleseg"]["median"]),
        "ratio_with_read": ratio(ms["segc_with_read"]["median"],
                                 ms["paddleseg_with_read"]["median"])}
    say(f"  segc {ms['segc']['median']:.2f} ms ({ms['segc_with_read']['median']:.2f} ms "
        f"with PNG decoding), PaddleSeg {ms['paddleseg']['median']:.2f} ms "
        f"({ms['paddleseg_with_read']['median']:.2f} ms with decoding)")
    return part, {"preprocess_ms": ms["segc"]["median"]}


def measure_inference(s: dict, work: Path, rounds: int) -> tuple[dict, dict]:
    # paddleseg: its predictor with --enable_mkldnn True, the same configuration as
    # segc's; paddleseg_default: its CPU default (--enable_mkldnn False)
    sides = ("segc", "paddleseg") + (("paddleseg_default",) if s["onednn"] else ())
    runs = {impl: [] for impl in sides}
    for round_index in range(rounds):
        for impl in sides:
            say(f"inference end to end, round {round_index + 1}/{rounds}: {impl} ...")
            runs[impl].append(run_json_child("infer", impl, s, work,
                                             f"infer_{impl}_{round_index}"))
    summary = {}
    for impl, done in runs.items():
        summary[impl] = {
            "ms_median_per_round": {stage: [r["ms"][stage]["median"] for r in done]
                                    for stage in done[0]["ms"]},
            "ms": {stage: round(statistics.median(r["ms"][stage]["median"] for r in done),
                                4) for stage in done[0]["ms"]},
            "peak_rss_mib": max(r["process"]["peak_rss_mib"] for r in done),
        }
    for figures in summary.values():  # outside the model: read, preprocess, postprocess
        ms = figures["ms"]
        figures["non_model_ms"] = round(ms["preprocess"] + ms["postprocess"], 4)
    summary["non_model_ratio"] = ratio(summary["segc"]["non_model_ms"],
                                       summary["paddleseg"]["non_model_ms"])
    ratios = {"e2e_inference": ratio(summary["segc"]["ms"]["total"],
                                     summary["paddleseg"]["ms"]["total"]),
              "infer_peak_rss": ratio(summary["segc"]["peak_rss_mib"],
                                      summary["paddleseg"]["peak_rss_mib"])}
    if "paddleseg_default" in summary:
        ratios["e2e_inference_vs_default"] = ratio(
            summary["segc"]["ms"]["total"], summary["paddleseg_default"]["ms"]["total"])
        say(f"  PaddleSeg with its default CPU configuration (oneDNN off): "
            f"{summary['paddleseg_default']['ms']['total']:.1f} ms per image")
    say(f"  per image: segc {summary['segc']['ms']['total']:.1f} ms, PaddleSeg "
        f"{summary['paddleseg']['ms']['total']:.1f} ms (outside the model: "
        f"{summary['segc']['non_model_ms']:.1f} vs {summary['paddleseg']['non_model_ms']:.1f}"
        f" ms); peak RSS segc "
        f"{summary['segc']['peak_rss_mib']:.0f} MiB, PaddleSeg "
        f"{summary['paddleseg']['peak_rss_mib']:.0f} MiB")
    return summary, ratios


def measure_data_pipeline(s: dict, work: Path, rounds: int) -> tuple[dict, dict]:
    rates = {"segc": [], "paddleseg": []}
    for round_index in range(rounds):
        for impl in ("segc", "paddleseg"):
            say(f"training data pipeline, round {round_index + 1}/{rounds}: {impl} ...")
            rates[impl].append(run_json_child("data", impl, s, work,
                                              f"data_{impl}_{round_index}")["rates"])
    summary = {}
    for case in ("transforms", "full"):
        for unit in ("images_per_s", "images_per_cpu_s"):
            values = {impl: round(statistics.median(r[case][unit] for r in done), 3)
                      for impl, done in rates.items()}
            summary[f"{case}_{unit}"] = values | {
                "ratio": ratio(values["segc"], values["paddleseg"])}
    for case in ("transforms", "full"):
        values = summary[f"{case}_images_per_s"]
        cpu = summary[f"{case}_images_per_cpu_s"]
        say(f"  {case}: segc {values['segc']:.2f} images/s ({cpu['segc']:.2f} per CPU "
            f"second), PaddleSeg {values['paddleseg']:.2f} ({cpu['paddleseg']:.2f}); "
            f"ratio {values['ratio']} ({cpu['ratio']} in CPU time)")
    return ({"per_round": rates, "median": summary},
            {"data_pipeline": summary["transforms_images_per_s"]["ratio"],
             "data_pipeline_with_decoding": summary["full_images_per_s"]["ratio"]})


def measure_training(s: dict, work: Path, rounds: int) -> tuple[dict, dict]:
    runs = {"segc": [], "paddleseg": []}
    for round_index in range(rounds):
        for impl in ("segc", "paddleseg"):
            say(f"training, round {round_index + 1}/{rounds}: {impl}, {s['iters']} "
                f"iterations ...")
            runs[impl].append(training_run(impl, s, work, round_index))
            done = runs[impl][-1]
            say(f"  {statistics.median(done['iteration_s']):.2f} s/iteration, peak RSS "
                f"{done['process']['peak_rss_mib']:.0f} MiB, run "
                f"{done['process']['wall_s']:.0f} s")
    summary = {}
    for impl, done in runs.items():
        all_iters = [v for r in done for v in r["iteration_s"]]
        summary[impl] = {
            "iteration_s": distribution(all_iters),
            "reported_iteration_s": distribution(
                [v for r in done for v in r["reported_iteration_s"]]),
            "run_wall_s": [r["process"]["wall_s"] for r in done],
            "peak_rss_mib": max(r["process"]["peak_rss_mib"] for r in done),
            "peak_tree_rss_mib": max(r["process"]["peak_tree_rss_mib"] for r in done),
            "first_losses": done[0]["losses"][:5],
        }
    return summary, {"train_iteration": ratio(summary["segc"]["iteration_s"]["median"],
                                              summary["paddleseg"]["iteration_s"]["median"]),
                     "train_peak_rss": ratio(summary["segc"]["peak_rss_mib"],
                                             summary["paddleseg"]["peak_rss_mib"])}


def measure_breakdown(s: dict, work: Path) -> tuple[dict, dict]:
    breakdown = {}
    for impl in ("segc", "paddleseg"):
        say(f"where a training iteration's time goes: {impl} ...")
        breakdown[impl] = run_json_child("breakdown", impl, s, work, f"breakdown_{impl}")
        breakdown[impl].pop("process", None)
        shares = ", ".join(f"{k} {v:.0%}" for k, v in breakdown[impl]["share"].items())
        say(f"  {breakdown[impl]['total_s']:.2f} s: {shares}")
    breakdown["cpu_ratio"] = ratio(breakdown["segc"]["cpu_total_s"],
                                   breakdown["paddleseg"]["cpu_total_s"])
    breakdown["wall_ratio"] = ratio(breakdown["segc"]["total_s"],
                                    breakdown["paddleseg"]["total_s"])
    return breakdown, {}


# ---- the command ----------------------------------------------------------------------

def main() -> None:
    parser = build_parser()
    args = parser.parse_args()

    if args.child:
        # a child measurement, started by processes.run_json_child through the entry script
        from .children import CHILDREN

        mode, impl, settings, out = args.child
        result = CHILDREN[mode](impl, json.loads(settings))
        Path(out).write_text(json.dumps(result))
        return

    if args.report_only:
        results = json.loads(args.output.read_text())
        args.docs.write_text(render_markdown(results, display_path(args.output)))
        say(f"wrote {args.docs}")
        return
    if args.paddleseg_repo is None:
        parser.error("--paddleseg-repo is required (a checkout of PaddleSeg's repository)")
    if args.quick:
        args.rounds, args.infer_runs, args.preprocess_runs = 1, 3, 20
        args.data_samples, args.iters = 8, 5
        args.batch_size = args.batch_size or 1
        args.crop_size = args.crop_size or [512, 256]
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    unknown = set(parts) - {"preprocess", "infer", "data", "train", "breakdown", "engines"}
    if unknown:
        parser.error(f"unknown part(s): {', '.join(sorted(unknown))}")
    combination_dir = args.generated / args.combination
    if not (combination_dir / "train.py").is_file():
        parser.error(f"{combination_dir}: no generated combination there")
    work = args.workdir.resolve()
    work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()

    train_module = load_script(combination_dir / "train.py", "segc_train")
    spec = train_module.SPEC
    configs = configs_folder(args.paddleseg_configs, args.paddleseg_repo)
    # the PaddleSeg config a combination reproduces is in its spec, not in its scripts
    reference = describe_combinations(None).get(args.combination, {}).get("reference", {})
    if not reference.get("config"):
        parser.error(f"{args.combination}: its spec names no PaddleSeg config (reference.config)")
    paddleseg_config = find_config(configs, reference["config"])
    batch_size = args.batch_size or spec["train"]["batch_size"]
    crop_size = list(args.crop_size or spec["train"]["crop_size"])
    say(f"segc {args.combination} vs PaddleSeg {paddleseg_config.name}: parts {parts}, "
        f"{args.rounds} round(s), batch {batch_size}, crop {crop_size[0]}x{crop_size[1]}, "
        f"{args.cpu_threads} CPU thread(s); work folder {work}")

    say("synthetic data: 2048x1024 training scenes and 1024x512 test images ...")
    data_root = work / "data"
    train_lines = make_images(train_module, data_root, 8, (2048, 1024), seed=1)
    (data_root / "train.txt").write_text("\n".join(train_lines) + "\n")
    test_lines = make_images(train_module, data_root, 4, (1024, 512), seed=2)
    images = [str(data_root / line.split()[0]) for line in test_lines]
    export_dir = work / f"export_{args.combination}"
    if {"preprocess", "infer"} & set(parts):
        export_model(combination_dir, export_dir, args.engine)

    s = {
        "combination_dir": str(combination_dir.resolve()), "export_dir": str(export_dir),
        "paddleseg_repo": str(args.paddleseg_repo.resolve()),
        "paddleseg_config": str(paddleseg_config), "work": str(work),
        "data_root": str(data_root), "images": images, "device": args.device,
        "cpu_threads": args.cpu_threads, "onednn": not args.no_onednn, "cv2_threads": 1,
        "engine": args.engine,
        "warmup": 2, "runs": args.infer_runs, "preprocess_runs": args.preprocess_runs,
        "data_warmup": 2, "data_samples": args.data_samples,
        "num_classes": spec["dataset"]["num_classes"], "batch_size": batch_size,
        "crop_size": crop_size, "iters": args.iters, "num_workers": args.num_workers,
        "train_warmup_iters": 2 if args.iters > 3 else 0, "train_timeout": 3600,
        "breakdown_warmup": 1, "breakdown_iters": max(2, min(args.iters - 2, 5)),
    }
    results = {
        "benchmark": "segc generated scripts vs PaddleSeg 2.8, side by side",
        "measured_at": utc_timestamp(),
        "combination": args.combination, "paddleseg_config": paddleseg_config.name,
        "environment": environment(),
        "settings": {k: s[k] for k in ("device", "cpu_threads", "onednn", "engine", "batch_size",
                                       "crop_size", "iters", "num_workers", "runs",
                                       "preprocess_runs", "data_samples")}
        | {"rounds": args.rounds, "quick": args.quick, "train_image_size": [2048, 1024],
           "infer_image_size": [1024, 512]},
        "paddleseg_fixes": list(oracle.RUNTIME_FIXES),
        "parts": {},
    }
    ratios = {}
    # (part flag, its key in results["parts"], how to measure it), in the order they run
    measurements = (
        ("preprocess", "preprocess", lambda: measure_preprocess(s, work)),
        ("infer", "inference_end_to_end", lambda: measure_inference(s, work, args.rounds)),
        ("data", "data_pipeline", lambda: measure_data_pipeline(s, work, args.rounds)),
        ("train", "training", lambda: measure_training(s, work, args.rounds)),
        ("breakdown", "training_breakdown", lambda: measure_breakdown(s, work)),
        ("engines", "engines", lambda: measure_engines(
            s, work, args.rounds, [c for c in args.engine_combinations.split(",") if c],
            args.generated, args.int8, environment())),
    )
    for flag, key, measure in measurements:
        if flag in parts:
            results["parts"][key], measured = measure()
            ratios.update(measured)

    results["targets"] = {name: verdict(name, ratios.get(name)) for name in TARGETS
                          if name in ratios}
    for part in results["parts"].values():
        part["measured_at"] = results["measured_at"]
        part["rounds"] = args.rounds
    if args.update and args.output.is_file():
        earlier = json.loads(args.output.read_text())
        results["parts"] = {**earlier.get("parts", {}), **results["parts"]}
        results["targets"] = {**earlier.get("targets", {}), **results["targets"]}
        # the page's heading describes the run that measured the kept parts; a part
        # measured now carries its own date (and the engines part its machine)
        for key in ("measured_at", "environment", "settings"):
            results[key] = earlier.get(key, results[key])
    if not args.update:
        results["environment"]["load_average_end"] = load_average()
    results["wall_s"] = round(time.perf_counter() - started, 1)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    args.docs.parent.mkdir(parents=True, exist_ok=True)
    args.docs.write_text(render_markdown(results, display_path(args.output)))
    say(f"\nsegc vs PaddleSeg ({results['wall_s']:.0f} s) -> {args.output}, {args.docs}")
    for name, target in results["targets"].items():
        mark = {True: "met", False: "MISSED", None: "n/a"}[target["met"]]
        say(f"  {name:16s} {target['value']!s:>10} (target {target['target']}): {mark}  "
            f"[{target['meaning']}]")

