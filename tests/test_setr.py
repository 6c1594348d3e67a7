"""SETR (naive, PUP, MLA on ViT-L/16) beyond test_parity.py: outputs at a second input
size whose patch grid (6 x 10) is neither the learned 24 x 24 nor test_parity's 4 x 8, in
eval and in training (auxiliary outputs, training only); the heads' learning-rate
multipliers as PaddleSeg sets them and as the optimizer applies them.

The ViT-L pairs are test_parity's (conftest's session-scoped `oracle_pair`), built once.
"""

import numpy as np
import paddle
import pytest

from segc import catalog

from .generated_scripts import load_script
from .oracle import oracle_fix

COMBINATIONS = ["setr_mla", "setr_naive", "setr_pup"]

# 1/16 grid of 6 x 10 tokens: the position embedding resized to a third shape
SECOND_INPUT_SHAPE = (1, 3, 96, 160)


def random_input(shape=SECOND_INPUT_SHAPE, seed=2):
    return paddle.to_tensor(np.random.default_rng(seed).normal(size=shape).astype("float32"))


def max_difference(got, expected):
    assert len(got) == len(expected)
    for a, b in zip(got, expected):
        assert a.shape == b.shape
    return max(float(np.abs(a.numpy() - b.numpy()).max()) for a, b in zip(got, expected))


@pytest.mark.slow
@pytest.mark.parametrize("combination", COMBINATIONS, scope="session")
def test_outputs_match_paddleseg_at_a_second_size_in_eval_and_training(combination, oracle_pair):
    spec, reference, ours = oracle_pair.spec, oracle_pair.reference, oracle_pair.ours
    oracle_pair.transfer()
    x = random_input()
    with paddle.no_grad(), oracle_fix(spec["arch"]):
        expected = reference(x)
    with paddle.no_grad():
        got = ours(x)
    assert len(got) == 1  # eval: the main logits only, as in PaddleSeg
    assert got[0].shape == [1, 19, *SECOND_INPUT_SHAPE[2:]]
    assert np.abs(expected[0].numpy()).max() > 1e-3
    eval_difference = max_difference(got, expected)
    assert eval_difference <= 1e-4

    # training: the auxiliary outputs too, as many as the catalog (and so the spec's
    # losses) counts; batch statistics, no dropout or drop path in these models
    model_args = spec["components"]["model"]
    outputs = catalog.MODELS["SegmentationTransformer"].output_names(model_args)
    assert len(outputs) == {"setr_naive": 4, "setr_pup": 5, "setr_mla": 5}[combination]
    reference.train()
    ours.train()
    with paddle.no_grad(), oracle_fix(spec["arch"]):
        expected = reference(x)
    with paddle.no_grad():
        got = ours(x)
    assert len(got) == len(expected) == len(outputs)
    train_difference = max_difference(got, expected)
    assert train_difference <= 1e-4
    print(f"{combination} at {SECOND_INPUT_SHAPE}: max abs diff eval {eval_difference:.3g}, "
          f"training ({len(got)} outputs) {train_difference:.3g}")


@pytest.mark.slow
@pytest.mark.parametrize("combination", COMBINATIONS, scope="session")
def test_learning_rate_multipliers_are_paddlesegs(combination, oracle_pair):
    reference, ours = oracle_pair.reference, oracle_pair.ours
    expected = {name: p.optimize_attr["learning_rate"] for name, p in reference.named_parameters()}
    got = {name: p.optimize_attr["learning_rate"] for name, p in ours.named_parameters()}
    assert got == expected
    head = {rate for name, rate in got.items() if name.startswith("head.")}
    backbone = {rate for name, rate in got.items() if name.startswith("backbone.")}
    assert backbone == {1.0}
    # PaddleSeg's MLA head never applies its lr_multiple (its init_weight is not called)
    assert head == ({1.0} if combination == "setr_mla" else {10})


def tiny_setr(combination, lr_multiple, drop_path_rate=0.0):
    """The generated model's classes on a 4-block ViT of width 32."""
    module = load_script(combination, "model.py")
    paddle.seed(0)
    backbone = module.VisionTransformer(img_size=32, patch_size=8, embed_dim=32, depth=4,
                                        num_heads=2, qkv_bias=True,
                                        drop_path_rate=drop_path_rate)
    head = combination.removeprefix("setr_")
    return module.SegmentationTransformer(3, backbone, backbone_indices=[0, 1, 2, 3], head=head,
                                          align_corners=True, lr_multiple=lr_multiple)


def one_step_moves(combination, lr_multiple):
    """How far one step of train.py's optimizer moves each parameter."""
    model = tiny_setr(combination, lr_multiple)
    before = {name: p.numpy().copy() for name, p in model.named_parameters()}
    optimizer, _ = load_script(combination).build_optimizer(model, 0.01, 10)
    label = paddle.to_tensor(np.random.default_rng(0).integers(0, 3, (2, 32, 48)))
    outputs = model(random_input((2, 3, 32, 48)))
    sum(paddle.nn.functional.cross_entropy(o, label, axis=1) for o in outputs).backward()
    optimizer.step()
    return {name: np.abs(p.numpy() - before[name]).max() for name, p in model.named_parameters()}


@pytest.mark.parametrize("combination", ["setr_naive", "setr_pup"])
def test_the_head_multiplier_reaches_the_optimizer(combination):
    tenfold, plain = one_step_moves(combination, 10), one_step_moves(combination, 1)
    # the main classifier
    weight = {"setr_naive": "head.cls_head.1.weight", "setr_pup": "head.cls_head.7.weight"}[
        combination]
    assert plain[weight] > 0
    assert tenfold[weight] == pytest.approx(10 * plain[weight], rel=1e-3)
    assert tenfold["backbone.patch_embed.proj.weight"] == pytest.approx(
        plain["backbone.patch_embed.proj.weight"], rel=1e-3)


def test_the_mla_head_trains_at_the_base_rate_as_in_paddleseg():
    tenfold, plain = one_step_moves("setr_mla", 10), one_step_moves("setr_mla", 1)
    assert plain["head.cls_head.weight"] > 0
    assert tenfold["head.cls_head.weight"] == pytest.approx(plain["head.cls_head.weight"],
                                                            rel=1e-3)


@pytest.mark.parametrize("combination", COMBINATIONS)
def test_auxiliary_outputs_and_drop_path_in_training_only(combination):
    model = tiny_setr(combination, 10, drop_path_rate=0.5)
    x = random_input((2, 3, 32, 48))
    model.eval()
    with paddle.no_grad():
        first, second = model(x), model(x)
    assert len(first) == 1
    assert np.array_equal(first[0].numpy(), second[0].numpy())  # no drop path in eval
    model.train()
    with paddle.no_grad():
        paddle.seed(1)
        trained = model(x)
        paddle.seed(2)
        again = model(x)
    assert len(trained) == {"setr_naive": 4, "setr_pup": 5, "setr_mla": 5}[combination]
    assert all(t.shape == [2, 3, 32, 48] for t in trained)
    assert np.abs(trained[0].numpy() - again[0].numpy()).max() > 1e-4  # drop path active
