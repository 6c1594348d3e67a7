"""HarDNet's and DDRNet's own parts behave as PaddleSeg 2.8's do: the bootstrapped
cross-entropy, DDRNet with its auxiliary head (test_parity.py covers the zoo's recipe,
which has none), and both models at input sizes other than the parity test's, including
odd ones, where DDRNet departs from PaddleSeg's on purpose (see models/ddrnet.py)."""

import numpy as np
import paddle
import pytest
from paddleseg.models import DDRNet_23 as PaddleSegDDRNet23
from paddleseg.models import HarDNet as PaddleSegHarDNet
from paddleseg.models.losses import BootstrappedCrossEntropyLoss as PaddleSegBootstrapped

from segc.templates.fragments.losses.bootstrapped import BootstrappedCrossEntropyLoss
from segc.templates.fragments.models.ddrnet import DDRNet_23
from segc.templates.fragments.models.hardnet import HarDNet

from .oracle.models import randomise_batch_norm_statistics

pytestmark = pytest.mark.slow

IGNORE = 255
NUM_CLASSES = 5


def random_batch(seed, scale, n=2, c=NUM_CLASSES, h=13, w=17, ignored=0.2):
    rng = np.random.default_rng(seed)
    logits = (rng.normal(size=(n, c, h, w)) * scale).astype("float32")
    labels = rng.integers(0, c, (n, h, w))
    labels[rng.random(labels.shape) < ignored] = IGNORE
    return paddle.to_tensor(logits), paddle.to_tensor(labels.astype("int64"))


# min_K and loss_th chosen so that both branches run: more than min_K pixels above the
# threshold (their mean), and no more (the min_K largest); 221 pixels per image.
@pytest.mark.parametrize("min_k", [10, 150, 220])
@pytest.mark.parametrize("loss_th, scale", [(0.3, 0.3), (1.0, 3.0), (3.0, 3.0)])
@pytest.mark.parametrize("weight", [None, [1.0, 2.0, 0.5, 1.0, 3.0]])
def test_bootstrapped_loss_is_paddleseg(min_k, loss_th, scale, weight):
    logits, labels = random_batch(min_k, scale)
    expected = float(PaddleSegBootstrapped(min_k, loss_th, weight=weight)(logits, labels))
    got = float(BootstrappedCrossEntropyLoss(IGNORE, min_k, loss_th, weight)(logits, labels))
    assert got == pytest.approx(expected, rel=1e-6)


def test_bootstrapped_loss_averages_all_pixels_of_an_image_smaller_than_min_k():
    # PaddleSeg's indexes the (min_K+1)-th largest loss and fails here.
    logits, labels = random_batch(0, 1.0)
    all_pixels = paddle.nn.functional.cross_entropy(
        logits, labels.unsqueeze(1), ignore_index=IGNORE, reduction="none", axis=1
    )
    expected = float(all_pixels.mean())
    got = float(BootstrappedCrossEntropyLoss(IGNORE, min_K=10000, loss_th=0.3)(logits, labels))
    assert got == pytest.approx(expected, rel=1e-6)


def test_bootstrapped_loss_trains_the_logits():
    logits, labels = random_batch(1, 1.0)
    logits.stop_gradient = False
    BootstrappedCrossEntropyLoss(IGNORE, min_K=50, loss_th=0.3)(logits, labels).backward()
    assert float(logits.grad.abs().sum()) > 0


def model_pair(reference_cls, ours_cls, **kwargs):
    """PaddleSeg's model with random weights and BN statistics, ours with them loaded."""
    paddle.seed(0)
    reference = reference_cls(num_classes=NUM_CLASSES, **kwargs)
    randomise_batch_norm_statistics(reference)
    with paddle.LazyGuard():
        ours = ours_cls(num_classes=NUM_CLASSES, **kwargs)
    assert sorted(ours.state_dict()) == sorted(reference.state_dict())
    ours.set_state_dict(reference.state_dict())
    reference.eval()
    ours.eval()
    return reference, ours


def random_image(h, w, seed=1):
    rng = np.random.default_rng(seed)
    return paddle.to_tensor(rng.normal(size=(1, 3, h, w)).astype("float32"))


@pytest.fixture(scope="module")
def ddrnet_with_auxiliary_head():
    return model_pair(PaddleSegDDRNet23, DDRNet_23, enable_auxiliary_loss=True)


def assert_same_outputs(reference, ours, x):
    with paddle.no_grad():
        expected = [t.numpy() for t in reference(x)]
        got = [t.numpy() for t in ours(x)]
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert g.shape == e.shape == (1, NUM_CLASSES, *x.shape[2:])
        assert np.abs(e).max() > 1e-3
        assert np.abs(g - e).max() <= 1e-4
    return got


def test_ddrnet_auxiliary_head_is_paddleseg_s_and_runs_in_eval(ddrnet_with_auxiliary_head):
    reference, ours = ddrnet_with_auxiliary_head
    # two outputs in eval mode, as PaddleSeg's: the auxiliary head's FLOPs count there
    got = assert_same_outputs(reference, ours, random_image(64, 128))
    assert len(got) == 2


@pytest.mark.parametrize("h, w", [(72, 136), (8, 8)])
def test_ddrnet_is_paddleseg_s_at_other_multiples_of_8(ddrnet_with_auxiliary_head, h, w):
    # 8x8 leaves a 1x1 map at 1/64: DAPPM's padded pools still give one cell each
    assert_same_outputs(*ddrnet_with_auxiliary_head, random_image(h, w))


@pytest.mark.parametrize("h, w", [(100, 70), (33, 47), (5, 9)])
def test_ddrnet_runs_at_sizes_paddleseg_s_cannot(ddrnet_with_auxiliary_head, h, w):
    reference, ours = ddrnet_with_auxiliary_head
    x = random_image(h, w)
    # PaddleSeg's resizes to (h // 8, w // 8), where its strided convs round up: the
    # sum of the two branches fails (ValueError), or the resize to 0 rows (AssertionError)
    with pytest.raises((ValueError, AssertionError)), paddle.no_grad():
        reference(x)
    with paddle.no_grad():
        logits = ours(x)
    assert [list(t.shape) for t in logits] == [[1, NUM_CLASSES, h, w]] * 2
    assert all(np.isfinite(t.numpy()).all() for t in logits)


@pytest.mark.parametrize("h, w", [(70, 100), (33, 47), (8, 8)])
def test_hardnet_is_paddleseg_s_at_odd_and_small_sizes(h, w):
    # 8x8 leaves 1x1 maps after the second pool; Paddle's 2x2 pools keep them 1x1
    assert_same_outputs(*model_pair(PaddleSegHarDNet, HarDNet), random_image(h, w))
