"""GSCNN's Canny edges, computed with Paddle operations, are cv2.Canny's bit for bit:
on what PaddleSeg's GSCNN feeds cv2 (the denormalised batch cast to uint8), in the
dynamic graph and in a static graph with dynamic height and width (the export path)."""

import cv2
import numpy as np
import paddle
import pytest

from segc.templates.fragments.data.datasets import demo_scene
from segc.templates.fragments.models.gscnn import canny_edges


def cv2_canny(batch):
    """PaddleSeg's GSCNNHead: ((x * 0.5 + 0.5) * 255).astype(uint8), cv2.Canny(10, 100),
    / 255."""
    images = ((batch.transpose(0, 2, 3, 1) * 0.5 + 0.5) * 255).astype(np.uint8)
    return np.stack([cv2.Canny(image, 10, 100) for image in images])[:, None] / 255


def normalised(images):
    return ((np.stack(images).astype(np.float32) / 255 - 0.5) / 0.5).transpose(0, 3, 1, 2)


def test_random_batches_out_of_range_values_included():
    """Normal noise leaves [-1, 1], so the uint8 cast wraps around as numpy's does."""
    rng = np.random.default_rng(0)
    for _ in range(6):
        height, width = (int(v) for v in rng.integers(3, 90, 2))
        batch = rng.normal(size=(2, 3, height, width)).astype(np.float32)
        expected = cv2_canny(batch)
        assert 0 < expected.mean() < 1
        assert np.array_equal(canny_edges(paddle.to_tensor(batch)).numpy(), expected)


def test_smooth_and_street_images():
    rng = np.random.default_rng(1)
    blurred = [cv2.GaussianBlur(rng.uniform(0, 255, (70, 90, 3)).astype(np.float32), (0, 0), s)
               for s in (1.0, 2.5)]
    batch = normalised([np.clip(b, 0, 255).astype(np.uint8) for b in blurred])
    assert np.array_equal(canny_edges(paddle.to_tensor(batch)).numpy(), cv2_canny(batch))
    scenes = normalised([demo_scene(np.random.default_rng(seed))[0] for seed in (2, 3)])
    got = canny_edges(paddle.to_tensor(scenes)).numpy()
    expected = cv2_canny(scenes)
    assert 0.01 < expected.mean() < 0.5 and np.array_equal(got, expected)


@pytest.mark.parametrize("low, high", [(10, 100), (50, 60), (0, 400)])
def test_thresholds_and_hysteresis(low, high):
    """Weak pixels join edges only through 8-connected chains to strong ones."""
    rng = np.random.default_rng(low)
    base = cv2.GaussianBlur(rng.uniform(0, 255, (60, 80, 3)).astype(np.float32), (0, 0), 1.5)
    image = np.clip(base, 0, 255).astype(np.uint8)
    batch = normalised([image])
    expected = cv2.Canny(image, low, high)[None, None] / 255
    assert np.array_equal(canny_edges(paddle.to_tensor(batch), low, high).numpy(), expected)


def test_static_graph_with_dynamic_size_is_the_same():
    static = paddle.jit.to_static(
        canny_edges, input_spec=[paddle.static.InputSpec([None, 3, None, None], "float32")],
        full_graph=True)
    rng = np.random.default_rng(4)
    for height, width in ((33, 47), (64, 20)):
        batch = rng.normal(size=(1, 3, height, width)).astype(np.float32)
        assert np.array_equal(static(paddle.to_tensor(batch)).numpy(), cv2_canny(batch))
