"""Issue 11, items 3 and 4 on the training side: the run record (train_log.jsonl, appended
to by --resume), VisualDL scalars, the --plot curves, --keep-checkpoint-max, and mixed
precision as far as it runs without a GPU (its arguments against PaddleSeg's, the CPU
refusal, the float32 path)."""

import ast
import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import paddle
import pytest

from segc.templates.fragments.runtime import precision, run_log, run_plot, training

from .conftest import GENERATED
from .generated_scripts import load_script

# Fast-SCNN: trains in about a second per iteration at a 64 x 64 crop on the CPU, and
# has two loss terms (main and auxiliary head, 1.0 and 0.4).
COMBINATION = "fastscnn"
SCRIPT = GENERATED / COMBINATION / "train.py"
SMALL_RUN = ["--data", "demo", "--batch-size", "2", "--crop-size", "64", "64",
             "--num-workers", "0", "--seed", "3", "--log-interval", "1",
             "--eval-interval", "3", "--save-interval", "2", "--keep-checkpoint-max", "2",
             "--save-dir", "run"]
LOG_LINE = re.compile(r"\[iter (\d+)/\d+\] loss ([0-9.]+) lr ([0-9.]+) ")


def train_py(args, cwd, pythonpath=None):
    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = os.pathsep.join([str(pythonpath), env.get("PYTHONPATH", "")])
    return subprocess.run([sys.executable, str(SCRIPT), *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300, check=False)


def succeeded(completed):
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    return completed.stdout


def records(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def blocking(tmp_path, package):
    """A folder to put first on PYTHONPATH in which `package` fails to import, as it
    does where it is not installed."""
    folder = tmp_path / f"without_{package}"
    folder.mkdir()
    (folder / f"{package}.py").write_text(f"raise ImportError('no module named {package}')\n")
    return folder


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """6 iterations with VisualDL (checkpoints at 2, 4, 6, two kept; evaluations at 3 and
    6), then a resume from iter_4 to 8 iterations: iterations 5 and 6 are logged twice,
    the second time under another schedule (8 iterations, not 6)."""
    work = tmp_path_factory.mktemp("run_records")
    first = succeeded(train_py([*SMALL_RUN, "--iters", "6", "--use-vdl"], work))
    kept_after_first = sorted(p.name for p in (work / "run").iterdir() if p.is_dir())
    resumed = succeeded(train_py([*SMALL_RUN, "--iters", "8", "--resume", "run/iter_4"], work))
    return work, first, kept_after_first, resumed


def schedule_lrs(iters):
    """The learning rate of iterations 1..iters in a fresh run of the script's schedule."""
    module = load_script(COMBINATION)
    _, scheduler = module.build_optimizer(paddle.nn.Linear(2, 2), None, iters)
    rates = []
    for _ in range(iters):
        rates.append(scheduler.last_lr)
        scheduler.step()
    return rates


@pytest.mark.slow
def test_each_logged_iteration_and_evaluation_is_one_json_line(runs):
    work, first, _, _ = runs
    log = records(work / "run" / "train_log.jsonl")
    assert [r["event"] for r in log[:10]] == ["start"] + ["train"] * 3 + ["eval"] + [
        "train"] * 3 + ["eval"] + ["start"]
    start = log[0]
    assert start["spec"] == COMBINATION and start["paddle"] == paddle.__version__
    assert start["start_iter"] == 0 and start["resumed_from"] is None
    assert start["args"]["iters"] == 6 and start["args"]["keep_checkpoint_max"] == 2
    assert [t["name"] for t in start["loss_terms"]] == ["CrossEntropyLoss_0", "CrossEntropyLoss_1"]
    assert [t["coef"] for t in start["loss_terms"]] == [1.0, 0.4]

    train = [r for r in log[:9] if r["event"] == "train"]
    assert [r["iter"] for r in train] == list(range(1, 7))
    printed = {int(m[1]): (float(m[2]), float(m[3])) for m in LOG_LINE.finditer(first)}
    for record, lr in zip(train, schedule_lrs(6), strict=True):
        assert np.isfinite(record["loss"]) and record["loss"] > 0
        terms = record["loss_terms"]
        assert list(terms) == ["CrossEntropyLoss_0", "CrossEntropyLoss_1"]
        assert sum(terms.values()) == pytest.approx(record["loss"], rel=1e-5)
        assert record["lr"] == pytest.approx(lr, rel=1e-6)  # the rate the step used
        assert printed[record["iter"]] == (pytest.approx(record["loss"], abs=1e-4),
                                           pytest.approx(record["lr"], abs=1e-6))
        assert record["epoch"] == 1  # 12 of the demo's 32 training images
        assert 0 <= record["reader_cost"] <= record["batch_cost"] < 60
        assert record["ips"] == pytest.approx(2 / record["batch_cost"], rel=1e-6)
        assert 50 < record["memory_mb"] < 64 * 1024
        assert record["eta_s"] >= 0
    assert train[-1]["eta_s"] == 0

    evals = [r for r in log[:9] if r["event"] == "eval"]
    assert [r["iter"] for r in evals] == [3, 6]
    for record in evals:
        assert 0 <= record["miou"] <= 1 and 0 <= record["acc"] <= 1
        assert len(record["class_iou"]) == start["num_classes"] == 5
        assert record["miou"] == pytest.approx(np.mean(record["class_iou"]))
        assert f"[eval {record['iter']}] mIoU {record['miou']:.4f}" in first


@pytest.mark.slow
def test_resume_appends_and_the_later_run_wins_the_iterations_logged_twice(runs):
    work, _, _, resumed = runs
    log = records(work / "run" / "train_log.jsonl")
    starts = [r for r in log if r["event"] == "start"]
    assert len(starts) == 2 and starts[1]["start_iter"] == 4
    assert starts[1]["resumed_from"] == os.path.join("run", "iter_4")
    assert "resumed from run/iter_4 at iteration 4" in resumed
    logged = [r["iter"] for r in log if r["event"] == "train"]
    assert logged == [1, 2, 3, 4, 5, 6, 5, 6, 7, 8]

    start, train, evals = run_log.read_run_log(str(work / "run" / "train_log.jsonl"))
    assert start == starts[1]
    second = log.index(starts[1])
    first_run = [r for r in log[:second] if r["event"] == "train"]
    second_run = [r for r in log[second:] if r["event"] == "train"]
    assert train == first_run[:4] + second_run  # 5 and 6 as the resumed run logged them
    # which differ: from 6 on the resumed run follows its 8-iteration schedule
    assert first_run[5]["iter"] == second_run[1]["iter"] == 6
    assert first_run[5]["lr"] == pytest.approx(schedule_lrs(6)[5], rel=1e-6)
    assert second_run[1]["lr"] == pytest.approx(schedule_lrs(8)[5], rel=1e-6)
    assert first_run[5]["lr"] != pytest.approx(second_run[1]["lr"], rel=1e-3)
    assert [r["iter"] for r in evals] == [3, 6, 8]
    assert evals[1] == next(r for r in log[second:] if r["event"] == "eval")


@pytest.mark.slow
def test_plot_draws_loss_and_miou_curves_without_training(runs):
    work = runs[0]
    before = sorted(p.name for p in (work / "run").iterdir())
    output = succeeded(train_py(["--plot", "run"], work))
    assert "from 8 logged iterations and 3 evaluation(s)" in output
    assert "training" not in output
    for name in ("loss.png", "miou.png"):
        image = cv2.imread(str(work / "run" / name))
        assert image is not None and image.shape == (450, 800, 3)
        assert image.std() > 10  # curves, axes and text, not a blank canvas
    after = sorted(p.name for p in (work / "run").iterdir())
    assert sorted(set(after) - set(before)) == ["loss.png", "miou.png"]


@pytest.mark.slow
def test_keep_checkpoint_max_keeps_the_newest_and_best_model_and_resume_works(runs):
    work, _, kept_after_first, _ = runs
    assert kept_after_first == ["best_model", "iter_4", "iter_6", "vdl"]
    # the resumed run saved iter_6 and iter_8 and pruned iter_4, which it resumed from
    kept = sorted(p.name for p in (work / "run").iterdir() if p.is_dir())
    assert kept == ["best_model", "iter_6", "iter_8", "vdl"]
    assert json.loads((work / "run" / "latest.json").read_text()) == {"checkpoint": "iter_8"}
    meta = json.loads((work / "run" / "iter_8" / "meta.json").read_text())
    assert meta["iter"] == 8 and meta["precision"] == "fp32" and "grad_scaler" not in meta


@pytest.mark.slow
def test_use_vdl_writes_paddleseg_scalars(runs):
    work = runs[0]
    from visualdl import LogReader

    files = list((work / "run" / "vdl").iterdir())
    assert len(files) == 1  # the resumed run had no --use-vdl
    reader = LogReader(file_path=str(files[0]))
    assert set(reader.get_tags()["scalar"]) == {
        "Train/loss", "Train/loss_0", "Train/loss_1", "Train/lr", "Train/batch_cost",
        "Train/reader_cost", "Evaluate/mIoU", "Evaluate/Acc"}
    log = records(work / "run" / "train_log.jsonl")[:9]
    losses = [(r["iter"], r["loss"]) for r in log if r["event"] == "train"]
    logged = [(s.id, s.value) for s in reader.get_data("scalar", "Train/loss")]
    assert [i for i, _ in logged] == [i for i, _ in losses]
    assert [v for _, v in logged] == pytest.approx([v for _, v in losses], rel=1e-6)
    mious = [(s.id, s.value) for s in reader.get_data("scalar", "Evaluate/mIoU")]
    assert mious == [(r["iter"], pytest.approx(r["miou"], rel=1e-6))
                     for r in log if r["event"] == "eval"]


def one_error_line(completed, expected):
    assert completed.returncode == 2, completed.stdout + completed.stderr
    assert completed.stderr.splitlines() == [expected]
    assert "Traceback" not in completed.stdout


@pytest.mark.parametrize("half", ["fp16", "bf16"])
def test_half_precision_on_the_cpu_stops_in_one_line(tmp_path, half):
    completed = train_py(["--data", "demo", "--precision", half, "--save-dir", "run"], tmp_path)
    one_error_line(completed, f"error: --precision {half} needs a GPU: install paddlepaddle-gpu "
                   "and train with --device gpu, or leave --precision at fp32 on the CPU")
    assert not (tmp_path / "run").exists() and not (tmp_path / "demo_data").exists()


def test_use_vdl_without_visualdl_stops_before_training(tmp_path):
    completed = train_py(["--data", "demo", "--use-vdl", "--save-dir", "run"], tmp_path,
                         pythonpath=blocking(tmp_path, "visualdl"))
    one_error_line(completed,
                   "error: --use-vdl needs the 'visualdl' package: pip install visualdl")
    assert not (tmp_path / "run").exists()


def test_plot_names_a_missing_log_and_a_missing_matplotlib(tmp_path, monkeypatch, capsys):
    def plot_error(save_dir):
        with pytest.raises(SystemExit) as stopped:
            run_plot.plot_run(str(save_dir))
        assert stopped.value.code == 2
        return capsys.readouterr().err

    assert plot_error(tmp_path / "nowhere") == (
        f"error: {tmp_path}/nowhere/train_log.jsonl: no such run record; pass the --save-dir "
        "of a training run\n")
    record = run_log.RunRecord(str(tmp_path / "run"))
    record.start(start_iter=0)
    assert plot_error(tmp_path / "run") == (
        f"error: {tmp_path}/run/train_log.jsonl: no training iteration logged yet; train "
        "first, then plot\n")
    record.train(1, 1, 1.0, {}, 0.1, 0.5, 0.1)
    record.close()
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # what import finds uninstalled
    assert plot_error(tmp_path / "run") == (
        "error: --plot needs the 'matplotlib' package: pip install matplotlib\n")
    assert not (tmp_path / "run" / "loss.png").exists()


def test_a_line_cut_by_a_crash_is_ended_and_skipped(tmp_path, capsys):
    """A run killed while writing leaves half a line; the next run's records start on a
    line of their own, and the reader skips the broken one, saying so."""
    record = run_log.RunRecord(str(tmp_path))
    record.start(start_iter=0, spec="x")
    record.train(1, 1, 2.0, {"a_0": 2.0}, 0.1, 0.5, 0.1)
    record.close()
    with open(tmp_path / run_log.RUN_LOG_FILE, "a") as f:
        f.write('{"event": "train", "iter": 2, "lo')
    record = run_log.RunRecord(str(tmp_path))
    record.start(start_iter=1, spec="x")
    record.train(2, 1, 1.5, {"a_0": 1.5}, 0.1, 0.5, 0.1)
    record.evaluation(2, {"miou": 0.5, "accuracy": 0.5, "kappa": float("nan"),
                          "class_iou": [np.float32(0.5)], "class_precision": [0.5]})
    with open(tmp_path / run_log.RUN_LOG_FILE, "a") as f:  # not ours: no loss
        f.write(json.dumps({"event": "train", "iter": 3}) + "\n")
    record.close()
    _, train, evals = run_log.read_run_log(str(tmp_path / run_log.RUN_LOG_FILE))
    assert [(r["iter"], r["loss"]) for r in train] == [(1, 2.0), (2, 1.5)]
    assert evals[0]["kappa"] is None and evals[0]["class_iou"] == [0.5]  # strict JSON
    out = capsys.readouterr().out
    assert f"{run_log.RUN_LOG_FILE}:3 is not a run record; skipped" in out
    assert f"{run_log.RUN_LOG_FILE}:7 is not a run record; skipped" in out


def test_a_fresh_run_in_an_old_save_dir_starts_a_new_curve(tmp_path):
    record = run_log.RunRecord(str(tmp_path))
    record.start(start_iter=0)
    for iteration in (1, 2, 3):
        record.train(iteration, 1, 3.0, {}, 0.1, 0.5, 0.1)
    record.close()
    record = run_log.RunRecord(str(tmp_path))
    record.start(start_iter=0)
    record.train(1, 1, 1.0, {}, 0.1, 0.5, 0.1)
    record.close()
    _, train, _ = run_log.read_run_log(str(tmp_path / run_log.RUN_LOG_FILE))
    assert [(r["iter"], r["loss"]) for r in train] == [(1, 1.0)]


def checkpoints(save_dir, iterations, keep):
    model = paddle.nn.Linear(2, 2)
    for iteration in iterations:
        training.save_checkpoint(str(save_dir), f"iter_{iteration}", model,
                                 {"iter": iteration, "seed": 0},
                                 paddle.optimizer.SGD(parameters=model.parameters()))
        training.record_latest_checkpoint(str(save_dir), f"iter_{iteration}", keep)
    return sorted((p.name for p in save_dir.iterdir() if p.name.startswith("iter_")),
                  key=lambda name: int(name[5:]))


def test_keep_checkpoint_max_counts_the_latest_and_leaves_a_later_runs_folders(tmp_path):
    assert checkpoints(tmp_path / "a", range(1, 8), keep=2) == ["iter_6", "iter_7"]
    assert checkpoints(tmp_path / "b", range(1, 8), keep=0) == [f"iter_{i}" for i in range(1, 8)]
    assert training.KEEP_CHECKPOINT_MAX == 5  # PaddleSeg's default
    # resumed from iter_2 of a run that got to iter_5: iter_5 waits to be saved over
    folder = tmp_path / "c"
    checkpoints(folder, [1, 2, 5], keep=0)
    assert checkpoints(folder, [3], keep=2) == ["iter_2", "iter_3", "iter_5"]
    assert training.load_resume_checkpoint(str(folder))[0].endswith("iter_3")


def paddleseg_amp_arguments():
    """The keyword arguments of PaddleSeg 2.8's GradScaler and auto_cast calls in its
    trainer, read from its source (importing PaddleSeg is not needed)."""
    path = Path(importlib.util.find_spec("paddleseg").origin).parent / "core" / "train.py"
    found = {}
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                node.func.attr in ("GradScaler", "auto_cast"):
            found[node.func.attr] = {k.arg: ast.literal_eval(k.value) for k in node.keywords
                                     if k.arg != "level"}
    return found


# Paddle says at each GradScaler and auto_cast that on a CPU they have no effect
@pytest.mark.filterwarnings("ignore:.*can only be enabled on:UserWarning")
@pytest.mark.parametrize("half", ["fp16", "bf16"])
@pytest.mark.parametrize("level", ["O1", "O2"])
def test_mixed_precision_takes_paddleseg_op_lists_and_loss_scale(half, level):
    reference = paddleseg_amp_arguments()
    mixed = precision.MixedPrecision(half, level)
    arguments = mixed.autocast_arguments()
    assert arguments["custom_white_list"] == reference["auto_cast"]["custom_white_list"]
    assert arguments["custom_black_list"] == reference["auto_cast"]["custom_black_list"]
    assert arguments["enable"] is True and arguments["level"] == level
    assert arguments["dtype"] == {"fp16": "float16", "bf16": "bfloat16"}[half]
    assert reference["GradScaler"] == {"init_loss_scaling": precision.AMP_INIT_LOSS_SCALING}
    # fp16 scales the loss, bf16 (float32's exponent range) does not
    assert isinstance(mixed.scaler, paddle.amp.GradScaler) == (half == "fp16")
    with mixed.autocast():  # a real auto_cast context (on the CPU Paddle ignores it)
        assert float(paddle.to_tensor([1.0, 2.0]).sum()) == 3.0


def test_float32_is_the_plain_step_and_keeps_no_scaler_state():
    mixed = precision.MixedPrecision("fp32", "O1")
    assert mixed.scaler is None and mixed.scaler_state() is None
    assert mixed.autocast_arguments()["enable"] is False
    model = paddle.nn.Linear(2, 1)
    optimizer = paddle.optimizer.SGD(learning_rate=0.1, parameters=model.parameters())
    assert mixed.decorate(model, optimizer) == (model, optimizer)
    before = model.weight.numpy().copy()
    with mixed.autocast():
        loss = model(paddle.ones([4, 2])).mean()
    mixed.backward_and_step(loss, optimizer)
    # d(mean(xW + b))/dW = 1 for each weight: SGD moves each by -0.1
    assert np.allclose(model.weight.numpy(), before - 0.1)
    mixed.load_scaler_state({"scale": 512.0})  # no scaler: a no-op, not an error


@pytest.mark.parametrize(("flags", "message"), [
    (["--keep-checkpoint-max", "-1"], "--keep-checkpoint-max must be 0 (keep all) or more"),
    (["--amp-level", "O2"], "--amp-level O2 needs --precision fp16 or bf16"),
])
def test_flags_out_of_range_are_usage_errors(capsys, flags, message):
    module = load_script(COMBINATION)
    with pytest.raises(SystemExit) as stopped:
        module.train_arguments(module.SPEC, ["--data", "demo", *flags])
    assert stopped.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1].endswith(f": error: {message}")
