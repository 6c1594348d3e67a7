"""The attention heads (ANN, DANet, GCNet, DNLNet, ISANet, CCNet) beyond test_parity.py.

test_parity.py compares eval outputs after a weight transfer, where DANet's and CCNet's
attention gammas are still PaddleSeg's initial 0 (so the attention itself adds nothing)
and 64x128 inputs give feature maps that ISANet's 8x8 blocks divide evenly. Here the
gammas are non-zero, the input size is odd, training-mode outputs are compared too, and
the models run as static graphs (as export.py saves them) at sizes they were not traced
at. The full-size models are the ones test_parity.py builds (conftest's `oracle_pair`).
"""

import numpy as np
import paddle
import pytest

from .generated_scripts import load_script
from .oracle import oracle_fix, randomise_batch_norm_statistics

pytestmark = pytest.mark.slow

# The smallest combination of each architecture.
COMBINATIONS = ["ann_resnet50_vd_os8", "danet_resnet50_vd_os8", "gcnet_resnet50_vd_os8",
                "dnlnet_resnet50_vd_os8", "isanet_resnet50_vd_os8", "ccnet_resnet101_vd_os8"]

# 1/8 feature maps of 9 x 13: not a multiple of ISANet's 8 x 8 blocks, and not square.
ODD_INPUT_SHAPE = (1, 3, 72, 100)


def randomise_scalar_parameters(model, seed=0):
    """Non-zero values for the one-element parameters (DANet's and CCNet's attention
    gammas start at 0, which would hide the attention branch from any comparison)."""
    rng = np.random.default_rng(seed)
    changed = 0
    for param in model.parameters():
        if param.shape == [1]:
            param.set_value(rng.uniform(0.5, 1.5, [1]).astype("float32"))
            changed += 1
    return changed


def disable_dropout(model):
    for layer in model.sublayers():
        if isinstance(layer, (paddle.nn.Dropout, paddle.nn.Dropout2D)):
            layer.p = 0.0


def random_input(shape=ODD_INPUT_SHAPE, seed=1):
    return paddle.to_tensor(np.random.default_rng(seed).normal(size=shape).astype("float32"))


@pytest.mark.parametrize("combination", COMBINATIONS, scope="session")
def test_eval_and_training_outputs_match_paddleseg_with_attention_active(combination,
                                                                        oracle_pair):
    # The same random weights, BN statistics and non-zero gammas in both models.
    spec, reference, ours = oracle_pair.spec, oracle_pair.reference, oracle_pair.ours
    arch = spec["arch"]
    gammas = randomise_scalar_parameters(reference)
    if arch in ("DANet", "CCNet"):
        assert gammas >= 1
    oracle_pair.transfer()
    x = random_input()

    reference.eval()
    ours.eval()
    with paddle.no_grad(), oracle_fix(arch):
        expected = [t.numpy() for t in reference(x)]
    with paddle.no_grad():
        got = [t.numpy() for t in ours(x)]
    assert len(got) == len(expected)
    for e, g in zip(expected, got):
        assert g.shape == e.shape == (1, spec["dataset"]["num_classes"],
                                      *ODD_INPUT_SHAPE[2:])
        assert np.abs(g - e).max() <= 1e-4

    # Training mode (batch statistics in BN, dropout off): every output a loss consumes.
    if arch == "DANet":
        # PaddleSeg classifies the position branch with aux_head_cam; ours with its own
        # aux_head_pam. Give ours PaddleSeg's weights there to compare the rest.
        for name in ("weight", "bias"):
            getattr(ours.head.aux_head_pam[1], name).set_value(
                getattr(reference.head.aux_head_cam[1], name))
    disable_dropout(reference)
    disable_dropout(ours)
    reference.train()
    ours.train()
    with paddle.no_grad(), oracle_fix(arch):
        expected = [t.numpy() for t in reference(x)]
    with paddle.no_grad():
        got = [t.numpy() for t in ours(x)]
    assert len(got) == len(expected) == len(load_script(combination).build_losses(255))
    for e, g in zip(expected, got):
        assert np.abs(g - e).max() <= 1e-4 * max(1.0, float(np.abs(e).max()))


class TinyBackbone(paddle.nn.Layer):
    """Four feature maps at 1/4, 1/8, 1/8 and 1/8 of the input with few channels: the
    layout of a dilated ResNet-vd at output stride 8, small enough to trace quickly."""

    def __init__(self):
        super().__init__()
        self.feat_channels = [8, 16, 32, 64]
        self.stem = paddle.nn.Conv2D(3, 8, 3, stride=4, padding=1)
        self.stages = paddle.nn.LayerList([
            paddle.nn.Conv2D(8, 16, 3, stride=2, padding=1),
            paddle.nn.Conv2D(16, 32, 3, padding=1),
            paddle.nn.Conv2D(32, 64, 3, padding=1),
        ])

    def forward(self, x):
        feats = [paddle.nn.functional.relu(self.stem(x))]
        for stage in self.stages:
            feats.append(paddle.nn.functional.relu(stage(feats[-1])))
        return feats


def tiny_models():
    from segc.templates.fragments.models import ann, ccnet, danet, dnlnet, gcnet, isanet

    return {
        "ANN": lambda: ann.ANN(5, TinyBackbone(), key_value_channels=8, inter_channels=16),
        "DANet": lambda: danet.DANet(5, TinyBackbone()),
        "GCNet": lambda: gcnet.GCNet(5, TinyBackbone(), gc_channels=16),
        "DNLNet": lambda: dnlnet.DNLNet(5, TinyBackbone()),
        "ISANet": lambda: isanet.ISANet(5, TinyBackbone(), isa_channels=8),
        "CCNet": lambda: ccnet.CCNet(5, TinyBackbone(), recurrence=2),
    }


@pytest.mark.parametrize("arch", sorted(tiny_models()))
def test_exported_model_follows_the_dynamic_one_at_untraced_sizes(arch, tmp_path):
    from segc.templates.fragments.runtime.predictor import (
        create_inference_predictor,
        run_inference_predictor,
    )

    paddle.seed(0)
    model = tiny_models()[arch]()
    randomise_scalar_parameters(model)
    randomise_batch_norm_statistics(model)
    model.eval()
    spec = paddle.static.InputSpec([None, 3, None, None], "float32", name="x")
    static = paddle.jit.to_static(model, input_spec=[spec], full_graph=True)
    paddle.jit.save(static, str(tmp_path / "model"))
    program = next(p for p in (tmp_path / "model.json", tmp_path / "model.pdmodel")
                   if p.exists())
    predictor = create_inference_predictor(str(program), str(tmp_path / "model.pdiparams"))
    # feature maps 9 x 13 (ISANet pads both sides), 8 x 17 and 16 x 16 (no padding)
    for shape in ((1, 3, 72, 100), (2, 3, 64, 136), (1, 3, 128, 128)):
        x = random_input(shape, seed=shape[3])
        with paddle.no_grad():
            expected = model(x)[0].numpy()
        got = run_inference_predictor(predictor, x.numpy())
        assert got.shape == expected.shape == (shape[0], 5, *shape[2:])
        assert np.abs(got - expected).max() <= 1e-4 * max(1.0, float(np.abs(expected).max()))
