"""The portrait recipe's transforms and EG1800 label rules against PaddleSeg 2.8's.

PaddleSeg draws its random numbers from Python's `random` and numpy's global
generator; segc's transforms draw from the `rng` they are given. `PaddleSegDraws` is
an `rng` that hands out PaddleSeg's draws in PaddleSeg's order, so that with both
seeded alike a whole random transform (draws and all) can be compared with PaddleSeg's.
The last tests record what PaddleSeg 2.8's EG1800 dataset actually feeds the model,
which the spec's header comment describes.
"""

import random

import cv2
import numpy as np
import pytest
from paddleseg import transforms as T
from paddleseg.datasets import EG1800
from PIL import Image, ImageEnhance

from segc.templates.fragments.data.datasets import EG1800Dataset, SegDataError, load_dataset
from segc.templates.fragments.data.portrait_transforms import (
    RandomAffine,
    RandomBlur,
    RandomDistortSharpness,
    RandomNoise,
    ScalePadding,
    distort_sharpness,
)
from segc.templates.fragments.data.transforms import Compose, Normalize, RandomHorizontalFlip

MEAN, STD = [0.485, 0.458, 0.408], [0.23, 0.23, 0.23]


class PaddleSegDraws:
    """An `rng` whose draws are PaddleSeg's: random() from Python's random module,
    integers() and normal() from numpy's global generator."""

    def random(self):
        return random.random()

    def integers(self, low, high=None):
        return np.random.randint(0, low) if high is None else np.random.randint(low, high)

    def normal(self, mean, sigma, shape):
        return np.random.normal(mean, sigma, shape)


def seed_both(seed):
    random.seed(seed)
    np.random.seed(seed)


def sample(width=61, height=47, seed=0):
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    label = np.zeros((height, width), np.uint8)
    cv2.ellipse(label, (width // 2, height // 2), (width // 4, height // 3), 0, 0, 360, 1, -1)
    return image, label


def paddleseg_data(image, label=None):
    data = {"img": image.astype("float32"), "trans_info": [], "gt_fields": []}
    if label is not None:
        data["label"] = label
        data["gt_fields"].append("label")
    return data


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("shape", [(47, 61), (80, 40)])
def test_random_affine_is_paddlesegs(seed, shape):
    image, label = sample(shape[1], shape[0], seed)
    args = {"size": (56, 48), "translation_offset": 10, "max_rotation": 45,
            "min_scale_factor": 0.5, "max_scale_factor": 1.5}
    random.seed(seed)
    expected = T.RandomAffine(**args)(paddleseg_data(image, label))
    random.seed(seed)
    got_image, got_label = RandomAffine(**args)(image, label, PaddleSegDraws())
    assert got_image.shape == (48, 56, 3) and got_image.dtype == np.uint8
    np.testing.assert_array_equal(got_image, expected["img"])
    np.testing.assert_array_equal(got_label, expected["label"])
    assert set(np.unique(got_label)) <= {0, 1, 255}


def test_random_affine_draws_in_range():
    transform = RandomAffine(translation_offset=56, max_rotation=45, min_scale_factor=0.5,
                             max_scale_factor=1.5)
    draws = np.array([transform.draw(np.random.default_rng(s)) for s in range(500)])
    assert np.all(np.abs(draws[:, :2]) <= 56) and np.all(np.abs(draws[:, 2]) <= 45)
    assert np.all((draws[:, 3] >= 0.5) & (draws[:, 3] <= 1.5))
    # the image's centre goes to the canvas centre (shifted): warped labels keep their values
    image, label = sample(41, 41)
    got_image, got_label = transform(image, label, np.random.default_rng(0))
    assert got_image.shape == (224, 224, 3) and got_label.shape == (224, 224)
    assert set(np.unique(got_label)) <= {0, 1, 255}


@pytest.mark.parametrize("shape", [(47, 61), (61, 47), (50, 50)])
def test_scale_padding_is_paddlesegs(shape):
    image, label = sample(shape[1], shape[0])
    args = {"target_size": (32, 40), "im_padding_value": [127.5, 127.5, 127.5],
            "label_padding_value": 0}
    expected = T.ScalePadding(**args)(paddleseg_data(image, label))
    got_image, got_label = ScalePadding(**args)(image, label, np.random.default_rng(0))
    assert got_image.shape == (40, 32, 3)
    np.testing.assert_array_equal(got_image, expected["img"])
    # PaddleSeg resizes the label bicubically, segc by nearest neighbours: both give 0
    # and 1 here, and differ only along the portrait's boundary
    assert set(np.unique(got_label)) <= {0, 1}
    boundary = cv2.morphologyEx(got_label, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8)) > 0
    np.testing.assert_array_equal(got_label[~boundary], expected["label"][~boundary])


@pytest.mark.parametrize("blur_type", ["gaussian", "median", "blur", "random"])
@pytest.mark.parametrize("prob", [0.5, 1.0])
def test_random_blur_is_paddlesegs(blur_type, prob):
    image, _ = sample()
    blurred = 0
    for seed in range(12):
        seed_both(seed)
        expected = T.RandomBlur(prob=prob, blur_type=blur_type)(paddleseg_data(image))["img"]
        seed_both(seed)
        got, _ = RandomBlur(prob=prob, blur_type=blur_type)(image, None, PaddleSegDraws())
        np.testing.assert_array_equal(got, expected)
        blurred += not np.array_equal(got, image)
    assert blurred == 12 if prob == 1.0 else 0 < blurred < 12


def test_random_blur_draws():
    transform = RandomBlur(prob=0.5, blur_type="random")
    draws = [transform.draw(np.random.default_rng(s)) for s in range(400)]
    done = [d for d in draws if d is not None]
    assert 120 < len(done) < 280  # int(1 / 0.5) = 2: half of the images
    assert {size for _, size in done} == {3, 5, 7, 9}
    assert {kind for kind, _ in done} == {"gaussian", "median", "blur"}
    assert RandomBlur(prob=0).draw(np.random.default_rng(0)) is None


def test_random_noise_is_paddlesegs_and_in_range():
    image, _ = sample()
    for seed in range(6):
        seed_both(seed)
        expected = T.RandomNoise(prob=0.5, max_sigma=10)(paddleseg_data(image))["img"]
        seed_both(seed)
        got, _ = RandomNoise(prob=0.5, max_sigma=10)(image, None, PaddleSegDraws())
        np.testing.assert_allclose(got, expected, atol=1e-3)
    noisy, _ = RandomNoise(prob=1.0, max_sigma=10)(image, None, np.random.default_rng(0))
    assert noisy.dtype == np.float32 and noisy.shape == image.shape
    assert noisy.min() >= 0 and noisy.max() <= 255
    assert 0 < np.abs(noisy - image).mean() < 10
    same, _ = RandomNoise(prob=0.0)(image, None, np.random.default_rng(0))
    assert same is image


@pytest.mark.parametrize("factor", [0.0, 0.8, 1.0, 1.2, 2.0])
def test_sharpness_is_pils(factor):
    image, _ = sample()
    expected = np.asarray(ImageEnhance.Sharpness(Image.fromarray(image)).enhance(factor))
    got = distort_sharpness(image, factor)
    assert got.dtype == np.uint8
    assert np.abs(got.astype(int) - expected).max() <= 1


def test_random_distort_sharpness_ranges():
    image, _ = sample()
    off = {"brightness_prob": 0, "contrast_prob": 0, "saturation_prob": 0, "hue_prob": 0}
    same, _ = RandomDistortSharpness(**off, sharpness_prob=0)(image, None, np.random.default_rng(0))
    np.testing.assert_array_equal(same, image)
    changed = 0
    for seed in range(10):
        transform = RandomDistortSharpness(**off, sharpness_range=0.2, sharpness_prob=1)
        got, _ = transform(image, None, np.random.default_rng(seed))
        assert got.shape == image.shape and got.dtype == np.uint8
        # a factor within [0.8, 1.2] stays within a fifth of the smoothing's change
        bound = 0.2 * np.abs(distort_sharpness(image, 0.0).astype(int) - image).max() + 1
        assert np.abs(got.astype(int) - image).max() <= bound
        changed += not np.array_equal(got, image)
    assert changed >= 8


def paddleseg_label_rule(label):
    """PaddleSeg's EG1800 label steps: values above 1 to 0, a 5x5 box blur, threshold."""
    label = label.copy()
    label[label > 1] = 0
    label = np.uint8(cv2.blur(label, (5, 5)))
    label[label >= 0.5] = 1
    label[label < 0.5] = 0
    return label


def test_eg1800_label_rules_are_paddlesegs():
    rng = np.random.default_rng(0)
    label = (rng.random((40, 50)) < 0.5).astype(np.uint8)
    label[5:30, 10:40] = 1
    label[rng.random(label.shape) < 0.05] = 255  # PaddleSeg's "other" values: background
    dataset = EG1800Dataset([("image.png", "label.png")], None, 2)
    prepared = dataset.prepare_label(label.copy())
    assert set(np.unique(prepared)) == {0, 1}
    got = dataset.finish_label(prepared.astype(np.int64))
    np.testing.assert_array_equal(got, paddleseg_label_rule(label))
    # a pixel the transforms marked ignored (padding) stays ignored
    padded = prepared.astype(np.int64)
    padded[:, :3] = 255
    assert np.all(dataset.finish_label(padded)[:, :3] == 255)


@pytest.fixture
def eg1800_root(tmp_path):
    rng = np.random.default_rng(0)
    for folder in ("Images", "Labels"):
        (tmp_path / folder).mkdir()
    names = []
    for index in range(2):
        image, label = sample(90, 120, seed=index)
        image[label == 1] //= 4  # a dark portrait, so that its label can be found again
        name = f"{index:05d}.png"
        cv2.imwrite(str(tmp_path / "Images" / name), image)
        cv2.imwrite(str(tmp_path / "Labels" / name), label * rng.choice([1, 255], label.shape))
        names.append(name)
    for split in ("train", "test"):
        (tmp_path / f"eg1800_{split}.txt").write_text("\n".join(names) + "\n")
    return tmp_path


def test_paddleseg_eg1800_feeds_the_common_transforms_only(eg1800_root):
    """What PaddleSeg 2.8's EG1800 returns: `img` is the affine-warped image normalised
    (transforms2's noisy `im_aug` is computed and dropped), channels in BGR order, and
    the label is not warped with the image (no gt_fields): it is the original label
    resized to 224x224 and smoothed. Its evaluation fails in ScalePadding."""
    common = [T.RandomAffine(max_rotation=45, min_scale_factor=0.5, max_scale_factor=1.5,
                             size=[224, 224], translation_offset=56),
              T.RandomHorizontalFlip()]
    texture = [T.RandomNoise(prob=1.0, max_sigma=50), T.Normalize(mean=MEAN, std=STD)]
    dataset = EG1800(common, [T.Normalize(mean=MEAN, std=STD)], texture,
                     dataset_root=str(eg1800_root), mode="train")
    seed_both(0)
    item = dataset[0]
    assert set(item) == {"img", "label", "edge"}
    # undo Normalize (channel c of the BGR image had RGB channel 2 - c's mean and std)
    pixels = item["img"] * np.array(STD[::-1])[:, None, None] + np.array(MEAN[::-1])[:, None, None]
    pixels *= 255
    # the warp gives whole grey levels; the noise of im_aug would not
    assert np.abs(pixels - np.round(pixels)).max() < 1e-3
    original = cv2.imread(str(eg1800_root / "Labels" / "00000.png"), 0)
    resized = cv2.resize(original, (224, 224), interpolation=cv2.INTER_NEAREST)
    np.testing.assert_array_equal(item["label"], paddleseg_label_rule(resized))

    val = EG1800([T.ScalePadding(target_size=[224, 224], label_padding_value=0),
                  T.Normalize(mean=MEAN, std=STD)], None, None,
                 dataset_root=str(eg1800_root), mode="val")
    with pytest.raises(KeyError, match="gt_fields"):
        val[0]


def test_eg1800_layout_loads_and_the_label_follows_the_image(eg1800_root):
    spec = {"type": "EG1800", "root": "unused", "num_classes": 2, "ignore_index": 255}
    transforms = Compose([
        RandomAffine(size=(64, 96), translation_offset=8, max_rotation=45,
                     min_scale_factor=0.5, max_scale_factor=1.5),
        RandomHorizontalFlip(),
        Normalize(MEAN, STD),
    ])
    for split in ("train", "val"):
        dataset = load_dataset(spec, str(eg1800_root), split, transforms)
        assert isinstance(dataset, EG1800Dataset) and len(dataset) == 2
    dataset = load_dataset(spec, str(eg1800_root), "train", transforms)
    for key in range(6):
        image, label = dataset[key]
        assert image.shape == (3, 96, 64) and label.shape == (96, 64)
        assert set(np.unique(label)) <= {0, 1, 255}  # 255: outside the warped image
        # the portrait is dark in the fixture's images: the label moved with the image
        assert image[:, label == 1].mean() < image[:, label == 0].mean() - 0.5
    # evaluation scores the original label, smoothed as PaddleSeg's EG1800 smooths it
    val = load_dataset(spec, str(eg1800_root), "val", Compose([Normalize(MEAN, STD)]))
    image, label, restore = val[0]
    original = cv2.imread(str(eg1800_root / "Labels" / "00000.png"), cv2.IMREAD_UNCHANGED)
    np.testing.assert_array_equal(label, paddleseg_label_rule(original))
    assert image.shape == (3, 120, 90) and restore == []
    # ScalePadding in evaluation: the image is padded and resized, the logits come back
    scale_padding = Compose([ScalePadding(target_size=(64, 64)), Normalize(MEAN, STD)])
    image, label, restore = load_dataset(spec, str(eg1800_root), "val", scale_padding)[0]
    assert image.shape == (3, 64, 64) and label.shape == (120, 90)
    assert restore == [("scale_padding", (120, 90))]
    (eg1800_root / "eg1800_test.txt").unlink()
    with pytest.raises(SegDataError, match="eg1800_test.txt"):
        load_dataset(spec, str(eg1800_root), "val", transforms)


@pytest.mark.parametrize("shape", [(90, 120), (120, 90)])
def test_infer_scale_padding_is_the_evaluation_transform(shape):
    """infer.py runs deploy.yaml's ScalePadding as evaluation does, and brings the mask
    back to the image."""
    from segc.templates.fragments.data.infer_transforms import (
        infer_normalize_coefficients,
        infer_postprocess,
        infer_preprocess,
    )
    from segc.templates.fragments.runtime.deploy_config import deploy_config_fields

    rng = np.random.default_rng(0)
    rgb = cv2.GaussianBlur(rng.integers(0, 256, (*shape, 3), dtype=np.uint8), (5, 5), 0)
    transform = {"type": "ScalePadding", "target_size": [64, 64],
                 "im_padding_value": [127.5, 100.2, 30.9]}
    config = deploy_config_fields({"model": "m.json", "params": "m.pdiparams",
                                   "transforms": [transform]}, "/nowhere")
    scale, shift = infer_normalize_coefficients(MEAN, STD)
    batch = infer_preprocess(rgb[..., ::-1].copy(), scale, shift,
                             scale_padding=config["scale_padding"])
    expected, _ = Compose([ScalePadding((64, 64), [127.5, 100.2, 30.9]), Normalize(MEAN, STD)])(
        rgb, None, np.random.default_rng(0))
    np.testing.assert_allclose(batch[0], expected, atol=1e-5)

    label = np.zeros(shape, np.uint8)
    label[shape[0] // 3:, shape[1] // 4: 3 * shape[1] // 4] = 1
    _, transformed = ScalePadding((64, 64), label_padding_value=0)(rgb, label, None)
    mask = infer_postprocess(transformed[None, None].astype(np.int64), (shape[1], shape[0]),
                             square=True)
    assert mask.shape == shape and (mask == label).mean() > 0.95
