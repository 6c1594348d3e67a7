"""Bad training data stops train.py with one line that names the file, exit code 2."""

import json
import subprocess
import sys

import cv2
import numpy as np
import pytest

from .conftest import GENERATED

TRAIN = GENERATED / "fcn_hrnet_w18" / "train.py"


def write_pair(root, name, image_size=(64, 32), label_size=(64, 32), label_value=1):
    (root / "img").mkdir(exist_ok=True)
    (root / "lbl").mkdir(exist_ok=True)
    cv2.imwrite(str(root / "img" / f"{name}.png"),
                np.full((image_size[1], image_size[0], 3), 90, np.uint8))
    cv2.imwrite(str(root / "lbl" / f"{name}.png"),
                np.full((label_size[1], label_size[0]), label_value, np.uint8))
    return f"img/{name}.png lbl/{name}.png"


def run_train(root, lines, workers=0, extra=()):
    (root / "train.txt").write_text("\n".join(lines) + "\n")
    return subprocess.run(
        [sys.executable, str(TRAIN), "--data", str(root), "--train-list", "train.txt",
         "--no-eval", "--iters", "1", "--batch-size", "1", "--crop-size", "64", "32",
         "--num-workers", str(workers), "--save-dir", str(root / "out"), *extra],
        capture_output=True, text=True, timeout=300, check=False)


def assert_one_line_error(completed, *fragments):
    assert completed.returncode == 2, completed.stdout + completed.stderr
    # (paddle's import may print its own warnings, e.g. that ccache is missing)
    errors = [line for line in completed.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in completed.stderr, completed.stderr
    for fragment in fragments:
        assert fragment in errors[0], errors[0]


def test_missing_image(tmp_path):
    line = write_pair(tmp_path, "a")
    (tmp_path / "img" / "a.png").unlink()
    assert_one_line_error(run_train(tmp_path, [line]), "img/a.png")


def test_unreadable_image(tmp_path):
    line = write_pair(tmp_path, "a")
    (tmp_path / "img" / "a.png").write_bytes(b"not a png")
    assert_one_line_error(run_train(tmp_path, [line]), "img/a.png")


@pytest.mark.parametrize("workers", [0, 1])
def test_label_size_differs_from_image(tmp_path, workers):
    line = write_pair(tmp_path, "a", label_size=(32, 32))
    assert_one_line_error(run_train(tmp_path, [line], workers), "lbl/a.png")


def test_label_value_is_not_a_class(tmp_path):
    line = write_pair(tmp_path, "a", label_value=19)  # Cityscapes has 19 classes: 0..18
    assert_one_line_error(run_train(tmp_path, [line]), "lbl/a.png", "19")


def test_malformed_file_list_line(tmp_path):
    write_pair(tmp_path, "a")
    assert_one_line_error(run_train(tmp_path, ["img/a.png"]), "train.txt:1")


def test_your_own_class_count_and_ignore_value(tmp_path):
    """--num-classes and --ignore-index set the data's classes: a label value the data
    should not have is named with the values the label holds; the count trained with is
    recorded in the checkpoint, export.py reads it and writes it into deploy.yaml, and
    resuming with another count is one line."""
    # smaller than the 64x32 crop at any training scale: every label is padded, with the
    # ignore value (a padding of 255 would be out of range for 5 classes ignoring 7)
    small = {"image_size": (16, 8), "label_size": (16, 8)}  # 32x16 at most after scaling
    lines = [write_pair(tmp_path, "a", label_value=4, **small),
             write_pair(tmp_path, "b", label_value=7, **small)]
    five = ["--num-classes", "5", "--ignore-index", "7"]
    # the only sample: one iteration of batch 1 is sure to read it
    completed = run_train(tmp_path, [write_pair(tmp_path, "c", label_value=9)], extra=five)
    assert_one_line_error(completed, "lbl/c.png", "value 9", "num_classes 5",
                          "ignore value 7", "holds 9")

    completed = run_train(tmp_path, lines, extra=five)
    assert completed.returncode == 0, completed.stderr
    assert "(5 classes)" in completed.stdout
    meta = json.loads((tmp_path / "out" / "iter_1" / "meta.json").read_text())
    assert (meta["num_classes"], meta["ignore_index"]) == (5, 7)

    export = subprocess.run(
        [sys.executable, str(TRAIN.parent / "export.py"), "--model-path", str(tmp_path / "out"),
         "--save-dir", str(tmp_path / "export"), "--input-shape", "1", "3", "32", "64"],
        capture_output=True, text=True, timeout=300, check=False)
    assert export.returncode == 0, export.stdout + export.stderr
    assert "num_classes: 5" in (tmp_path / "export" / "deploy.yaml").read_text()

    resumed = run_train(tmp_path, lines, extra=["--iters", "2", "--resume",
                                                str(tmp_path / "out"), "--num-classes", "6"])
    assert_one_line_error(resumed, "a checkpoint of 5 classes", "--num-classes 5")


def truncated_jpeg(path, size=(64, 32)):
    """A JPEG cut off in its scan: OpenCV decodes it with the missing rows grey."""
    image = np.random.default_rng(0).integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)
    data = cv2.imencode(".jpg", image)[1].tobytes()
    path.write_bytes(data[: len(data) * 2 // 3])
    assert cv2.imread(str(path)) is not None  # the silent case this guards against


def test_truncated_jpeg_image_is_named(tmp_path):
    line = write_pair(tmp_path, "a")
    truncated_jpeg(tmp_path / "img" / "a.jpg")
    assert_one_line_error(run_train(tmp_path, [line.replace("a.png", "a.jpg", 1)]),
                          "img/a.jpg", "truncated JPEG")


def data_errors(completed):
    return [line for line in completed.stderr.splitlines() if line.startswith("error:")]


def test_check_data_reports_every_problem_of_every_file_and_stops(tmp_path):
    lines = [write_pair(tmp_path, "good"),
             write_pair(tmp_path, "small", label_size=(32, 32)),
             write_pair(tmp_path, "value", label_value=19),
             write_pair(tmp_path, "broken")]
    (tmp_path / "img" / "broken.png").write_bytes(b"not a png")
    colour = np.zeros((32, 64, 3), np.uint8)
    colour[:, :, 2] = 128  # an RGB colour label, not a map of class ids
    cv2.imwrite(str(tmp_path / "lbl" / "colour.png"), colour)
    cv2.imwrite(str(tmp_path / "img" / "colour.png"), np.zeros((32, 64, 3), np.uint8))
    lines.append("img/colour.png lbl/colour.png")
    completed = run_train(tmp_path, lines, extra=["--check-data"])
    assert completed.returncode == 2 and "Traceback" not in completed.stderr
    errors = data_errors(completed)
    assert len(errors) == 4, completed.stderr
    assert "lbl/small.png: label is 32x32 but its image is 64x32" in errors[0]
    assert "lbl/value.png: label value 19 is not a class" in errors[1]
    assert "img/broken.png" in errors[2]
    assert "lbl/colour.png: label has 3 different channels" in errors[3]
    assert "train: 5 samples, 4 problem(s)" in completed.stdout
    assert "train: label values (share of pixels): 1 " in completed.stdout
    assert "19 " in completed.stdout  # the out-of-range value is counted too
    assert not (tmp_path / "out").exists()  # nothing trained, nothing written


def test_check_data_on_good_data_says_so(tmp_path):
    completed = run_train(tmp_path, [write_pair(tmp_path, "a"), write_pair(tmp_path, "b")],
                          extra=["--check-data"])
    assert completed.returncode == 0, completed.stderr
    assert "train: 2 samples, 0 problem(s)" in completed.stdout
    assert "train: label values (share of pixels): 1 100.0%" in completed.stdout
    assert "data check: no problem found" in completed.stdout and not data_errors(completed)


def test_binary_masks_saved_as_0_and_255_are_named_with_the_fix(tmp_path):
    """255 is the ignore value: every foreground pixel of a 0/255 mask would be ignored,
    which no per-file check sees (both values are valid)."""
    lines = [write_pair(tmp_path, "a", label_value=0), write_pair(tmp_path, "b", label_value=255)]
    completed = run_train(tmp_path, lines, extra=["--check-data", "--num-classes", "2"])
    assert completed.returncode == 2
    [error] = data_errors(completed)
    assert "train split: the labels hold only 0 and the ignore value 255" in error
    assert "label // 255" in error


def test_class_ids_counted_from_1_are_named_with_the_fix(tmp_path):
    lines = [write_pair(tmp_path, "a", label_value=1), write_pair(tmp_path, "b", label_value=2)]
    completed = run_train(tmp_path, lines, extra=["--check-data", "--num-classes", "2"])
    assert completed.returncode == 2
    errors = data_errors(completed)
    assert len(errors) == 2 and "lbl/b.png: label value 2 is not a class" in errors[0]
    assert "the labels hold 1..2 and no 0: class ids counted from 1?" in errors[1]


def test_a_run_checks_its_first_samples_before_its_first_step(tmp_path):
    """Two bad labels among the first samples: both named, and no training step runs
    (before, the run stopped at the first batch that read one, after whatever came
    before it)."""
    lines = [write_pair(tmp_path, "a"), write_pair(tmp_path, "b", label_value=30),
             write_pair(tmp_path, "c", label_value=40)]
    completed = run_train(tmp_path, lines, extra=["--iters", "3"])
    assert completed.returncode == 2 and "Traceback" not in completed.stderr
    errors = data_errors(completed)
    assert [e.split(":")[1].strip() for e in errors[:2]] == [
        str(tmp_path / "lbl" / "b.png"), str(tmp_path / "lbl" / "c.png")]
    assert "[iter" not in completed.stdout
