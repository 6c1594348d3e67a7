"""The Padding evaluation transform (PaddleSeg's cityscapes_769x769 recipe pads every
image to 2049x1025): it pads as PaddleSeg's does, leaves the metrics of the original
image unchanged, and infer.py pads deployed inputs the same way and crops the masks
back to the image."""

import cv2
import numpy as np
import paddle
import pytest
from paddleseg.transforms import Normalize as PaddleSegNormalize
from paddleseg.transforms import Padding as PaddleSegPadding

from segc.templates.fragments.data.datasets import SegDataError
from segc.templates.fragments.data.transforms import Compose, Normalize, Padding
from segc.templates.fragments.runtime.deploy_config import (
    deploy_config_fields,
    deploy_yaml_lines,
    export_deploy_info,
)
from segc.templates.fragments.runtime.infer_cli import infer_main
from segc.templates.fragments.runtime.metrics import confusion_matrix

TARGET = (48, 40)  # width, height


def random_sample(width=30, height=21, seed=0):
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    label = rng.integers(0, 5, (height, width)).astype(np.uint8)
    label[rng.random(label.shape) < 0.1] = 255
    return image, label


def paddleseg_input(image, label):
    """What PaddleSeg's Compose hands its transforms: a float32 image."""
    return {"img": image.astype("float32"), "label": label, "gt_fields": ["label"],
            "trans_info": []}


def paddleseg_padding(image, label, **kwargs):
    return PaddleSegPadding(list(TARGET), **kwargs)(paddleseg_input(image, label))


@pytest.mark.parametrize("kwargs", [{}, {"im_padding_value": 0, "label_padding_value": 250}])
def test_padding_equals_paddleseg_on_a_random_image(kwargs):
    image, label = random_sample()
    expected = paddleseg_padding(image, label, **kwargs)
    padded, padded_label = Padding(TARGET, **kwargs)(image, label, None)
    assert padded.shape == expected["img"].shape == (TARGET[1], TARGET[0], 3)
    assert np.array_equal(padded.astype(np.float32), expected["img"])
    assert np.array_equal(padded_label, expected["label"])
    # a whole-number padding value keeps the uint8 pipeline; 127.5 needs float32
    assert padded.dtype == (np.float32 if not kwargs else np.uint8)

    # ... and normalised, as evaluation feeds the model
    ours, _ = Compose([Padding(TARGET, **kwargs), Normalize()])(image, label)
    theirs = PaddleSegNormalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))(expected)["img"]
    assert np.abs(ours - theirs.transpose(2, 0, 1)).max() < 1e-6
    if not kwargs:
        assert np.abs(ours[:, image.shape[0]:, :]).max() < 1e-6  # 127.5 is mid-grey: 0


def test_metrics_over_the_padded_label_are_the_originals():
    image, label = random_sample(seed=1)
    _, padded_label = Padding(TARGET)(image, label, None)
    prediction = np.random.default_rng(2).integers(0, 5, padded_label.shape)
    height, width = label.shape
    whole = confusion_matrix(prediction, padded_label, 5, 255)
    original = confusion_matrix(prediction[:height, :width], label, 5, 255)
    assert np.array_equal(whole, original)
    assert whole.sum() == np.sum(label != 255)


def test_padding_refuses_an_image_larger_than_the_target():
    image, label = random_sample(width=TARGET[0] + 1)
    with pytest.raises(SegDataError, match=r"49x21 is larger than Padding's target_size 48x40"):
        Padding(TARGET)(image, label, None)
    with pytest.raises(ValueError, match=r"larger than `target_size`"):
        PaddleSegPadding(list(TARGET))(paddleseg_input(image, label))


def test_deploy_config_reads_padding_and_refuses_what_infer_cannot_do():
    base = {"model": "model.json", "params": "model.pdiparams"}
    config = deploy_config_fields(dict(base, transforms=[
        {"type": "Padding", "target_size": 64}, {"type": "Normalize"}]), "/tmp")
    assert config["padding"] == {"size": (64, 64), "value": 127.5}
    assert config["resize"] is None
    with pytest.raises(ValueError, match="Resize after a Padding"):
        deploy_config_fields(dict(base, transforms=[
            {"type": "Padding", "target_size": [64, 32]}, {"type": "Resize"}]), "/tmp")
    with pytest.raises(ValueError, match="differs from the fixed input_shape"):
        deploy_config_fields(dict(base, input_shape=[1, 3, 32, 32], transforms=[
            {"type": "Padding", "target_size": [64, 32]}]), "/tmp")


class TinySegmenter(paddle.nn.Layer):
    """Two 3x3 convs: pixels near the padding see it, so a wrong pad value or a crop in
    the wrong place changes the mask."""

    def __init__(self):
        super().__init__()
        self.conv1 = paddle.nn.Conv2D(3, 8, 3, padding=1)
        self.conv2 = paddle.nn.Conv2D(8, 4, 3, padding=1)

    def forward(self, x):
        return self.conv2(paddle.nn.functional.relu(self.conv1(x)))


SPEC = {
    "name": "tiny",
    "val_transforms": [
        {"type": "Padding", "target_size": list(TARGET), "im_padding_value": 127.5,
         "label_padding_value": 255},
        {"type": "Normalize", "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]}],
}


@pytest.fixture(scope="module")
def deployed(tmp_path_factory):
    """A tiny exported model whose deploy.yaml pads to TARGET, as export.py writes it."""
    folder = tmp_path_factory.mktemp("deploy")
    paddle.seed(0)
    model = TinySegmenter()
    model.eval()
    spec = paddle.static.InputSpec([None, 3, None, None], "float32", name="x")
    paddle.jit.save(paddle.jit.to_static(model, input_spec=[spec], full_graph=True),
                    str(folder / "model"))
    info = export_deploy_info(SPEC, "model.json", [-1, 3, -1, -1], "none", 19)
    (folder / "deploy.yaml").write_text("\n".join(deploy_yaml_lines(info)) + "\n")
    return folder, model


def test_infer_pads_the_image_and_crops_the_mask_back(deployed, tmp_path):
    folder, model = deployed
    image, _ = random_sample(seed=3)
    rgb_path = tmp_path / "small.png"
    cv2.imwrite(str(rgb_path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    infer_main(SPEC, ["--config", str(folder), "--image", str(rgb_path),
                      "--save-dir", str(tmp_path / "out"), "--cpu-threads", "1"])
    mask = cv2.imread(str(tmp_path / "out" / "small.png"), cv2.IMREAD_UNCHANGED)
    assert mask.shape == image.shape[:2]

    # PaddleSeg's evaluation of the same image: Padding, Normalize, model, crop.
    data = PaddleSegNormalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))(
        paddleseg_padding(image, np.zeros(image.shape[:2], np.uint8)))
    x = paddle.to_tensor(data["img"].transpose(2, 0, 1)[None].copy())
    with paddle.no_grad():
        expected = paddle.argmax(model(x), axis=1)[0].numpy()
    height, width = image.shape[:2]
    assert (mask == expected[:height, :width]).mean() >= 0.999
    # the padding matters: without it the border pixels come out differently
    with paddle.no_grad():
        unpadded = paddle.argmax(model(x[:, :, :height, :width]), axis=1)[0].numpy()
    assert not np.array_equal(unpadded, expected[:height, :width])


def test_infer_refuses_an_image_larger_than_the_padding_target(deployed, tmp_path, capsys):
    folder, _ = deployed
    image, _ = random_sample(width=TARGET[0] + 2, height=TARGET[1] + 1, seed=4)
    path = tmp_path / "large.png"
    cv2.imwrite(str(path), image)
    with pytest.raises(SystemExit) as stopped:
        infer_main(SPEC, ["--config", str(folder), "--image", str(path),
                          "--save-dir", str(tmp_path / "out"), "--cpu-threads", "1"])
    assert stopped.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert err.startswith(f"error: {path}: image of 50x41 is larger than the Padding "
                          "target_size 48x40 of ")
