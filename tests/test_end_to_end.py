"""A generated combination, run as a user runs it: train on the demo data, resume,
export, infer; and two-process data-parallel training on CPU."""

import json
import re
import subprocess
import sys

import cv2
import numpy as np
import paddle
import pytest

from .conftest import GENERATED
from .generated_scripts import load_script, normalize_args

pytestmark = pytest.mark.slow

COMBINATION = "fcn_hrnet_w18"  # an HRNet model: training and export take a few seconds
SCRIPTS = GENERATED / COMBINATION
# Two loader workers: the demo data is written first in the same process, which is what
# made forked workers deadlock in OpenCV once.
SMALL_RUN = ["--data", "demo", "--batch-size", "2", "--crop-size", "128", "64",
             "--num-workers", "2", "--seed", "3", "--log-interval", "1"]
LOG_LINE = re.compile(r"\[iter (\d+)/\d+\] loss ([0-9.]+) lr ([0-9.]+) samples/s ([0-9.]+) "
                      r"eta \d+:\d\d:\d\d")


def run_script(name, args, cwd, launcher=()):
    completed = subprocess.run([sys.executable, *launcher, str(SCRIPTS / name), *args],
                               cwd=cwd, capture_output=True, text=True, timeout=300,
                               check=False)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    return completed.stdout


def logged_losses(output):
    return {int(m[1]): float(m[2]) for m in LOG_LINE.finditer(output)}


def run_until_killed(args, cwd, kill_after_iter):
    """Start train.py and SIGKILL it as soon as it logs `kill_after_iter`: a crash, as a
    user meets one, with no chance to clean up."""
    process = subprocess.Popen([sys.executable, str(SCRIPTS / "train.py"), *args], cwd=cwd,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = ""
    for line in process.stdout:
        output += line
        match = LOG_LINE.match(line)
        if match and int(match[1]) >= kill_after_iter:
            process.kill()
            break
    process.wait(timeout=60)
    return output


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """8 iterations straight; the same run killed after iteration 5 and resumed."""
    work = tmp_path_factory.mktemp("e2e")
    straight = run_script("train.py", [*SMALL_RUN, "--iters", "8", "--save-interval", "4",
                                       "--eval-interval", "8", "--eval-scales", "0.5", "1.0",
                                       "--save-dir", "straight"], work)
    interrupted = run_until_killed([*SMALL_RUN, "--iters", "8", "--save-interval", "4",
                                    "--no-eval", "--save-dir", "resumed"], work,
                                   kill_after_iter=5)
    resumed = run_script("train.py", [*SMALL_RUN, "--iters", "8", "--no-eval",
                                      "--resume", "resumed", "--save-dir", "resumed"], work)
    return work, straight, interrupted, resumed


def test_training_logs_and_lowers_the_loss(trained):
    work, straight, _, _ = trained
    losses = logged_losses(straight)
    assert sorted(losses) == list(range(1, 9))
    assert np.mean([losses[7], losses[8]]) < np.mean([losses[1], losses[2]])
    assert re.search(r"\[eval 8\] mIoU [0-9.]+ acc [0-9.]+ kappa -?[0-9.]+", straight)
    assert (work / "straight" / "best_model" / "model.pdparams").is_file()
    assert json.loads((work / "straight" / "latest.json").read_text()) == {"checkpoint": "iter_8"}


def test_resume_continues_from_the_saved_iteration(trained):
    _, straight, interrupted, resumed = trained
    assert 5 in logged_losses(interrupted) and 8 not in logged_losses(interrupted)
    assert "resumed from" in resumed and "at iteration 4" in resumed
    assert sorted(logged_losses(resumed)) == [5, 6, 7, 8]
    expected = logged_losses(straight)
    combined = {**logged_losses(interrupted), **logged_losses(resumed)}
    for iteration in range(1, 9):  # the same batches, augmentations, updates and lr
        assert combined[iteration] == pytest.approx(expected[iteration], rel=1e-4, abs=1e-4)


def test_export_then_infer_equals_the_dynamic_model(trained):
    work = trained[0]
    weights = work / "straight" / "iter_8" / "model.pdparams"
    exported = run_script("export.py", ["--model-path", str(weights), "--save-dir", "export"],
                          work)
    assert (work / "export" / "deploy.yaml").is_file(), exported
    images = sorted((work / "demo_data").rglob("*.png"))
    image_path = next(p for p in images if "label" not in str(p.relative_to(work / "demo_data")))
    output = run_script("infer.py", ["--config", "export/deploy.yaml", "--image",
                                     str(image_path), "--save-dir", "result"], work)
    mask = cv2.imread(str(work / "result" / f"{image_path.stem}.png"), cv2.IMREAD_UNCHANGED)
    assert mask is not None, output

    module = load_script(COMBINATION)
    num_classes = json.loads((weights.parent / "meta.json").read_text())["num_classes"]
    model = module.build_model(num_classes)
    model.set_state_dict(paddle.load(str(weights)))
    model.eval()
    normalize = normalize_args(COMBINATION)
    rgb = cv2.cvtColor(cv2.imread(str(image_path)), cv2.COLOR_BGR2RGB).astype("float32") / 255
    x = ((rgb - normalize["mean"]) / normalize["std"]).transpose(2, 0, 1)[None].astype("float32")
    with paddle.no_grad():
        expected = paddle.argmax(model(paddle.to_tensor(x))[0], axis=1)[0].numpy()
    assert mask.shape == expected.shape
    assert (mask == expected).mean() >= 0.999


def test_infer_over_a_folder_skips_and_names_a_damaged_image(trained):
    """One bad image among good ones: each good one gets its mask, the bad one one line
    naming it, and the exit code says not all went well."""
    work = trained[0]
    weights = work / "straight" / "iter_8" / "model.pdparams"
    run_script("export.py", ["--model-path", str(weights), "--save-dir", "export_folder"], work)
    folder = work / "mixed_images"
    folder.mkdir()
    image = cv2.imread(str(work / "demo_data" / "images" / "image_000.png"))
    cv2.imwrite(str(folder / "good.png"), image)
    cv2.imwrite(str(folder / "whole.jpg"), image)
    data = (folder / "whole.jpg").read_bytes()
    (folder / "cut.jpg").write_bytes(data[: len(data) // 2])
    completed = subprocess.run(
        [sys.executable, str(SCRIPTS / "infer.py"), "--config", "export_folder/deploy.yaml",
         "--image", str(folder), "--save-dir", "mixed_result"],
        cwd=work, capture_output=True, text=True, timeout=300, check=False)
    assert completed.returncode == 2, completed.stdout + completed.stderr
    errors = [line for line in completed.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 2, completed.stderr
    assert "cut.jpg: is a truncated JPEG" in errors[0]
    assert "1 of 3 image(s) could not be read" in errors[1]
    written = sorted(p.name for p in (work / "mixed_result").iterdir())
    assert written == ["good.png", "good_overlay.jpg", "whole.png", "whole_overlay.jpg"]


def test_two_process_data_parallel_training_on_cpu(tmp_path):
    output = run_script(
        "train.py", [*SMALL_RUN, "--iters", "3", "--batch-size", "1", "--num-workers", "0",
                     "--no-eval", "--save-dir", "dist"],
        tmp_path, launcher=("-m", "paddle.distributed.launch", "--nproc_per_node", "2",
                            "--log_dir", str(tmp_path / "logs")))
    worker_log = (tmp_path / "logs" / "workerlog.0").read_text()
    assert "x 2 process(es)" in worker_log, output + worker_log
    assert sorted(logged_losses(worker_log)) == [1, 2, 3]
    assert (tmp_path / "dist" / "iter_3" / "model.pdparams").is_file()
    # the run record is the first process's alone: each iteration once
    log = [json.loads(line) for line in (tmp_path / "dist" / "train_log.jsonl").open()]
    assert [r["event"] for r in log] == ["start", "train", "train", "train"]
    assert log[0]["world_size"] == 2 and [r["iter"] for r in log[1:]] == [1, 2, 3]
