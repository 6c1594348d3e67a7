"""The ADE20K dataset (ADEChallengeData2016 layout, zero-label reduction) and the
ResizeByShort evaluation transform, against PaddleSeg 2.8's, and a generated train.py
whose spec names ADE20K reading such a tree."""

import subprocess
import sys

import cv2
import numpy as np
import pytest
from paddleseg.datasets import ADE20K
from paddleseg.transforms import Normalize as PaddleSegNormalize
from paddleseg.transforms import ResizeByShort as PaddleSegResizeByShort

from segc.templates.fragments.data.datasets import (
    ADE20KDataset,
    SegDataError,
    ade20k_samples,
    load_dataset,
)
from segc.templates.fragments.data.infer_transforms import (
    infer_normalize_coefficients,
    infer_preprocess,
)
from segc.templates.fragments.data.transforms import Compose, Normalize, ResizeByShort

from .generated_scripts import load_script

SPEC = {"type": "ADE20K", "root": "unused", "num_classes": 150, "ignore_index": 255}
# (name, width, height) per split; the label holds 0 (no class), 1 and 150 (first and
# last class) and a stripe of the image's own index
SAMPLES = {"training": [("ADE_train_00000002", 64, 48), ("ADE_train_00000001", 40, 56)],
           "validation": [("ADE_val_00000001", 60, 44)]}


def ade_label(width, height, index):
    label = np.zeros((height, width), np.uint8)
    label[: height // 2, : width // 2] = 1
    label[height // 2 :, width // 2 :] = 150
    label[:, :4] = 10 + index
    return label


def write_ade20k(root):
    for folder, samples in SAMPLES.items():
        (root / "images" / folder).mkdir(parents=True)
        (root / "annotations" / folder).mkdir(parents=True)
        for index, (name, width, height) in enumerate(samples):
            rng = np.random.default_rng(index)
            image = rng.integers(0, 255, (height, width, 3), dtype=np.uint8)
            cv2.imwrite(str(root / "images" / folder / f"{name}.jpg"), image)
            cv2.imwrite(str(root / "annotations" / folder / f"{name}.png"),
                        ade_label(width, height, index))
    return root


@pytest.fixture
def ade_root(tmp_path):
    return write_ade20k(tmp_path / "ADEChallengeData2016")


def test_samples_pair_each_jpg_with_its_png_sorted(ade_root):
    train = ade20k_samples(str(ade_root), "train")
    assert [p for pair in train for p in pair] == [
        str(ade_root / "images/training/ADE_train_00000001.jpg"),
        str(ade_root / "annotations/training/ADE_train_00000001.png"),
        str(ade_root / "images/training/ADE_train_00000002.jpg"),
        str(ade_root / "annotations/training/ADE_train_00000002.png")]
    assert ade20k_samples(str(ade_root), "val") == [
        (str(ade_root / "images/validation/ADE_val_00000001.jpg"),
         str(ade_root / "annotations/validation/ADE_val_00000001.png"))]


def test_labels_lose_one_as_paddlesegs_ade20k_reads_them(ade_root):
    """0 (no class) becomes the ignore value 255, 1..150 become 0..149, in training
    (before the transforms) and in evaluation, exactly as PaddleSeg 2.8's ADE20K."""
    train = load_dataset(SPEC, str(ade_root), "train", Compose([Normalize()]))
    assert isinstance(train, ADE20KDataset) and len(train) == 2
    theirs = ADE20K([PaddleSegNormalize()], dataset_root=str(ade_root), mode="train")
    by_path = {image: i for i, (image, _) in enumerate(theirs.file_list)}
    for key, (image_path, _) in enumerate(train.samples):
        image, label = train[key]
        expected = theirs[by_path[image_path]]
        np.testing.assert_array_equal(label, expected["label"])
        np.testing.assert_allclose(image, expected["img"], atol=1e-6)
        assert set(np.unique(label)) == {0, 149, 255, {0: 10, 1: 9}[key]}
    val = load_dataset(SPEC, str(ade_root), "val", Compose([Normalize()]))
    image, label, restore = val[0]
    expected = ADE20K([PaddleSegNormalize()], dataset_root=str(ade_root), mode="val")[0]
    np.testing.assert_array_equal(label, expected["label"][0])
    np.testing.assert_allclose(image, expected["img"], atol=1e-6)
    assert restore == []
    assert label.shape == (44, 60) and set(np.unique(label)) == {0, 9, 149, 255}


def test_a_file_list_of_ade20k_is_reduced_too(ade_root):
    (ade_root / "train.txt").write_text(
        "images/training/ADE_train_00000001.jpg annotations/training/ADE_train_00000001.png\n")
    dataset = load_dataset(SPEC, str(ade_root), "train", Compose([Normalize()]), "train.txt")
    assert isinstance(dataset, ADE20KDataset) and len(dataset) == 1
    assert set(np.unique(dataset[0][1])) == {0, 149, 255, 10}


def test_layout_errors_name_the_folder_and_the_layout(ade_root):
    with pytest.raises(SegDataError) as error:
        ade20k_samples(str(ade_root / "missing"), "val")
    message = str(error.value)
    assert "\n" not in message and "no ADE20K val images" in message
    assert "validation/*.jpg" in message and "annotations" in message
    (ade_root / "annotations/training/ADE_train_00000001.png").unlink()
    with pytest.raises(SegDataError) as error:
        ade20k_samples(str(ade_root), "train")
    message = str(error.value)
    assert message.startswith(str(ade_root / "annotations/training/ADE_train_00000001.png"))
    assert "label of" in message and "ADEChallengeData2016" in message and "\n" not in message


def test_a_value_beyond_150_is_named_with_the_reduction(ade_root):
    label_path = ade_root / "annotations/validation/ADE_val_00000001.png"
    label = ade_label(60, 44, 0)
    label[0, 0] = 151
    cv2.imwrite(str(label_path), label)
    dataset = load_dataset(SPEC, str(ade_root), "val", Compose([Normalize()]))
    with pytest.raises(SegDataError) as error:
        dataset[0]
    message = str(error.value)
    assert message.startswith(str(label_path)) and "label value 150 is not a class" in message
    assert "file value v is class v - 1" in message


@pytest.mark.parametrize("size", [(44, 60), (61, 43), (512, 683), (700, 512)])
def test_resize_by_short_is_paddlesegs(size):
    """Same size and pixels as PaddleSeg's ResizeByShort (float32 images, as evaluation
    reads them), the label nearest; evaluation records a resize back; infer.py's
    preprocessing gives the same model input."""
    rng = np.random.default_rng(0)
    image = rng.uniform(0, 255, (*size, 3)).astype(np.float32)
    label = rng.integers(0, 150, size, dtype=np.uint8)
    ours = Compose([ResizeByShort(48), Normalize()])
    restore = []
    mine, _ = ours(image.copy(), None, rng, restore)
    data = {"img": image.copy(), "label": label.copy(), "trans_info": [], "gt_fields": ["label"]}
    data = PaddleSegResizeByShort(48)(data)
    theirs = PaddleSegNormalize()(data)["img"].transpose(2, 0, 1)
    assert mine.shape == theirs.shape and min(mine.shape[1:]) == 48
    np.testing.assert_allclose(mine, theirs, atol=1e-5)
    assert restore == [("resize", size)]
    _, my_label = ResizeByShort(48)(image, label, rng)
    np.testing.assert_array_equal(my_label, data["label"])
    scale, shift = infer_normalize_coefficients([0.5] * 3, [0.5] * 3)
    bgr = np.ascontiguousarray(image.astype(np.uint8)[..., ::-1])
    batch = infer_preprocess(bgr, scale, shift, resize_short=48)
    expected, _ = ours(image.astype(np.uint8).astype(np.float32), None, rng)
    assert batch.shape[2:] == mine.shape[1:]
    np.testing.assert_allclose(batch[0], expected, atol=2e-2)


TINY_SPEC = """\
_base_: _base_/ade20k.yaml
name: ade_tiny
title: ADE20K test
paper: none
description: A tiny model on the ADE20K layout.
train:
  iters: 1
  batch_size: 1
val:
  slide:
    crop_size: [32, 32]
    stride: [24, 24]
  transforms:
    - type: ResizeByShort
      short_size: 32
    - type: Normalize
model:
  type: PPHumanSegLite
  align_corners: false
variants:
  - reference:
      config: none
      note: a test
"""


def test_a_generated_train_py_reads_the_ade20k_tree(run_segc, project, ade_root):
    """A spec whose dataset is ADE20K: its train.py lists the layout's samples, reduces
    the labels (--check-data's histogram has no value 150, 255 for the 0s), trains on
    them and evaluates with ResizeByShort in sliding windows (Segmenter's evaluation);
evaluation knows the 150 class names."""
    (project / "zoo_specs" / "ade_tiny.yaml").write_text(TINY_SPEC)
    code, _, err = run_segc("compile", "zoo_specs/ade_tiny.yaml", cwd=project)
    assert code == 0, err
    train_py = project / "generated" / "ade_tiny" / "train.py"
    train = load_script("ade_tiny", root=project / "generated")
    names = train.SPEC["dataset"]["class_names"]
    assert len(names) == 150 and names[0] == "wall" and names[-1] == "flag"

    def run(*extra):
        return subprocess.run(
            [sys.executable, str(train_py), "--data", str(ade_root), "--num-workers", "0",
             "--crop-size", "32", "32", "--save-dir", str(project / "out"), *extra],
            capture_output=True, text=True, timeout=300, check=False)

    checked = run("--check-data")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "train: 2 samples, 0 problem(s)" in checked.stdout
    assert "val: 1 samples, 0 problem(s)" in checked.stdout
    histogram = next(line for line in checked.stdout.splitlines()
                     if line.startswith("train: label values"))
    values = {int(v.split()[0]) for v in histogram.split(": ", 2)[2].split(", ")}
    assert values == {0, 9, 10, 149, 255}
    trained = run("--iters", "1", "--eval-interval", "1")
    assert trained.returncode == 0, trained.stdout + trained.stderr
    assert "mIoU" in trained.stdout


def test_infer_py_reads_resize_by_short_from_deploy_yaml(tmp_path, capsys):
    """deploy.yaml's ResizeByShort reaches infer.py's preprocessing as the short side; a
    fixed-shape export takes its own size instead; with a Resize it is refused."""
    infer = load_script("segmenter_vit_small_linear", "infer.py")
    for name in ("model.json", "model.pdiparams"):
        (tmp_path / name).write_bytes(b"")

    def config(transforms, shape="[1, 3, -1, -1]"):
        (tmp_path / "deploy.yaml").write_text(
            "Deploy:\n  model: model.json\n  params: model.pdiparams\n"
            f"  transforms: {transforms}\n  input_shape: {shape}\n")
        return infer.load_deploy_config(str(tmp_path))

    by_short = "[{type: ResizeByShort, short_size: 512}, {type: Normalize}]"
    loaded = config(by_short)
    assert loaded["resize_short"] == 512 and loaded["resize"] is None
    fixed = config(by_short, "[1, 3, 512, 640]")
    assert fixed["resize_short"] is None and fixed["resize"] == (640, 512)
    with pytest.raises(SystemExit) as stopped:
        config("[{type: ResizeByShort, short_size: 512}, {type: Resize, target_size: [64, 64]},"
               " {type: Normalize}]")
    assert stopped.value.code == 2
    assert "a Resize after a Padding or ResizeByShort is not supported" in capsys.readouterr().err
