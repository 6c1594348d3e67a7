"""SFNet, PFPNNet, PointRend and DMNet beyond what test_parity reaches: PointRend's point
loss and its top-k refinement, DMNet's per-image filters over a batch, SFNet's flow
warp, and the training outputs the catalog declares. The fragments are tested directly
as the plain Python modules they are, on ResNet18 to stay small."""

import numpy as np
import paddle
import paddle.nn.functional as F
import pytest

from segc import catalog
from segc.templates.fragments.backbones.resnet_vd import ResNet18_vd
from segc.templates.fragments.losses.point import PointCrossEntropyLoss
from segc.templates.fragments.models.dmnet import DMNet
from segc.templates.fragments.models.pfpnnet import PFPNNet
from segc.templates.fragments.models.pointrend import PointRend
from segc.templates.fragments.models.sfnet import SFNet, sfnet_flow_warp

from .oracle import oracle_fix, randomise_batch_norm_statistics

R18_CHANNELS = [64, 128, 256, 512]


def random_points_and_labels(num_classes=5, num_points=300, ignore_index=255, seed=0):
    rng = np.random.default_rng(seed)
    point_logits = rng.normal(size=(2, num_classes, num_points)).astype("float32")
    points = rng.random((2, num_points, 2)).astype("float32")
    labels = rng.integers(0, num_classes, size=(2, 9, 13))
    labels[rng.random(labels.shape) < 0.2] = ignore_index
    return point_logits, points, labels


def reference_point_cross_entropy(point_logits, points, labels, ignore_index=255):
    """PaddleSeg's definition in numpy: each point takes the label of the pixel it falls
    in; the mean of -log softmax over all points (ignored ones count 0) divided by the
    share of points that are not ignored."""
    n = point_logits.shape[0]
    height, width = labels.shape[1:]
    cols = np.minimum((points[..., 0] * width).astype(int), width - 1)
    rows = np.minimum((points[..., 1] * height).astype(int), height - 1)
    point_labels = labels[np.arange(n)[:, None], rows, cols]  # n x p
    logits = point_logits.astype(np.float64).transpose(0, 2, 1)  # n x p x c
    log_probs = logits - logits.max(-1, keepdims=True)
    log_probs -= np.log(np.exp(log_probs).sum(-1, keepdims=True))
    keep = point_labels != ignore_index
    picked = np.take_along_axis(log_probs, np.where(keep, point_labels, 0)[..., None], -1)[..., 0]
    losses = -picked * keep
    return float(losses.mean() / (keep.mean() + 1e-8))


def test_point_cross_entropy_follows_paddleseg_definition():
    # PaddleSeg's own loss fails here under Paddle 3.3 (float mask times int64 ones in its
    # normalisation), hence the numpy reference of its definition.
    point_logits, points, labels = random_points_and_labels()
    loss = PointCrossEntropyLoss()((paddle.to_tensor(point_logits), paddle.to_tensor(points)),
                                   paddle.to_tensor(labels))
    expected = reference_point_cross_entropy(point_logits, points, labels)
    assert float(loss) == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("top_k", [0.3, 0.75])
def test_point_cross_entropy_hard_points_equal_paddleseg(top_k):
    from paddleseg.models.losses import PointCrossEntropyLoss as PaddleSegLoss

    point_logits, points, labels = (paddle.to_tensor(a) for a in random_points_and_labels(seed=1))
    ours = PointCrossEntropyLoss(top_k_percent_pixels=top_k)((point_logits, points), labels)
    theirs = PaddleSegLoss(top_k_percent_pixels=top_k)((point_logits, points), labels)
    assert float(ours) == pytest.approx(float(theirs), rel=1e-6)
    everything = PointCrossEntropyLoss()((point_logits, points), labels)
    assert float(ours) > float(everything)  # the hardest points have the highest losses


def test_point_cross_entropy_trains_the_point_logits():
    point_logits, points, labels = random_points_and_labels()
    logits = paddle.to_tensor(point_logits, stop_gradient=False)
    loss = PointCrossEntropyLoss()((logits, paddle.to_tensor(points)), paddle.to_tensor(labels))
    loss.backward()
    assert float(paddle.abs(logits.grad).sum()) > 0


def test_sfnet_flow_warp_with_zero_flow_is_aligned_bilinear_upsampling():
    x = paddle.to_tensor(np.random.default_rng(0).normal(size=(2, 4, 5, 7)).astype("float32"))
    size = paddle.to_tensor([10, 14], dtype="int64")
    warped = sfnet_flow_warp(x, paddle.zeros([2, 2, 10, 14]), size)
    upsampled = F.interpolate(x, [10, 14], mode="bilinear", align_corners=True)
    np.testing.assert_allclose(warped.numpy(), upsampled.numpy(), atol=1e-5)


@pytest.mark.parametrize("model_type, model, expected", [
    ("SFNet", lambda: SFNet(7, ResNet18_vd(), enable_auxiliary_loss=True), 4),
    ("PFPNNet", lambda: PFPNNet(7, ResNet18_vd(), channels=32, enable_auxiliary_loss=True,
                                fpn_inplanes=R18_CHANNELS), 2),
    ("DMNet", lambda: DMNet(7, ResNet18_vd(), mid_channels=16), 2),
])
def test_training_outputs_are_those_the_catalog_declares(model_type, model, expected):
    component = catalog.MODELS[model_type]
    args = {**catalog.defaults(component), "enable_auxiliary_loss": True}
    assert len(component.output_names(args)) == expected
    paddle.seed(0)
    net = model()
    net.train()
    outputs = net(paddle.randn([2, 3, 64, 96]))
    assert len(outputs) == expected
    assert all(list(o.shape) == [2, 7, 64, 96] for o in outputs)
    net.eval()
    with paddle.no_grad():
        eval_outputs = net(paddle.randn([1, 3, 64, 96]))
    # auxiliary heads run in eval exactly as in PaddleSeg: SFNet and PFPNNet keep them
    assert len(eval_outputs) == (1 if model_type == "DMNet" else expected)


def test_pointrend_training_output_is_the_point_loss_input():
    paddle.seed(0)
    net = PointRend(7, ResNet18_vd(), fpn_inplanes=R18_CHANNELS, point_num_points=50)
    net.train()
    coarse, (point_logits, points) = net(paddle.randn([2, 3, 64, 96]))
    assert list(coarse.shape) == [2, 7, 64, 96]
    assert list(point_logits.shape) == [2, 7, 50] and list(points.shape) == [2, 50, 2]
    assert float(points.min()) >= 0 and float(points.max()) <= 1
    assert points.stop_gradient and not point_logits.stop_gradient
    assert len(catalog.MODELS["PointRend"].output_names(
        catalog.defaults(catalog.MODELS["PointRend"]))) == 2


def transfer_from_paddleseg(ours, theirs):
    randomise_batch_norm_statistics(theirs)
    state = theirs.state_dict()
    assert sorted(ours.state_dict()) == sorted(state)
    ours.set_state_dict(state)
    ours.eval()
    theirs.eval()


@pytest.mark.slow
def test_pointrend_refines_the_most_uncertain_points_as_paddleseg():
    """Few points per step, so that the top-k choice matters (the parity test's input is
    small enough for every pixel to be re-predicted)."""
    import paddleseg
    from paddleseg.models import backbones

    args = {"fpn_inplanes": R18_CHANNELS, "point_subdivision_num_points": 37,
            "backbone_indices": [0, 1, 2, 3]}
    paddle.seed(0)
    theirs = paddleseg.models.PointRend(7, backbones.ResNet18_vd(), **args)
    ours = PointRend(7, ResNet18_vd(), **args)
    transfer_from_paddleseg(ours, theirs)
    x = paddle.to_tensor(np.random.default_rng(1).normal(size=(2, 3, 64, 96)).astype("float32"))
    with paddle.no_grad(), oracle_fix("PointRend"):
        expected = theirs(x)[0].numpy()
    with paddle.no_grad():
        got = ours(x)[0].numpy()
        again = ours(x)[0].numpy()
        ours.pointhead.subdivision_steps = 0  # the coarse prediction, upsampled
        coarse = ours(x)[0].numpy()
    assert np.abs(got - expected).max() <= 1e-4 * max(1.0, np.abs(expected).max())
    assert np.array_equal(got, again)  # deterministic
    assert np.abs(got - coarse).max() > 1e-3  # the refinement changed some points


@pytest.mark.slow
def test_dmnet_filters_are_per_image_over_a_batch_as_paddleseg():
    import paddleseg
    from paddleseg.models import backbones

    paddle.seed(0)
    theirs = paddleseg.models.DMNet(7, backbones.ResNet18_vd(), mid_channels=16)
    ours = DMNet(7, ResNet18_vd(), mid_channels=16)
    transfer_from_paddleseg(ours, theirs)
    x = paddle.to_tensor(np.random.default_rng(1).normal(size=(3, 3, 64, 96)).astype("float32"))
    with paddle.no_grad():
        expected = theirs(x)[0].numpy()
        batch = ours(x)[0].numpy()
        single = np.concatenate([ours(x[i:i + 1])[0].numpy() for i in range(3)])
    scale = max(1.0, np.abs(expected).max())
    assert np.abs(batch - expected).max() <= 1e-4 * scale
    assert np.abs(batch - single).max() <= 1e-4 * scale
