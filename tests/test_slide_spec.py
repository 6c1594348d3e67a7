"""A spec's sliding-window evaluation (`val: slide:`, PaddleSeg's test_config is_slide):
it reaches train.py's SPEC and evaluation, and is the default mode of evaluate.py and
predict.py, which --whole-image turns off and --crop-size / --stride override. The
windows themselves are compared with PaddleSeg's slide_inference in
tests/test_evaluate_modes.py."""

import argparse
import shutil

import numpy as np
import paddle
import pytest

from segc.cli import main as segc_main

from .conftest import REPO, ZOO, write_spec
from .generated_scripts import load_script
from .test_diagnostics import compile_bad

SLIDING = """\
_base_: _base_/cityscapes.yaml
name: tiny
title: Tiny
val:
  slide:
    crop_size: [96, 64]
    stride: [64, 48]
  transforms:
    - type: Normalize
loss:
  - type: CrossEntropyLoss
    coef: 1
  - type: CrossEntropyLoss
    coef: 0.4
model:
  type: FastSCNN
variants:
  - name: tiny
"""

SLIDE = {"crop_size": [96, 64], "stride": [64, 48]}


@pytest.fixture(scope="module")
def sliding_folder(tmp_path_factory):
    """The tiny spec compiled: FastSCNN evaluated in 96x64 windows every 64x48 pixels."""
    project = tmp_path_factory.mktemp("sliding")
    shutil.copytree(ZOO, project / "zoo_specs", ignore=shutil.ignore_patterns("__*"))
    shutil.copytree(REPO / "schema", project / "schema")
    spec = write_spec(project, "tiny.yaml", SLIDING)
    assert segc_main(["compile", str(spec), "--out", str(project / "generated")]) == 0
    return project / "generated"


def test_the_spec_reaches_train_py_and_the_help(sliding_folder, capsys):
    train = load_script("tiny", "train.py", root=sliding_folder)
    assert train.SPEC["val"]["slide"] == SLIDE
    with pytest.raises(SystemExit):
        train.train_arguments(train.SPEC, ["--help"])
    help_text = " ".join(capsys.readouterr().out.split())  # argparse wraps lines
    assert "not in the spec's sliding 96x64 windows every 64x48 pixels" in help_text


def mode_for(evaluate, argv):
    parser = argparse.ArgumentParser()
    evaluate.add_inference_mode_arguments(parser, evaluate.SPEC)
    args = parser.parse_args(argv)
    return evaluate.inference_mode_from_arguments(parser, args, evaluate.SPEC)


@pytest.mark.parametrize("script", ["evaluate.py", "predict.py"])
def test_evaluate_and_predict_slide_by_default(sliding_folder, script):
    module = load_script("tiny", script, root=sliding_folder)
    assert module.SPEC["val"]["slide"] == SLIDE
    mode = mode_for(module, [])
    assert (mode.crop_size, mode.stride) == ((96, 64), (64, 48))
    assert mode_for(module, ["--whole-image"]).crop_size is None
    mode = mode_for(module, ["--crop-size", "80", "80"])
    assert (mode.crop_size, mode.stride) == ((80, 80), (64, 48))
    mode = mode_for(module, ["--is-slide", "--stride", "32", "32"])
    assert (mode.crop_size, mode.stride) == ((96, 64), (32, 32))
    with pytest.raises(SystemExit):
        mode_for(module, ["--whole-image", "--is-slide"])


def test_a_spec_without_windows_still_evaluates_whole_images():
    evaluate = load_script("fastscnn", "evaluate.py")
    assert evaluate.SPEC["val"]["slide"] is None
    assert mode_for(evaluate, []).crop_size is None
    with pytest.raises(SystemExit):
        mode_for(evaluate, ["--crop-size", "64", "64"])  # needs --is-slide


def test_training_evaluates_in_the_spec_windows(sliding_folder):
    """train.py's evaluate() with the spec's windows is the sliding mode's figure, and a
    different one from the whole image's (so the windows are really used)."""
    train = load_script("tiny", "train.py", root=sliding_folder)
    paddle.seed(0)
    model = train.build_model(3)

    class Images:  # an evaluation dataset: (normalised CHW image, label, restore)
        num_classes, ignore_index = 3, 255

        def __len__(self):
            return 2

        def __getitem__(self, index):
            rng = np.random.default_rng(index)
            image = rng.normal(size=(3, 100, 150)).astype("float32")
            return image, rng.integers(0, 3, (100, 150)), ()

    sliding = train.evaluate(model, Images(), [1.0], train.SPEC["val"]["slide"])
    mode = train.InferenceMode(crop_size=(96, 64), stride=(64, 48))
    model.eval()
    expected = train.segmentation_metrics(train.evaluate_confusion(model, Images(), mode))
    whole = train.evaluate(model, Images(), [1.0])
    assert sliding["miou"] == expected["miou"]
    assert sliding["miou"] != whole["miou"]


def test_a_stride_over_the_window_is_an_error(run_segc, project):
    lines = compile_bad(run_segc, project, SLIDING.replace("stride: [64, 48]",
                                                           "stride: [100, 48]"))
    assert len(lines) == 1
    assert lines[0].startswith("zoo_specs/bad.yaml:7:13: error: val.slide.stride: ")
    assert "stride larger than the crop size" in lines[0]


def test_the_model_card_names_the_windows(sliding_folder):
    card = (sliding_folder / "tiny" / "README.md").read_text(encoding="utf-8")
    assert "| evaluation windows | 96 × 64 every 64 × 48 pixels" in card
    assert "evaluation windows" not in (
        REPO / "generated" / "fastscnn" / "README.md"
    ).read_text(encoding="utf-8")
