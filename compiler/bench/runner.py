"""`segc bench`: measure every generated combination (or some) on this machine and device.

The command's side (the parent process): its arguments, which combinations to measure,
one worker process per combination (segc.bench.worker, started as
`python -m segc.bench --worker ...`: one model's memory, oneDNN caches and threads never
colour the next one's figures, and a crash loses one entry only), and merging each
entry into the results file (see segc.bench.results for its schema) as soon as it
comes. Then docs/model_zoo.md and its three charts are regenerated from that file alone
(segc.bench.page; `--report-only` does just that step). Nothing heavy is imported
here: Paddle runs in the workers only.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ..diagnostics import UsageError
from ..model_figures import update_figures
from .onnx_status import STATUS_FILE, StatusError, load_status
from .results import (
    DEFAULT_RESULTS,
    ResultsError,
    load_results,
    merge_entries,
    save_results,
)
from .scripts import GENERATED_SCRIPTS

DEFAULT_DOCS = Path("docs")


def find_combinations(generated: Path, names: list[str]) -> list[Path]:
    """Folders of the named combinations (all of them when `names` is empty), sorted."""
    if not generated.is_dir():
        raise UsageError(f"{generated}: no such folder; run `segc compile --all` first")
    available = {p.name: p for p in sorted(generated.iterdir())
                 if all((p / s).is_file() for s in GENERATED_SCRIPTS)}
    if not names:
        if not available:
            raise UsageError(f"{generated}: no compiled combinations in it")
        return list(available.values())
    unknown = [n for n in names if n not in available]
    if unknown:
        raise UsageError(f"unknown combination(s) {', '.join(unknown)} in {generated}; "
                         "`segc list` shows them")
    return [available[n] for n in dict.fromkeys(names)]


def describe_combinations(zoo: str | None) -> dict[str, dict]:
    """What the zoo's specs say of each combination (title, backbone, spec file, PaddleSeg's
    reference figures, export op), for the results entries. The generated scripts carry
    only what they run on, so this comes from the specs; a combination compiled from
    specs that are not in the zoo gets only its folder name."""
    from ..locations import zoo_dir, zoo_specs
    from ..pipeline import resolve_specs

    directory = zoo_dir(Path(zoo) if zoo else None)
    variants, _ = resolve_specs(zoo_specs(directory), directory.resolve().parent)
    return {v.name: {"arch": v.title, "backbone": v.backbone.type if v.backbone else None,
                     "spec_file": v.spec_file, "reference": dict(v.reference),
                     "output_op": v.export["output_op"]} for v in variants}


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
    about = describe_combinations(args.zoo)
    settings = {
        "device": args.device,
        "cpu_threads": args.cpu_threads or os.cpu_count() or 1,
        "onednn": not args.no_onednn,
        "input_shape": [1, 3, args.input_size[1], args.input_size[0]],
        "warmup": args.warmup,
        "runs": args.runs,
        "flops": not args.no_flops,
        "latency": not args.no_latency,
        "engines": bench_engines(args),
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
        entry, problem = run_worker(folder, dict(settings, about=about.get(folder.name)),
                                    args.keep_exports)
        if entry is None:
            failed.append(folder.name)
            print(f"[{index}/{len(folders)}] {folder.name}: FAILED ({problem}); its previous "
                  "entry, if any, is kept", flush=True)
        else:
            # saved after each combination: an interrupted run keeps what it measured
            skipped = [part for part in ("flops", "latency") if not settings[part]]
            results = merge_entries(results, [entry], not_measured=skipped)
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


BENCH_ENGINES = ("paddle", "onnxruntime", "openvino")


def bench_engines(args) -> list[str]:
    """--engines (and --onnx) as a list in BENCH_ENGINES' order, Paddle Inference first."""
    named = {name.strip() for name in args.engines.split(",") if name.strip()}
    unknown = named - set(BENCH_ENGINES)
    if unknown:
        raise UsageError(f"--engines: unknown engine(s) {', '.join(sorted(unknown))} "
                         f"(choose from {', '.join(BENCH_ENGINES)})")
    named |= {"paddle"} | ({"onnxruntime"} if args.onnx else set())
    return [name for name in BENCH_ENGINES if name in named]


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
    for engine, stats in (entry.get("engine_latency_ms") or {}).items():
        parts.append(f"{engine} {stats['median']:.1f} ms")
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
    """docs/model_zoo.md and its charts from the results, with the ONNX status that
    benchmarks/onnx_status.py recorded beside them (onnx_status.json), when there is one."""
    from .page import write_zoo_page

    status_path = Path(source).with_name(STATUS_FILE)
    try:
        onnx = load_status(status_path) if status_path.is_file() else None
    except StatusError as exc:
        raise UsageError(str(exc)) from None
    written = write_zoo_page(results, docs, source, onnx)
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
    p.add_argument("--engines", default="paddle",
                   help="comma-separated engines to time the model run on besides Paddle "
                   "Inference's full latency: paddle, onnxruntime, openvino (export.py "
                   "--engines; the ONNX ones need the onnx / openvino extras; default: "
                   "%(default)s)")
    p.add_argument("--onnx", action="store_true",
                   help="short for --engines paddle,onnxruntime")
    p.add_argument("--keep-exports", metavar="DIR",
                   help="keep each exported model in DIR/<combination> (default: a temporary "
                   "folder)")
    p.set_defaults(func=run_bench)
