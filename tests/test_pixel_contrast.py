"""HRNetW48Contrast's PixelContrastCrossEntropyLoss is PaddleSeg 2.8's.

The loss samples pixels at random with paddle's generator, drawing in PaddleSeg's order,
so under one paddle.seed both sample the same pixels: the values and the gradients with
respect to the embedding are compared with PaddleSeg's own class on random inputs (its
model hands the loss {'seg': logits, 'embed': embedding}; segc's hands it the tuple).
"""

import numpy as np
import paddle
import paddle.nn.functional as F
import pytest
from paddleseg.models import losses as paddleseg_losses  # the oracle

from segc.templates.fragments.losses.pixel_contrast import PixelContrastCrossEntropyLoss

IGNORE = 255


def random_batch(seed, n=2, dim=16, h=16, w=32, classes=5):
    """Unit-length embeddings and logits at 1/4 of the labels' size; labels with an
    ignored band, so that the label's resizing and the ignore value both matter."""
    rng = np.random.default_rng(seed)
    embedding = F.normalize(paddle.to_tensor(rng.normal(size=(n, dim, h, w)).astype("float32")),
                            axis=1)
    embedding.stop_gradient = False
    logits = paddle.to_tensor(rng.normal(size=(n, classes, h, w)).astype("float32"))
    labels = rng.integers(0, classes, (n, 4 * h, 4 * w))
    labels[:, : 4 * h // 4] = IGNORE
    return embedding, logits, paddle.to_tensor(labels.astype("int64"))


# (max_samples, max_views): views capped by max_views; by max_samples over the 10 anchor
# classes (7 views, which split unevenly between hard and easy pixels); a max_views
# near the classes' pixel counts (about 77 per image), which some classes miss
@pytest.mark.parametrize("max_samples, max_views", [(1024, 20), (70, 27), (1024, 75)])
@pytest.mark.parametrize("seed", range(2))
def test_loss_and_gradient_are_paddleseg(seed, max_samples, max_views):
    embedding, logits, labels = random_batch(seed)
    args = {"temperature": 0.1, "base_temperature": 0.07, "ignore_index": IGNORE,
            "max_samples": max_samples, "max_views": max_views}
    paddle.seed(seed)
    expected = paddleseg_losses.PixelContrastCrossEntropyLoss(**args)(
        {"seg": logits, "embed": embedding}, labels)
    expected_grad = paddle.grad(expected, embedding)[0].numpy()
    paddle.seed(seed)
    got = PixelContrastCrossEntropyLoss(**args)((embedding, logits), labels)
    got_grad = paddle.grad(got, embedding)[0].numpy()
    assert abs(float(got) - float(expected)) <= 1e-5 * max(1.0, abs(float(expected)))
    assert np.abs(got_grad - expected_grad).max() <= 1e-6


def test_the_seed_decides_the_sample():
    embedding, logits, labels = random_batch(0)
    loss = PixelContrastCrossEntropyLoss(max_samples=64, max_views=20)
    values = []
    for seed in (3, 3, 4):
        paddle.seed(seed)
        values.append(float(loss((embedding, logits), labels)))
    assert values[0] == values[1] != values[2]


def test_no_class_large_enough_gives_zero_loss_with_a_gradient():
    # PaddleSeg divides by zero when no class of any image has more than max_views pixels.
    embedding, logits, labels = random_batch(0)
    loss = PixelContrastCrossEntropyLoss(max_views=10_000)((embedding, logits), labels)
    assert float(loss) == 0.0
    assert float(paddle.grad(loss, embedding)[0].abs().sum()) == 0.0
