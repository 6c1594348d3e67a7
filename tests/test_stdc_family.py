"""STDC-Seg and PP-LiteSeg beyond what test_parity reaches: the detail loss and its
boundary target, the training-mode outputs (all of them, against PaddleSeg 2.8's), and
where the seed's STDC-Seg GFLOPs come from. The fragments are tested directly as the
plain Python modules they are, on STDC1 to stay small."""

import numpy as np
import paddle
import pytest
from paddleseg.models import PPLiteSeg as PaddleSegPPLiteSeg
from paddleseg.models import STDCSeg as PaddleSegSTDCSeg
from paddleseg.models.backbones import STDC1 as PaddleSegSTDC1
from paddleseg.models.losses import DetailAggregateLoss as PaddleSegDetailLoss

from segc import catalog
from segc.bench.flops import paddle_flops
from segc.templates.fragments.backbones.stdc import STDC1, STDC2
from segc.templates.fragments.losses.detail_aggregate import (
    DETAIL_STRIDE_WEIGHTS,
    DetailAggregateLoss,
)
from segc.templates.fragments.models.pp_liteseg import PPLiteSeg
from segc.templates.fragments.models.stdcseg import STDCSeg

from .oracle import randomise_batch_norm_statistics

pytestmark = pytest.mark.slow

LITESEG_STDC1 = {"arm_out_chs": [32, 64, 128], "seg_head_inter_chs": [32, 64, 64]}


def random_labels(seed, n=2, h=40, w=56, num_classes=5):
    """Blocky class maps (so that there are regions and boundaries), some pixels ignored."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, num_classes, size=(n, h // 4, w // 4))
    labels = coarse.repeat(4, axis=1).repeat(4, axis=2)
    labels[:, : h // 5, : w // 5] = 255
    return paddle.to_tensor(labels.astype("int64"))


@pytest.mark.parametrize("logit_size", [(40, 56), (5, 7)])
def test_detail_loss_equals_paddleseg_with_the_papers_merge_weights(logit_size):
    # PaddleSeg's merge weights are a loss parameter left at a random draw; set to the
    # paper's, its loss is the reference (it runs under Paddle 3.3).
    reference = PaddleSegDetailLoss()
    reference.fuse_kernel.set_value(
        paddle.to_tensor(DETAIL_STRIDE_WEIGHTS, dtype="float32").reshape([1, 3, 1, 1]))
    ours = DetailAggregateLoss()
    for seed in range(3):
        labels = random_labels(seed)
        logits = paddle.to_tensor(np.random.default_rng(10 + seed).normal(
            size=(2, 1, *logit_size)).astype("float32"))
        expected = float(reference(logits, labels))
        assert float(ours(logits, labels)) == pytest.approx(expected, rel=1e-6)


def test_detail_target_marks_class_boundaries_only():
    loss = DetailAggregateLoss()
    labels = np.zeros((1, 32, 48), dtype="int64")
    assert float(loss.boundary_target(paddle.to_tensor(labels)).sum()) == 0
    labels[:, :, 24:] = 3  # one vertical step between class 0 and class 3
    target = loss.boundary_target(paddle.to_tensor(labels)).numpy()[0, 0]
    assert set(np.unique(target)) == {0.0, 1.0}
    assert target[8:24, 24].all()  # the higher class's side of the step
    assert not target[8:24, 4:20].any()  # inside the class-0 region
    assert not target[8:24, 30:44].any()  # inside the class-3 region


def test_detail_loss_trains_the_logits_towards_the_boundaries():
    loss = DetailAggregateLoss()
    labels = random_labels(0)
    target = loss.boundary_target(labels)
    logits = paddle.zeros([2, 1, 40, 56])
    logits.stop_gradient = False
    value = loss(logits, labels)
    value.backward()
    stepped = logits - logits.grad * 100
    # the step raises the logits of boundary pixels above the others, and the loss falls
    on_boundary = target.numpy() == 1
    assert stepped.numpy()[on_boundary].min() > stepped.numpy()[~on_boundary].max()
    assert float(loss(stepped, labels)) < float(value)


@pytest.mark.parametrize("boundaries, expected", [
    ({}, 4),
    ({"use_boundary_2": True, "use_boundary_4": True}, 6),
    ({"use_boundary_8": False}, 3),
])
def test_stdcseg_training_outputs_are_those_the_catalog_declares(boundaries, expected):
    component = catalog.MODELS["STDCSeg"]
    assert len(component.output_names({**catalog.defaults(component), **boundaries})) == expected
    paddle.seed(0)
    net = STDCSeg(7, STDC1(), **boundaries)
    net.train()
    outputs = net(paddle.randn([2, 3, 64, 96]))
    assert len(outputs) == expected
    assert all(list(o.shape) == [2, 7, 64, 96] for o in outputs[:3])
    detail_sizes = [[2, 1, 64 // s, 96 // s] for s, flag in (
        (2, "use_boundary_2"), (4, "use_boundary_4"), (8, "use_boundary_8"))
        if boundaries.get(flag, catalog.defaults(component)[flag])]
    assert [list(o.shape) for o in outputs[3:]] == detail_sizes
    net.eval()
    with paddle.no_grad():
        assert len(net(paddle.randn([1, 3, 64, 96]))) == 1


def build_pair(kind):
    paddle.seed(0)
    if kind == "STDCSeg":
        theirs = PaddleSegSTDCSeg(7, PaddleSegSTDC1(), use_boundary_2=True, use_boundary_4=True)
        ours = STDCSeg(7, STDC1(), use_boundary_2=True, use_boundary_4=True)
    else:
        theirs = PaddleSegPPLiteSeg(7, PaddleSegSTDC1(), **LITESEG_STDC1)
        ours = PPLiteSeg(7, STDC1(), **LITESEG_STDC1)
    randomise_batch_norm_statistics(theirs)
    state = theirs.state_dict()
    assert sorted(ours.state_dict()) == sorted(state)
    ours.set_state_dict(state)
    return ours, theirs


@pytest.mark.parametrize("kind", ["STDCSeg", "PPLiteSeg"])
def test_training_outputs_equal_paddleseg(kind):
    """Every training output, in PaddleSeg's order (test_parity compares eval only)."""
    ours, theirs = build_pair(kind)
    x = paddle.to_tensor(np.random.default_rng(3).normal(size=(2, 3, 64, 96)).astype("float32"))
    ours.train()
    theirs.train()
    expected = [o.numpy() for o in theirs(x)]
    got = [o.numpy() for o in ours(x)]
    assert len(got) == len(expected) == len(catalog.MODELS[kind].output_names(
        {**catalog.defaults(catalog.MODELS[kind]), "use_boundary_2": True,
         "use_boundary_4": True}))
    for g, e in zip(got, expected, strict=True):
        assert g.shape == e.shape
        assert np.abs(g - e).max() <= 1e-4 * max(1.0, np.abs(e).max())


@pytest.mark.parametrize("backbone, seed_gflops, seed_params", [
    (STDC1, 24.83, 8.29),
    (STDC2, 38.05, 12.33),
])
def test_seed_gflops_count_the_backbone_twice(backbone, seed_gflops, seed_params):
    """The seed's STDC-Seg GFLOPs (zoo_specs/stdcseg.yaml's notes): PaddleSeg's STDCNet of
    that time also held its layers in stage aliases (x2 ... x32), so paddle.flops hooked
    each backbone layer twice, adding its FLOPs twice and setting its parameters once."""
    net = STDCSeg(19, backbone())
    flops, params = paddle_flops(net)
    assert round(params / 1e6, 2) == seed_params
    assert round(flops / 1e9, 2) < seed_gflops
    net.cp.backbone.stage_aliases = paddle.nn.LayerList(list(net.cp.backbone.features))
    double_flops, same_params = paddle_flops(net)
    assert same_params == params
    assert round(double_flops / 1e9, 2) == seed_gflops
