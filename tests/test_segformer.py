"""SegFormer (MiT-B0 ... B5) beyond what test_parity reaches: eval outputs equal to
PaddleSeg 2.8's at input sizes that are not multiples of 32 (the overlapping patch
embeddings pad, and there is no position embedding to interpolate), stochastic depth
(PaddleSeg's rates, random in training only, the same draws as PaddleSeg's), and the
recipe's optimizer: two steps of train.py's AdamW and schedule move the weights as
PaddleSeg's AdamW built from the config's values does.

The models are the session-scoped oracle pairs test_parity uses (tests/conftest.py); the
training-mode checks run on B0 only (3.7 M parameters)."""

import numpy as np
import paddle
import pytest
from paddleseg.models.backbones.transformer_utils import DropPath as PaddleSegDropPath
from paddleseg.optimizers.optimizer import AdamW as PaddleSegAdamW

from .generated_scripts import load_script
from .oracle import oracle_fix

pytestmark = pytest.mark.slow

SEGFORMERS = [f"segformer_b{i}" for i in range(6)]
# Neither side a multiple of 32 (72 = 2 x 32 + 8, 136 = 4 x 32 + 8), then both odd.
SIZES = [(1, 3, 72, 136), (1, 3, 57, 95)]
# PaddleSeg's segformer_b*_cityscapes_1024x512_160k.yml
ITERS = 160000
LEARNING_RATE = 6e-5


def random_input(shape, seed=1):
    return paddle.to_tensor(np.random.default_rng(seed).normal(size=shape).astype("float32"))


def drop_path_layers(model):
    """Each block's stochastic-depth layer in block order: (stage, index, layer), where
    layer is None for a PaddleSeg block built with rate 0 (an Identity)."""
    layers = []
    for stage in range(1, 5):
        for index, block in enumerate(getattr(model.backbone, f"block{stage}")):
            layer = block.drop_path
            has_rate = hasattr(layer, "drop_prob")
            layers.append((stage, index, layer if has_rate else None))
    return layers


def set_drop_path(model, rate):
    """Every drop path of `model` set to `rate`; returns the rates it had, to restore."""
    saved = []
    for layer in model.sublayers():
        if hasattr(layer, "drop_prob"):
            saved.append((layer, layer.drop_prob))
            layer.drop_prob = rate
    return saved


@pytest.mark.parametrize("combination", SEGFORMERS, scope="session")
@pytest.mark.parametrize("shape", SIZES, ids=[f"{s[2]}x{s[3]}" for s in SIZES])
def test_eval_outputs_match_paddleseg_at_sizes_not_multiples_of_32(
    combination, shape, oracle_pair
):
    spec, reference, ours = oracle_pair.spec, oracle_pair.reference, oracle_pair.ours
    oracle_pair.transfer()
    x = random_input(shape)
    with paddle.no_grad(), oracle_fix(spec["arch"]):
        expected = reference(x)[0].numpy()
    with paddle.no_grad():
        got = ours(x)[0].numpy()
    assert got.shape == expected.shape == (1, spec["dataset"]["num_classes"], *shape[2:])
    assert np.abs(expected).max() > 1e-3
    difference = float(np.abs(got - expected).max())
    assert difference <= 1e-4
    print(f"{combination} at {shape}: outputs max abs diff {difference:.3g}")


@pytest.mark.parametrize("combination", SEGFORMERS, scope="session")
def test_stochastic_depth_rates_are_paddlesegs(combination, oracle_pair):
    ours = drop_path_layers(oracle_pair.ours)
    theirs = drop_path_layers(oracle_pair.reference)
    assert [(s, i) for s, i, _ in ours] == [(s, i) for s, i, _ in theirs]
    depth = len(ours)
    linear = np.linspace(0.0, 0.1, depth)  # 0 for the first block, 0.1 for the last
    for (stage, index, layer), (_, _, reference), rate in zip(ours, theirs, linear):
        assert layer.drop_prob == pytest.approx(rate, abs=1e-7), (stage, index)
        reference_rate = 0.0 if reference is None else float(reference.drop_prob)
        assert layer.drop_prob == pytest.approx(reference_rate, abs=1e-7), (stage, index)
        assert reference is None or isinstance(reference, PaddleSegDropPath)
    assert ours[-1][2].drop_prob == pytest.approx(0.1)


@pytest.mark.parametrize("combination", ["segformer_b0"], scope="session")
def test_drop_path_is_random_in_training_only(combination, oracle_pair):
    ours = oracle_pair.transfer().ours
    x = random_input((2, 3, 64, 96))
    for layer in ours.sublayers():  # dropout off: only drop path is random here
        if isinstance(layer, (paddle.nn.Dropout, paddle.nn.Dropout2D)):
            layer.p = 0.0
    with paddle.no_grad():
        evaluated = [ours(x)[0].numpy() for _ in range(2)]
        ours.train()
        trained = []
        for seed in (1, 2):
            paddle.seed(seed)
            trained.append(ours(x)[0].numpy())
        saved = set_drop_path(ours, 0.0)
        try:
            paddle.seed(1)
            without = ours(x)[0].numpy()
            paddle.seed(2)
            without_again = ours(x)[0].numpy()
        finally:
            for layer, rate in saved:
                layer.drop_prob = rate
    np.testing.assert_array_equal(evaluated[0], evaluated[1])
    # In training, other draws drop other blocks' branches, per sample ...
    assert np.abs(trained[0] - trained[1]).max() > 1e-3
    # ... and nothing else is random: without drop path two draws give the same output.
    np.testing.assert_array_equal(without, without_again)


@pytest.mark.parametrize("combination", ["segformer_b0"], scope="session")
def test_training_outputs_match_paddleseg_with_the_same_draws(combination, oracle_pair):
    # Stochastic depth and dropout draw in the same order on both sides, so one seed
    # drops the same branches and pixels: training-mode outputs (BN on batch
    # statistics) agree, drop path included.
    spec, reference, ours = oracle_pair.spec, oracle_pair.reference, oracle_pair.ours
    oracle_pair.transfer()
    reference.train()
    ours.train()
    x = random_input((2, 3, 64, 96), seed=3)
    with paddle.no_grad():
        paddle.seed(7)
        with oracle_fix(spec["arch"]):
            expected = reference(x)[0].numpy()
        paddle.seed(7)
        got = ours(x)[0].numpy()
        paddle.seed(8)
        other_draw = ours(x)[0].numpy()
    assert np.abs(got - other_draw).max() > 1e-3  # the draws matter
    assert float(np.abs(got - expected).max()) <= 1e-4


@pytest.mark.parametrize("combination", ["segformer_b0"], scope="session")
def test_two_adamw_steps_move_the_weights_as_paddlesegs_optimizer(combination, oracle_pair):
    # train.py's optimizer and schedule against PaddleSeg's AdamW and Paddle's
    # PolynomialDecay with the config's values: the same update of every parameter
    # (decoupled weight decay on all of them, no per-parameter learning rates).
    spec, reference, ours = oracle_pair.spec, oracle_pair.reference, oracle_pair.ours
    oracle_pair.transfer()
    train = load_script(combination)
    our_optimizer, our_schedule = train.build_optimizer(ours, None, ITERS)
    assert isinstance(our_optimizer, paddle.optimizer.AdamW)
    their_schedule = paddle.optimizer.lr.PolynomialDecay(
        learning_rate=LEARNING_RATE, decay_steps=ITERS, end_lr=0.0, power=1.0
    )
    their_optimizer = PaddleSegAdamW(beta1=0.9, beta2=0.999, weight_decay=0.01)(
        reference, their_schedule
    )
    assert all(p.optimize_attr["learning_rate"] == 1.0 for p in ours.parameters())

    before = {k: v.numpy().copy() for k, v in ours.state_dict().items()}
    # Two steps (the second is where beta1 and beta2 show), in eval mode: no random
    # draws, the updates are what is compared.
    for step in range(2):
        x = random_input((1, 3, 64, 96), seed=4 + step)
        label = paddle.to_tensor(np.random.default_rng(step).integers(0, 19, (1, 64, 96)))
        for model, optimizer in ((reference, their_optimizer), (ours, our_optimizer)):
            with oracle_fix(spec["arch"]):
                logits = model(x)[0]
            paddle.nn.functional.cross_entropy(logits, label, axis=1).backward()
            optimizer.step()
            optimizer.clear_grad()
    ref_state, our_state = reference.state_dict(), ours.state_dict()
    head = "linear_pred.weight"
    assert np.abs(our_state[head].numpy() - before[head]).max() > 1e-5  # it moved
    # Decoupled weight decay moves a weight w by lr x 0.01 x w per step, about 1e-8 for
    # these weights: the tolerance must be far below that to see it.
    worst = max(float(np.abs(our_state[k].numpy() - ref_state[k].numpy()).max())
                for k in our_state)
    print(f"{combination}: two AdamW steps, largest weight difference {worst:.3g}")
    assert worst <= 1e-10

    # the schedule: 6e-5 at the start, linear (power 1) to 0 at the last iteration
    for step in (0, 1000, ITERS // 2, ITERS):
        our_schedule.last_epoch = step
        their_schedule.last_epoch = step
        assert our_schedule.get_lr() == pytest.approx(their_schedule.get_lr(), rel=1e-9,
                                                      abs=1e-15)
    our_schedule.last_epoch = ITERS // 2
    assert our_schedule.get_lr() == pytest.approx(LEARNING_RATE / 2)
