"""The ViT backbone (templates/fragments/backbones/vision_transformer.py) is PaddleSeg
2.8's VisionTransformer: same state dict, same features and patch-grid shape after a
weight transfer, with and without the position embedding resized, in small
configurations (ViT-L itself is compared inside SETR, tests/test_setr.py)."""

import numpy as np
import paddle
import pytest
from paddleseg.models import backbones

from segc.templates.fragments.backbones.vision_transformer import VisionTransformer

from .oracle import oracle_fix

# Segmenter's generic form (final_norm, stochastic depth, qkv biases) and ViT-S/16's
# quirks (qk_scale, no qkv biases), each shrunk to a few blocks.
CONFIGS = {
    "final_norm": {"img_size": 128, "patch_size": 16, "embed_dim": 96, "depth": 3,
                   "num_heads": 4, "qkv_bias": True, "drop_path_rate": 0.1,
                   "final_norm": True, "epsilon": 1e-6},
    "qk_scale": {"img_size": 64, "patch_size": 8, "embed_dim": 32, "depth": 2,
                 "num_heads": 2, "mlp_ratio": 3, "qk_scale": 0.3},
}


def build_pair(config):
    paddle.seed(0)
    with oracle_fix("SegmentationTransformer"):  # PaddleSeg's init_weight needs it
        reference = backbones.VisionTransformer(**config)
    ours = VisionTransformer(**config)
    ours.set_state_dict(reference.state_dict())
    reference.eval()
    ours.eval()
    return reference, ours


def random_input(shape, seed=1):
    return paddle.to_tensor(np.random.default_rng(seed).normal(size=shape).astype("float32"))


def test_paddleseg_needs_the_oracle_fix_to_build_without_a_checkpoint():
    with pytest.raises(TypeError):
        backbones.VisionTransformer(img_size=32, embed_dim=8, depth=1, num_heads=2)


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_state_dict_features_and_grid_match_paddleseg(name):
    config = CONFIGS[name]
    reference, ours = build_pair(config)
    ref_state, our_state = reference.state_dict(), ours.state_dict()
    assert {k: list(v.shape) for k, v in our_state.items()} == {
        k: list(v.shape) for k, v in ref_state.items()}
    assert ("norm.weight" in our_state) == config.get("final_norm", False)
    learned = config["img_size"]
    # the learned grid (embedding added as it is), and grids of other token counts
    # (embedding resized bicubically), batch of two, non-square
    for shape in [(1, 3, learned, learned), (1, 3, 64, 128), (2, 3, 96, 160)]:
        x = random_input(shape)
        with paddle.no_grad():
            expected, expected_grid = reference(x)
            got, grid = ours(x)
        assert len(got) == len(expected) == config["depth"]
        assert grid.numpy().tolist() == expected_grid.numpy().tolist() == [
            shape[0], config["embed_dim"], shape[2] // config["patch_size"],
            shape[3] // config["patch_size"]]
        for a, b in zip(got, expected):
            assert a.shape == b.shape
            assert float(np.abs(a.numpy() - b.numpy()).max()) <= 1e-5


def test_the_embedding_is_resized_for_other_grids():
    _, ours = build_pair(CONFIGS["final_norm"])
    x = random_input((1, 3, 64, 128))
    with paddle.no_grad():
        before = ours(x)[0][0].numpy()
        ours.pos_embed.set_value(ours.pos_embed.numpy() * 2)
        after = ours(x)[0][0].numpy()
    assert np.abs(after - before).max() > 1e-3  # the (resized) embedding reaches the tokens


def test_stochastic_depth_only_in_training():
    _, ours = build_pair({**CONFIGS["final_norm"], "drop_path_rate": 0.9})
    x = random_input((4, 3, 64, 64))
    with paddle.no_grad():
        first = ours(x)[0][-1].numpy()
        second = ours(x)[0][-1].numpy()
        assert np.array_equal(first, second)  # eval: every branch runs, deterministic
        ours.train()
        paddle.seed(3)
        trained = ours(x)[0][-1].numpy()
    assert np.abs(trained - first).max() > 1e-3


def test_the_exported_program_resizes_without_a_branch(tmp_path):
    # A traced program always resizes the embedding (the identity at the learned grid)
    # rather than branching on the token count: an If operator made OpenVINO compute NaN
    # features from paddle2onnx's ONNX. Same outputs as the dynamic model either way.
    from .generated_scripts import load_script

    _, ours = build_pair(CONFIGS["final_norm"])

    class LastFeature(paddle.nn.Layer):
        def __init__(self, backbone):
            super().__init__()
            self.backbone = backbone

        def forward(self, x):
            return self.backbone(x)[0][-1]

    static = paddle.jit.to_static(
        LastFeature(ours), input_spec=[paddle.static.InputSpec([1, 3, -1, -1], "float32")], full_graph=True)
    paddle.jit.save(static, str(tmp_path / "model"))
    ops = load_script("setr_naive", "export.py").program_op_names(str(tmp_path / "model.json"))
    assert "bicubic_interp" in ops and "if" not in ops
    loaded = paddle.jit.load(str(tmp_path / "model"))
    for shape in [(1, 3, 128, 128), (1, 3, 64, 96)]:  # the learned 8 x 8 grid, and 4 x 6
        x = random_input(shape)
        with paddle.no_grad():
            expected = ours(x)[0][-1].numpy()
            got = loaded(x).numpy()
        assert float(np.abs(got - expected).max()) <= 1e-5


def test_stochastic_depth_draws_as_paddleseg_does():
    # drop path 0.5 (Segmenter trains with 0.1): seeded training passes give PaddleSeg's
    # features (the same rates per block, the same draws in the same order)
    reference, ours = build_pair({**CONFIGS["final_norm"], "drop_path_rate": 0.5})
    reference.train()
    ours.train()
    x = random_input((4, 3, 64, 96))
    with paddle.no_grad():
        paddle.seed(7)
        expected = reference(x)[0]
        paddle.seed(7)
        got = ours(x)[0]
    for a, b in zip(got, expected):
        assert float(np.abs(a.numpy() - b.numpy()).max()) <= 1e-5
