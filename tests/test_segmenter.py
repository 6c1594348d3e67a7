"""Segmenter (linear and mask-transformer decoders on ViT-S/16 and ViT-B/16) against
PaddleSeg 2.8: outputs at a second input size whose patch grid is neither the learned
32x32 nor test_parity's, the parameter totals PaddleSeg reports, the recipe of its
configs, and stochastic depth in training only."""

from pathlib import Path

import numpy as np
import paddle
import pytest

from segc.templates.fragments.backbones.vision_transformer import VisionTransformer
from segc.templates.fragments.models.segmenter import LinearSegmenter, MaskSegmenter

from .generated_scripts import combinations, resolved_spec
from .oracle import oracle_fix, paddleseg_config

SEGMENTERS = [c for c in combinations() if c.startswith("segmenter_")]
CONFIGS = Path("/work/shared/paddleseg/configs/segmenter")
# 96x160 pixels: a 6x10 patch grid (test_parity's 64x128: 4x8; learned: 32x32)
SECOND_SHAPE = (1, 3, 96, 160)
# PaddleSeg 2.8's parameter totals (every parameter, position embedding and class
# embeddings included; paddle.flops, which the model cards report, counts only those of
# layers, not the ones a layer creates itself)
TOTAL_PARAMS_M = {
    "segmenter_vit_small_linear": 22.04,
    "segmenter_vit_small_mask": 26.03,
    "segmenter_vit_base_linear": 86.55,
    "segmenter_vit_base_mask": 102.49,
}


def test_the_zoo_has_the_four_segmenters():
    assert sorted(SEGMENTERS) == sorted(TOTAL_PARAMS_M)


@pytest.mark.slow
@pytest.mark.parametrize("combination", SEGMENTERS, scope="session")
def test_outputs_match_paddleseg_at_a_second_patch_grid(combination, oracle_pair):
    """After the weight transfer, eval outputs agree at 96x160, where the position
    embedding is resized to a 6x10 grid; the totals are PaddleSeg's."""
    spec, reference, ours = oracle_pair.spec, oracle_pair.reference, oracle_pair.ours
    oracle_pair.transfer()
    x = paddle.to_tensor(np.random.default_rng(2).normal(size=SECOND_SHAPE).astype("float32"))
    with paddle.no_grad(), oracle_fix(spec["arch"]):
        expected = reference(x)[0].numpy()
    with paddle.no_grad():
        got = ours(x)[0].numpy()
    assert got.shape == expected.shape == (1, 150, *SECOND_SHAPE[2:])
    assert np.abs(expected).max() > 1e-2
    difference = float(np.abs(got - expected).max())
    assert difference <= 1e-4
    total = sum(int(np.prod(p.shape)) for p in ours.parameters())
    assert total == sum(int(np.prod(p.shape)) for p in reference.parameters())
    assert round(total / 1e6, 2) == TOTAL_PARAMS_M[combination]
    print(f"{combination}: outputs max abs diff at {SECOND_SHAPE} {difference:.3g}; "
          f"{total / 1e6:.2f} M parameters in all")


@pytest.mark.slow
@pytest.mark.parametrize("combination", SEGMENTERS, scope="session")
def test_learning_rates_and_stochastic_depth_are_paddlesegs(combination, oracle_pair):
    """Every parameter's learning-rate multiplier is PaddleSeg's (1 throughout: neither
    Segmenter nor its configs set any), and each block, the backbone's and the mask
    decoder's, drops its branches at PaddleSeg's rate."""
    reference, ours = oracle_pair.reference, oracle_pair.ours
    theirs = {name: p.optimize_attr["learning_rate"] for name, p in reference.named_parameters()}
    mine = {name: p.optimize_attr["learning_rate"] for name, p in ours.named_parameters()}
    assert mine == theirs and set(mine.values()) == {1.0}

    def rates(model):
        return {name: float(getattr(layer.drop_path, "drop_prob", 0.0))
                for name, layer in model.named_sublayers() if hasattr(layer, "drop_path")}

    expected = rates(reference)
    assert len(expected) == 12 + (2 if "mask" in combination else 0)
    assert rates(ours) == pytest.approx(expected, abs=1e-12)
    assert max(expected.values()) == pytest.approx(0.1)


def written(ours, theirs):
    """The arguments PaddleSeg's config writes (`theirs`) as `ours` holds them."""
    return {key: ours[key] for key in theirs}


@pytest.mark.parametrize("combination", SEGMENTERS)
def test_recipe_is_paddlesegs_config(combination):
    """Model, backbone, batch size, iterations, optimizer, schedule, loss, dataset,
    transforms and sliding-window evaluation are what PaddleSeg's config (with its
    _base_) sets."""
    spec = resolved_spec(combination)
    parts = spec["components"]
    config = paddleseg_config(CONFIGS / spec["reference"]["config"]).dic
    model = {k: v for k, v in config["model"].items() if k != "backbone"}
    backbone = {k: v for k, v in config["model"]["backbone"].items() if k != "pretrained"}
    assert written(parts["model"], model) == model
    assert written(parts["backbone"], backbone) == backbone
    assert (spec["train"]["batch_size"], spec["train"]["iters"]) == (2, 160000)
    assert (config["batch_size"], config["iters"]) == (2, 160000)
    assert written(parts["optimizer"], config["optimizer"]) == config["optimizer"]
    assert written(parts["lr_scheduler"], config["lr_scheduler"]) == config["lr_scheduler"]
    assert parts["lr_scheduler"]["warmup_iters"] == 0
    assert [(loss["type"], loss["coef"]) for loss in parts["losses"]] == [
        ("CrossEntropyLoss", 1.0)]
    assert config["loss"] == {"types": [{"type": "CrossEntropyLoss"}], "coef": [1]}
    for ours, theirs in (("train_transforms", "train_dataset"), ("val_transforms", "val_dataset")):
        expected = config[theirs]["transforms"]
        assert [written(t, e) for t, e in zip(parts[ours], expected)] == expected
        assert len(parts[ours]) == len(expected)
    test = config["test_config"]
    assert test["is_slide"] is True
    assert spec["val"]["slide"] == {"crop_size": test["crop_size"], "stride": test["stride"]}
    assert config["train_dataset"]["type"] == spec["dataset"]["type"] == "ADE20K"
    assert spec["dataset"]["num_classes"] == 150


def tiny_segmenter(mask, drop_path_rate=0.5):
    paddle.seed(0)
    backbone = VisionTransformer(img_size=32, patch_size=16, embed_dim=32, depth=2,
                                 num_heads=2, qkv_bias=True, drop_path_rate=drop_path_rate,
                                 final_norm=True)
    if not mask:
        return LinearSegmenter(5, backbone)
    return MaskSegmenter(5, backbone, h_embed_dim=16, h_depth=3, h_num_heads=2,
                         h_drop_path_rate=drop_path_rate)


def test_the_mask_decoders_stochastic_depth_rises_as_paddlesegs():
    model = tiny_segmenter(mask=True)
    assert [b.drop_path.drop_prob for b in model.head.blocks] == [0.0, 0.25, 0.5]
    assert [b.drop_path.drop_prob for b in model.backbone.blocks] == [0.0, 0.5]


@pytest.mark.parametrize("mask", [False, True])
def test_drop_path_runs_in_training_only(mask):
    """In eval the outputs are those without stochastic depth, every time; in training
    whole residual branches are dropped at random, so two passes differ."""
    x = paddle.to_tensor(np.random.default_rng(0).normal(size=(4, 3, 48, 64)).astype("float32"))
    model = tiny_segmenter(mask)
    plain = tiny_segmenter(mask, drop_path_rate=0.0)
    plain.set_state_dict(model.state_dict())
    model.eval()
    plain.eval()
    with paddle.no_grad():
        first, second = model(x)[0].numpy(), model(x)[0].numpy()
        without = plain(x)[0].numpy()
    np.testing.assert_array_equal(first, second)
    np.testing.assert_allclose(first, without, atol=1e-6)
    model.train()
    paddle.seed(1)
    with paddle.no_grad():
        trained = [model(x)[0].numpy() for _ in range(2)]
    assert np.abs(trained[0] - trained[1]).max() > 1e-3
    assert np.abs(trained[0] - first).max() > 1e-3
