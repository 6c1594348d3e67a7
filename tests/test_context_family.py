"""The context family's own parts behave as PaddleSeg 2.8's do: the semantic-encoding
loss, the encoding layer, EMANet's moving-average bases, and the training-mode outputs
of ENCNet and FastFCN (test_parity.py compares eval-mode outputs and FLOPs only, on
the models it shares with this file)."""

import numpy as np
import paddle
import pytest
from paddleseg.models.emanet import EMAU as PaddleSegEMAU
from paddleseg.models.encnet import Encoding as PaddleSegEncoding
from paddleseg.models.losses import SECrossEntropyLoss as PaddleSegSELoss

from segc.templates.fragments.layers.encoding import ContextEncoding
from segc.templates.fragments.losses.semantic_encoding import SECrossEntropyLoss
from segc.templates.fragments.models.emanet import EMAU

pytestmark = pytest.mark.slow


def random_presence_batch(num_classes=7, seed=0):
    """Logits N x C, and labels using a few classes each, some ignored pixels and one
    image that is ignored entirely."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(3, num_classes)).astype("float32")
    labels = rng.integers(0, 4, size=(3, 9, 11))
    labels[1] += 3  # classes 3..6
    labels[rng.random(labels.shape) < 0.3] = 255
    labels[2] = 255
    return paddle.to_tensor(logits), paddle.to_tensor(labels.astype("int64"))


def test_se_loss_equals_paddleseg_on_random_inputs():
    # PaddleSeg 2.8's own loss runs under Paddle 3.3, so it is the reference.
    logits, labels = random_presence_batch()
    expected = float(PaddleSegSELoss()(logits, labels))
    assert float(SECrossEntropyLoss(255)(logits, labels)) == pytest.approx(expected, rel=1e-6)
    # N x C x 1 x 1 logits are accepted too
    assert float(SECrossEntropyLoss(255)(logits.reshape([3, 7, 1, 1]), labels)) == \
        pytest.approx(expected, rel=1e-6)


def test_se_loss_targets_are_class_presence():
    logits, labels = random_presence_batch()
    present = np.zeros((3, 7), dtype="float32")
    for n, image in enumerate(labels.numpy()):
        present[n, np.unique(image[image != 255])] = 1
    assert present[0].sum() > 0 and present[2].sum() == 0  # a meaningful check
    x = logits.numpy().astype(np.float64)
    expected = np.mean(np.maximum(x, 0) - x * present + np.log1p(np.exp(-np.abs(x))))
    assert float(SECrossEntropyLoss(255)(logits, labels)) == pytest.approx(expected, rel=1e-6)


def test_encoding_layer_equals_paddleseg():
    """Soft-assigned residuals to the codewords, on random non-negative features."""
    paddle.seed(3)
    reference = PaddleSegEncoding(channels=16, num_codes=6)
    ours = ContextEncoding(16, 6)
    ours.set_state_dict(reference.state_dict())
    x = paddle.to_tensor(np.abs(np.random.default_rng(2).normal(
        1.0, 2.0, size=(2, 16, 5, 7))).astype("float32"))
    expected = reference(x).numpy()
    got = ours(x).numpy()
    assert got.shape == expected.shape == (2, 6, 16)
    assert np.abs(got - expected).max() <= 1e-5 * np.abs(expected).max()


def test_emau_updates_its_bases_as_paddleseg_does():
    paddle.seed(4)
    reference = PaddleSegEMAU(8, 5, stage_num=3, momentum=0.1)
    ours = EMAU(8, 5, stage_num=3, momentum=0.1)
    assert list(ours.state_dict()) == ["mu"]
    ours.set_state_dict(reference.state_dict())
    start = ours.mu.numpy().copy()
    x = paddle.to_tensor(np.random.default_rng(5).normal(size=(2, 8, 4, 6)).astype("float32"))
    for _ in range(2):  # two steps: the second starts from the updated bases
        expected, got = reference(x).numpy(), ours(x).numpy()
        np.testing.assert_allclose(got, expected, atol=1e-6)
        np.testing.assert_allclose(ours.mu.numpy(), reference.mu.numpy(), atol=1e-6)
    assert np.abs(ours.mu.numpy() - start).max() > 1e-3  # the bases moved
    # eval leaves them alone
    ours.eval()
    moved = ours.mu.numpy().copy()
    ours(x)
    np.testing.assert_array_equal(ours.mu.numpy(), moved)


@pytest.mark.parametrize("combination", ["encnet_resnet101_vd_os8", "fastfcn_resnet50_vd_os8"],
                         scope="session")
def test_encoding_models_training_outputs_match_paddleseg(combination, oracle_pair):
    """Training mode: [main, auxiliary, class presence]; the main and class-presence
    outputs (no dropout on their path) equal PaddleSeg's, with batch statistics."""
    reference, ours = oracle_pair.reference, oracle_pair.transfer().ours
    reference.train()
    ours.train()
    x = paddle.to_tensor(np.random.default_rng(1).normal(size=(2, 3, 64, 96)).astype("float32"))
    expected = reference(x)
    got = ours(x)
    num_classes = oracle_pair.spec["dataset"]["num_classes"]
    assert [list(o.shape) for o in got] == [[2, num_classes, 64, 96]] * 2 + [[2, num_classes]]
    for index in (0, 2):
        want, have = expected[index].numpy(), got[index].numpy()
        assert np.abs(have - want).max() <= 1e-4 * max(1.0, np.abs(want).max())
    ours.eval()
    with paddle.no_grad():
        assert len(ours(x)) == 1  # the training-only heads do not run in eval


# That every context model (ENCNet, FastFCN, GloRe, GINet, EMANet) runs the same layers in
# eval as PaddleSeg's (equal paddle.flops FLOPs, auxiliary heads included or not) is
# test_parity.py's check, for every combination of the zoo, on the models it builds.
