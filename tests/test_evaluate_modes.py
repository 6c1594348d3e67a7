"""evaluate.py and predict.py (issue 11, items 1 and 2) against PaddleSeg 2.8's
`paddleseg.core.evaluate`, mode by mode: the whole image, sliding windows that overlap
and are moved back at the borders, multi-scale and flip test-time augmentation, and both
together; and the spec's own evaluation scale (PP-LiteSeg's 0.5) when no mode is given.

One set of weights for the module: PaddleSeg's PP-LiteSeg (STDC1), built with its random
initialisation and non-trivial BN statistics, saved as a .pdparams file, which
evaluate.py loads into segc's model. PaddleSeg's evaluate runs its own model with the
same state dict on the same demo images (3 of the validation set, to keep the test
short), so figures equal to 1e-6 mean the same pixels predicted the same.
"""

import csv
import json
import sys

import numpy as np
import paddle
import pytest
from paddleseg.core import evaluate as paddleseg_evaluate  # the oracle
from paddleseg.datasets import Dataset as PaddleSegDataset
from paddleseg.transforms import Normalize as PaddleSegNormalize

from segc.templates.fragments.data.datasets import DEMO_CLASS_NAMES, make_demo_data

from .generated_scripts import load_script, normalize_args, resolved_spec
from .oracle import oracle_fix, paddleseg_model, randomise_batch_norm_statistics
from .oracle.runtime import fix_metrics_area

fix_metrics_area()  # PaddleSeg's metrics under Paddle 3.3 (tests/oracle/runtime.py)

COMBINATION = "pp_liteseg_stdc1"  # evaluated at scale 0.5 by its recipe
NUM_CLASSES = len(DEMO_CLASS_NAMES)
VAL_IMAGES = 3

# (test id, evaluate.py's mode flags, PaddleSeg evaluate's arguments for the same mode)
SLIDE = {"is_slide": True, "crop_size": [192, 160], "stride": [128, 96]}
MODES = [
    ("spec scale", [], {"aug_eval": True, "scales": [0.5]}),
    ("whole", ["--scales", "1.0"], {}),
    (
        "slide",
        ["--scales", "1.0", "--is-slide", "--crop-size", "192", "160", "--stride", "128", "96"],
        SLIDE,
    ),
    (
        "aug",
        ["--aug-eval", "--scales", "0.75", "1.25", "--flip-horizontal", "--flip-vertical"],
        {"aug_eval": True, "scales": [0.75, 1.25], "flip_horizontal": True, "flip_vertical": True},
    ),
    (
        "slide and aug",
        [
            "--scales",
            "0.5",
            "1.0",
            "--flip-horizontal",
            "--slide",
            "--crop-size",
            "192",
            "160",
            "--stride",
            "128",
            "96",
        ],
        {"aug_eval": True, "scales": [0.5, 1.0], "flip_horizontal": True, **SLIDE},
    ),
]


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """(work folder with demo_data/ and weights.pdparams, PaddleSeg's model, its dataset)."""
    work = tmp_path_factory.mktemp("evaluate_modes")
    root = make_demo_data(work / "demo_data")
    lines = (root / "val.txt").read_text().splitlines()[:VAL_IMAGES]
    (root / "val_few.txt").write_text("\n".join(lines) + "\n")
    paddle.seed(7)
    reference = paddleseg_model(resolved_spec(COMBINATION), NUM_CLASSES)
    randomise_batch_norm_statistics(reference, seed=7)
    reference.eval()
    paddle.save(reference.state_dict(), str(work / "weights.pdparams"))
    dataset = PaddleSegDataset(
        mode="val",
        dataset_root=str(root),
        val_path=str(root / "val_few.txt"),
        num_classes=NUM_CLASSES,
        ignore_index=255,
        transforms=[PaddleSegNormalize(**normalize_args(COMBINATION))],
    )
    return work, reference, dataset


def run_script(script, argv, work, monkeypatch, capsys):
    monkeypatch.chdir(work)
    load_script(COMBINATION, script).main([str(a) for a in argv])
    return capsys.readouterr().out


@pytest.fixture(scope="module")
def evaluated(setup):
    """evaluate.py's metrics.json in each mode, its --save-dir work/<mode>. Built here,
    not by the tests that compare them, so that no test depends on another having run
    first (an xdist worker may tear module fixtures down between a module's tests)."""
    work, _, _ = setup
    results = {}
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(work)
        for mode, flags, _ in MODES:
            save_dir = work / mode.replace(" ", "_")
            argv = ["--model-path", "weights.pdparams", "--data", "demo", "--val-list",
                    "val_few.txt", "--save-dir", save_dir, *flags]
            load_script(COMBINATION, "evaluate.py").main([str(a) for a in argv])
            results[mode] = json.loads((save_dir / "metrics.json").read_text())
    return results


@pytest.mark.slow
@pytest.mark.parametrize(("mode", "oracle_args"), [(m[0], m[2]) for m in MODES],
                         ids=[m[0] for m in MODES])
def test_evaluate_equals_paddleseg_evaluate(mode, oracle_args, setup, evaluated):
    _, reference, dataset = setup
    ours = evaluated[mode]
    with oracle_fix(resolved_spec(COMBINATION)["arch"]):
        miou, accuracy, class_iou, class_precision, kappa = paddleseg_evaluate(
            reference, dataset, print_detail=False, **oracle_args
        )
    assert ours["images"] == VAL_IMAGES
    assert ours["miou"] == pytest.approx(miou, abs=1e-6)
    assert ours["accuracy"] == pytest.approx(accuracy, abs=1e-6)
    assert ours["kappa"] == pytest.approx(kappa, abs=1e-6)
    np.testing.assert_allclose([c["iou"] for c in ours["classes"]], class_iou, atol=1e-6)
    np.testing.assert_allclose(
        [c["precision"] for c in ours["classes"]], class_precision, atol=1e-6
    )
    assert [c["name"] for c in ours["classes"]] == list(DEMO_CLASS_NAMES)


@pytest.mark.slow
def test_the_modes_give_different_figures(evaluated):
    """Each mode changes the predictions, so the comparisons above can fail."""
    mious = [evaluated[mode]["miou"] for mode, _, _ in MODES]
    assert len(set(mious)) == len(mious), mious


@pytest.mark.slow
def test_confusion_matrix_files_carry_the_class_names(setup, evaluated):
    work, _, _ = setup
    save_dir = work / "whole"
    rows = list(csv.reader((save_dir / "confusion_matrix.csv").open()))
    assert rows[0] == ["label \\ prediction", *DEMO_CLASS_NAMES]
    assert [row[0] for row in rows[1:]] == list(DEMO_CLASS_NAMES)
    counts = np.array([[int(v) for v in row[1:]] for row in rows[1:]])
    assert counts.tolist() == evaluated["whole"]["confusion_matrix"]
    # the counts are the labelled pixels of the images, ignored ones left out
    labels = [np.asarray(dataset_label) for dataset_label in _labels(work)]
    assert counts.sum() == sum(int((label != 255).sum()) for label in labels)
    assert (save_dir / "confusion_matrix.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _labels(work):
    import cv2

    root = work / "demo_data"
    for line in (root / "val_few.txt").read_text().splitlines():
        yield cv2.imread(str(root / line.split()[1]), cv2.IMREAD_UNCHANGED)


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["whole", "slide and aug"])
def test_predict_masks_are_evaluate_predictions(mode, setup, evaluated, monkeypatch, capsys):
    """predict.py's masks are the class maps evaluate.py scores, in the same mode: its
    confusion matrix recomputed from the masks is evaluate.py's."""
    work, _, _ = setup
    flags = next(f for m, f, _ in MODES if m == mode)
    save_dir = work / f"predict_{mode.replace(' ', '_')}"
    out = run_script(
        "predict.py",
        [
            "--model-path",
            "weights.pdparams",
            "--num-classes",
            5,
            "--image",
            "demo_data/val_few.txt",
            "--save-dir",
            save_dir,
            *flags,
        ],
        work,
        monkeypatch,
        capsys,
    )
    assert f"wrote {VAL_IMAGES} masks and overlays" in out
    import cv2

    confusion = np.zeros((NUM_CLASSES, NUM_CLASSES), np.int64)
    for line, label in zip(
        (work / "demo_data" / "val_few.txt").read_text().splitlines(), _labels(work)
    ):
        stem = line.split()[0].rsplit("/", 1)[1][: -len(".png")]
        mask = cv2.imread(str(save_dir / f"{stem}.png"), cv2.IMREAD_UNCHANGED)
        overlay = cv2.imread(str(save_dir / f"{stem}_overlay.jpg"))
        assert mask.shape == label.shape and overlay.shape == (*label.shape, 3)
        keep = label != 255
        np.add.at(confusion, (label[keep], mask[keep]), 1)
    assert confusion.tolist() == evaluated[mode]["confusion_matrix"]


BAD_INPUTS = [
    (
        "evaluate.py",
        ["--model-path", "no/such.pdparams", "--data", "demo"],
        "no/such.pdparams: model weights not found",
    ),
    (
        "evaluate.py",
        ["--model-path", "weights.pdparams", "--data", "demo", "--is-slide"],
        "--is-slide needs --crop-size W H and --stride W H",
    ),
    (
        "evaluate.py",
        [
            "--model-path",
            "weights.pdparams",
            "--data",
            "demo",
            "--is-slide",
            "--crop-size",
            "64",
            "64",
            "--stride",
            "96",
            "32",
        ],
        "--stride must not exceed --crop-size",
    ),
    (
        "predict.py",
        ["--model-path", "weights.pdparams", "--num-classes", "5", "--image", "broken.jpg"],
        "broken.jpg: cannot be read as an image",
    ),
    (
        "predict.py",
        ["--model-path", "weights.pdparams", "--num-classes", "5", "--image", "no/such/folder"],
        "no/such/folder: image not found",
    ),
    (
        "predict.py",
        [
            "--model-path",
            "weights.pdparams",
            "--num-classes",
            "5",
            "--image",
            "demo_data/images",
            "--crop-size",
            "64",
            "64",
        ],
        "--crop-size and --stride go with --is-slide",
    ),
]


@pytest.mark.parametrize(
    ("script", "argv", "expected"),
    BAD_INPUTS,
    ids=[f"{s}: {e.split(':')[0]}" for s, _, e in BAD_INPUTS],
)
def test_bad_input_is_one_line_and_exit_2(script, argv, expected, setup, monkeypatch, capsys):
    work, _, _ = setup
    (work / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 64)  # no end marker
    monkeypatch.chdir(work)
    with pytest.raises(SystemExit) as stopped:
        load_script(COMBINATION, script).main(argv)
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if "error:" in line]
    assert stopped.value.code == 2 and len(errors) == 1 and "Traceback" not in err, err
    assert expected in errors[0], err


def test_without_matplotlib_the_png_is_skipped_saying_how_to_get_it(
    setup, monkeypatch, capsys
):
    work, _, _ = setup
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # `import matplotlib` now fails
    save_dir = work / "no_matplotlib"
    out = run_script(
        "evaluate.py",
        ["--model-path", "weights.pdparams", "--data", "demo", "--val-list", "val_few.txt",
         "--scales", "1.0", "--save-dir", save_dir],
        work, monkeypatch, capsys,
    )
    assert "confusion_matrix.png skipped: it needs matplotlib (pip install matplotlib)" in out
    assert sorted(p.name for p in save_dir.iterdir()) == ["confusion_matrix.csv", "metrics.json"]


def test_class_names_come_from_the_dataset():
    """Cityscapes' 19 names in the recipe (segc's catalog), the demo's for --data demo,
    numbered classes where the count differs (--num-classes on other data)."""
    evaluate = load_script(COMBINATION, "evaluate.py")
    dataset = evaluate.SPEC["dataset"]
    assert dataset["type"] == "Cityscapes" and len(dataset["class_names"]) == 19
    assert dataset["class_names"][:3] == ["road", "sidewalk", "building"]
    assert evaluate.dataset_class_names(dataset, "data/cityscapes", 19) == dataset["class_names"]
    assert evaluate.dataset_class_names(dataset, "demo", 5) == list(DEMO_CLASS_NAMES)
    assert evaluate.dataset_class_names(dataset, "data/mine", 3) == [
        "class 0", "class 1", "class 2"]
