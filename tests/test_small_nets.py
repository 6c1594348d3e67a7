"""ENet, ESPNet V1/V2 and PP-HumanSeg-Lite beyond what test_parity reaches: input sizes
that are not multiples of the output stride, ESPNetV2's second training output, the
class counts where PaddleSeg's ESPNetV1 fails, and class weights that do not fit the
data's class count. The fragments are tested directly as plain Python modules, against
PaddleSeg 2.8's models with the same weights."""

import numpy as np
import paddle
import pytest
from paddleseg.models import ENet as PaddleSegENet
from paddleseg.models import ESPNetV1 as PaddleSegESPNetV1
from paddleseg.models import ESPNetV2 as PaddleSegESPNetV2
from paddleseg.models import PPHumanSegLite as PaddleSegPPHumanSegLite

from segc.templates.fragments.losses.cross_entropy import CrossEntropyLoss
from segc.templates.fragments.models.enet import ENet
from segc.templates.fragments.models.espnet import ESPNetV1, ESPNetV2
from segc.templates.fragments.models.pp_humanseg_lite import PPHumanSegLite

from .oracle import randomise_batch_norm_statistics

pytestmark = pytest.mark.slow


def paired(reference_cls, ours_cls, **kwargs):
    """PaddleSeg's model (random weights and BN statistics) and ours with its weights."""
    paddle.seed(0)
    reference = reference_cls(**kwargs)
    randomise_batch_norm_statistics(reference)
    ours = ours_cls(**kwargs)
    ours.set_state_dict(reference.state_dict())
    return reference, ours


def random_input(shape, seed=1):
    return paddle.to_tensor(np.random.default_rng(seed).normal(size=shape).astype("float32"))


def assert_same_outputs(reference, ours, x):
    with paddle.no_grad():
        expected = [o.numpy() for o in reference(x)]
        got = [o.numpy() for o in ours(x)]
    assert len(got) == len(expected)
    for e, g in zip(expected, got):
        assert g.shape == e.shape
        assert np.abs(e).max() > 1e-3
        assert float(np.abs(g - e).max()) <= 1e-4 * max(1.0, float(np.abs(e).max()))
    return got


def test_enet_restores_odd_sizes_like_paddleseg():
    # 58 x 94: the stage-1 map is 29 x 47, which the second pooling rounds down and
    # the unpooling must restore.
    reference, ours = paired(PaddleSegENet, ENet, num_classes=4)
    reference.eval(), ours.eval()
    got = assert_same_outputs(reference, ours, random_input((1, 3, 58, 94)))
    assert got[0].shape == (1, 4, 58, 94)


def test_espnetv2_training_outputs_match_paddleseg():
    reference, ours = paired(PaddleSegESPNetV2, ESPNetV2, num_classes=3, scale=1.0, drop_prob=0.0)
    reference.train(), ours.train()
    got = assert_same_outputs(reference, ours, random_input((2, 3, 64, 96)))
    assert [o.shape for o in got] == [(2, 3, 64, 96)] * 2


def test_pp_humanseg_lite_at_its_export_size_matches_paddleseg():
    # 224 x 398 (PaddleSeg's export size) is no multiple of the 1/16 output stride.
    reference, ours = paired(PaddleSegPPHumanSegLite, PPHumanSegLite, num_classes=2)
    reference.eval(), ours.eval()
    got = assert_same_outputs(reference, ours, random_input((1, 3, 224, 398)))
    assert got[0].shape == (1, 2, 224, 398)


def test_espnetv1_works_for_any_class_count():
    # PaddleSeg sizes the last fusion conv for 16 + 3 + num_classes inputs where the
    # concatenation has 2 * num_classes: its model fails unless there are 19 classes.
    x = random_input((1, 3, 32, 48))
    paddle.seed(0)
    with pytest.raises(ValueError):
        PaddleSegESPNetV1(num_classes=5).eval()(x)
    model = ESPNetV1(num_classes=5)
    model.eval()
    with paddle.no_grad():
        assert model(x)[0].shape == [1, 5, 32, 48]


def test_class_weights_for_another_class_count_leave_the_loss_unweighted(capsys):
    rng = np.random.default_rng(0)
    logits = paddle.to_tensor(rng.normal(size=(2, 5, 8, 8)).astype("float32"))
    labels = paddle.to_tensor(rng.integers(0, 5, size=(2, 8, 8)).astype("int64"))
    weighted = CrossEntropyLoss(255, weight=[float(w) for w in range(1, 20)])
    expected = float(CrossEntropyLoss(255)(logits, labels))
    assert float(weighted(logits, labels)) == pytest.approx(expected, rel=1e-6)
    assert float(weighted(logits, labels)) == pytest.approx(expected, rel=1e-6)
    printed = capsys.readouterr().out
    assert printed.count("19 class weights are not for this data's 5 classes") == 1
    # weights that fit are used
    fitting = CrossEntropyLoss(255, weight=[1.0, 2.0, 3.0, 4.0, 5.0])
    assert float(fitting(logits, labels)) != pytest.approx(expected, rel=1e-3)


@pytest.mark.parametrize(
    "model_cls, kwargs",
    [(ENet, {}), (ESPNetV1, {}), (ESPNetV2, {"scale": 0.5}), (PPHumanSegLite, {})],
)
def test_models_take_other_input_channel_counts(model_cls, kwargs):
    # PaddleSeg's ENet and ESPNetV2 assume 3 image channels in places and fail otherwise.
    model = model_cls(num_classes=5, in_channels=4, **kwargs)
    model.eval()
    with paddle.no_grad():
        assert model(random_input((1, 4, 32, 48)))[0].shape == [1, 5, 32, 48]


def test_espnetv1_says_it_needs_five_classes():
    # its decoder's ESP module splits num_classes channels five ways (PaddleSeg's too)
    with pytest.raises(ValueError, match="at least 5 classes"):
        ESPNetV1(num_classes=4)
