"""`segc demo`: the whole job on built-in demo data, as a new user would run it.

Compiles the zoo into the work directory, then runs one combination's generated
scripts exactly as documented in its README: a short training run with
evaluation, export to Paddle Inference, and inference on the demo images.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from .diagnostics import UsageError
from .emitter import write
from .locations import zoo_dir, zoo_specs
from .pipeline import render_outputs, resolve_specs

DEMO_BATCH_SIZE = 4
DEMO_CROP_SIZE = ("256", "128")


def compile_zoo(out_dir: Path) -> list[str]:
    directory = zoo_dir()
    variants, diagnostics = resolve_specs(zoo_specs(directory), directory.parent)
    if diagnostics:
        raise UsageError(f"the zoo in {directory} does not compile; run `segc validate --all`")
    write(render_outputs(variants), out_dir, complete=True)
    return [v.name for v in variants]


class DemoStepFailed(Exception):
    """A generated script exited non-zero; its own output already says why."""


def run_step(title: str, command: list[str], cwd: Path) -> float:
    print(f"\n== {title}: {' '.join(command)}", flush=True)
    start = time.perf_counter()
    completed = subprocess.run(command, cwd=cwd, check=False)
    if completed.returncode != 0:
        raise DemoStepFailed(f"demo step '{title}' failed with exit code {completed.returncode} "
                             f"(see the output above; work directory {cwd})")
    return time.perf_counter() - start


def run_demo(args) -> int:
    workdir = Path(args.workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    names = compile_zoo(workdir / "generated")
    if args.combination not in names:
        raise UsageError(f"unknown combination '{args.combination}'; `segc list` shows them")
    print(f"compiled {len(names)} combinations into {workdir / 'generated'}")
    scripts = workdir / "generated" / args.combination
    try:
        timings = run_scripts(scripts, args.iters, workdir)
    except DemoStepFailed as exc:
        print(f"segc: error: {exc}", file=sys.stderr)
        return 1
    total = time.perf_counter() - start
    steps = ", ".join(f"{name} {seconds:.0f} s" for name, seconds in timings.items())
    print(f"\ndemo finished in {total:.0f} s ({steps}); masks and overlays in "
          f"{workdir / 'result'}")
    return 0


def run_scripts(scripts: Path, iters: int, workdir: Path) -> dict[str, float]:
    """Train, evaluate, export and infer with one combination's scripts; seconds per
    step."""
    python = sys.executable
    return {
        "train": run_step("train", [
            python, str(scripts / "train.py"), "--data", "demo", "--iters", str(iters),
            "--batch-size", str(DEMO_BATCH_SIZE), "--crop-size", *DEMO_CROP_SIZE,
            "--eval-interval", str(max(iters // 2, 1)),
            "--save-interval", str(max(iters // 2, 1)), "--log-interval", "10",
            "--num-workers", "2", "--seed", "0", "--save-dir", "train"], workdir),
        "evaluate": run_step("evaluate", [
            python, str(scripts / "evaluate.py"), "--model-path", "train", "--data", "demo",
            "--save-dir", "eval"], workdir),
        "export": run_step("export", [
            python, str(scripts / "export.py"), "--model-path", "train/best_model/model.pdparams",
            "--save-dir", "export"], workdir),
        "infer": run_step("infer", [
            python, str(scripts / "infer.py"), "--config", "export/deploy.yaml",
            "--image", "demo_data/val.txt", "--save-dir", "result", "--benchmark"], workdir),
    }
