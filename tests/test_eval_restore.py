"""Evaluation scores the original label, as PaddleSeg does: the val transforms change
only the image, and the logits are brought back (Resize undone by a bilinear resize,
Padding by a crop) before the argmax. The human-segmentation recipes resize in
evaluation, where scoring the resized label instead gives other figures."""

import numpy as np
import paddle
import pytest
from paddleseg.core import evaluate as paddleseg_evaluate  # the oracle
from paddleseg.core.infer import reverse_transform
from paddleseg.datasets import Dataset as PaddleSegDataset
from paddleseg.transforms import Normalize as PaddleSegNormalize
from paddleseg.transforms import Padding as PaddleSegPadding
from paddleseg.transforms import Resize as PaddleSegResize

from segc.templates.fragments.data.datasets import (
    DEMO_NUM_CLASSES,
    SegDataError,
    SegDataset,
    file_list_samples,
    make_demo_data,
    read_image,
)
from segc.templates.fragments.data.portrait_transforms import ScalePadding
from segc.templates.fragments.data.transforms import (
    Compose,
    Normalize,
    Padding,
    RandomPaddingCrop,
    Resize,
)
from segc.templates.fragments.runtime import evaluation
from segc.templates.fragments.runtime.metrics import confusion_matrix, segmentation_metrics

from .oracle.runtime import fix_metrics_area

fix_metrics_area()  # PaddleSeg's metrics under Paddle 3.3 (tests/oracle/runtime.py)


class _StridedClassifier(paddle.nn.Layer):
    """A tiny model at a quarter of the input's resolution, upsampled: its class map at
    one input size is not the resized class map of another."""

    def __init__(self, num_classes):
        super().__init__()
        self.conv = paddle.nn.Conv2D(3, num_classes, 5, stride=4, padding=2)

    def forward(self, x):
        logits = self.conv(x)
        return [paddle.nn.functional.interpolate(logits, x.shape[2:], mode="bilinear")]


def test_compose_records_how_to_undo_each_size_change():
    image = np.zeros((30, 50, 3), np.uint8)
    restore = []
    out, label = Compose([Resize((64, 32)), Padding((80, 40)), Normalize()])(
        image, None, np.random.default_rng(0), restore)
    assert out.shape == (3, 40, 80) and label is None
    assert restore == [("resize", (30, 50)), ("crop", (32, 64))]


def test_restore_logits_equals_paddleseg_reverse_transform():
    logits = paddle.to_tensor(np.random.default_rng(0).normal(size=(1, 4, 40, 80)), "float32")
    ours = evaluation.restore_logits(logits, [("resize", (30, 50)), ("crop", (32, 64))])
    expected = reverse_transform(logits, [("resize", (30, 50)), ("padding", (32, 64))],
                                 mode="bilinear")
    assert ours.shape == [1, 4, 30, 50]
    np.testing.assert_allclose(ours.numpy(), expected.numpy(), atol=1e-6)


@pytest.mark.parametrize("height, width", [(30, 50), (50, 30), (40, 40)])
def test_scale_padding_is_undone_on_the_logits(height, width):
    """PortraitNet's ScalePadding (a centred square, resized): one-hot logits of the
    transformed label come back as the label, but for pixels at the class boundary."""
    label = np.zeros((height, width), np.uint8)
    label[height // 3:, width // 4: 3 * width // 4] = 1
    restore = []
    image, transformed = Compose([ScalePadding((64, 64), label_padding_value=0)])(
        np.zeros((height, width, 3), np.uint8), label, np.random.default_rng(0), restore)
    assert image.shape == (3, 64, 64) and restore == [("scale_padding", (height, width))]
    logits = paddle.to_tensor(np.eye(2, dtype="float32")[transformed].transpose(2, 0, 1)[None])
    back = paddle.argmax(evaluation.restore_logits(logits, restore), axis=1)[0].numpy()
    assert back.shape == (height, width)
    assert (back == label).mean() > 0.95


def test_a_val_transform_that_cannot_be_undone_is_an_error():
    compose = Compose([RandomPaddingCrop((16, 16)), Normalize()])
    with pytest.raises(SegDataError, match="RandomPaddingCrop changes the image size"):
        compose(np.zeros((30, 50, 3), np.uint8), None, np.random.default_rng(0), [])


@pytest.mark.parametrize("size", [(96, 48), (200, 90)])
def test_evaluate_with_resize_equals_paddleseg_evaluate(tmp_path, size):
    root = make_demo_data(tmp_path / "demo")
    paddle.seed(0)
    model = _StridedClassifier(DEMO_NUM_CLASSES)
    model.eval()

    ours = evaluation.evaluate(model, SegDataset(
        file_list_samples(root, "val.txt"), Compose([Resize(size), Normalize()]),
        DEMO_NUM_CLASSES, 255, evaluation=True))
    oracle = PaddleSegDataset(
        mode="val", dataset_root=str(root), val_path=str(root / "val.txt"),
        num_classes=DEMO_NUM_CLASSES, ignore_index=255,
        transforms=[PaddleSegResize(target_size=size), PaddleSegNormalize()])
    miou, accuracy, class_iou, _, kappa = paddleseg_evaluate(model, oracle, print_detail=False)
    assert ours["miou"] == pytest.approx(miou, abs=1e-6)
    assert ours["accuracy"] == pytest.approx(accuracy, abs=1e-6)
    assert ours["kappa"] == pytest.approx(kappa, abs=1e-6)
    np.testing.assert_allclose(ours["class_iou"], class_iou, atol=1e-6)

    # scoring the resized label, as segc did before, gives other figures
    resized_label = SegDataset(file_list_samples(root, "val.txt"),
                               Compose([Resize(size), Normalize()]), DEMO_NUM_CLASSES, 255)
    confusion = 0
    with paddle.no_grad():
        for index in range(len(resized_label)):
            image, label = resized_label[index]
            prediction = evaluation.predict_classes(model, image)
            confusion = confusion + confusion_matrix(prediction, label,
                                                              DEMO_NUM_CLASSES, 255)
    assert segmentation_metrics(confusion)["miou"] != pytest.approx(miou, abs=1e-6)


def test_evaluate_with_padding_equals_paddleseg_evaluate(tmp_path):
    root = make_demo_data(tmp_path / "demo")
    paddle.seed(1)
    model = _StridedClassifier(DEMO_NUM_CLASSES)
    model.eval()
    image_size = read_image(str(root / "images" / "image_032.png")).shape[:2]
    target = (image_size[1] + 13, image_size[0] + 7)
    ours = evaluation.evaluate(model, SegDataset(
        file_list_samples(root, "val.txt"), Compose([Padding(target), Normalize()]),
        DEMO_NUM_CLASSES, 255, evaluation=True))
    oracle = PaddleSegDataset(
        mode="val", dataset_root=str(root), val_path=str(root / "val.txt"),
        num_classes=DEMO_NUM_CLASSES, ignore_index=255,
        transforms=[PaddleSegPadding(target_size=target), PaddleSegNormalize()])
    miou, accuracy, _, _, kappa = paddleseg_evaluate(model, oracle, print_detail=False)
    assert ours["miou"] == pytest.approx(miou, abs=1e-6)
    assert ours["accuracy"] == pytest.approx(accuracy, abs=1e-6)
    assert ours["kappa"] == pytest.approx(kappa, abs=1e-6)
