"""Generated models are PaddleSeg 2.8's models: same parameter names and shapes, same
outputs after a weight transfer, the same layers in eval (equal FLOPs), same parameter
counts as the model zoo reports.

Each combination's two models are built once (tests/conftest.py's `oracle_pair`) for
this test and the family tests that compare more of them."""

import numpy as np
import paddle
import pytest

from segc.bench.flops import paddle_flops
from segc.model_figures import load_figures

from .conftest import ZOO
from .generated_scripts import combinations
from .oracle import oracle_fix

pytestmark = pytest.mark.slow

INPUT_SHAPE = (1, 3, 64, 128)


@pytest.mark.parametrize("combination", combinations(), scope="session")
def test_state_dict_outputs_and_parameter_count_match_paddleseg(combination, oracle_pair):
    spec, reference, ours = oracle_pair.spec, oracle_pair.reference, oracle_pair.ours
    ref_state = reference.state_dict()
    our_state = ours.state_dict()
    assert sorted(our_state) == sorted(ref_state), (
        f"missing: {sorted(set(ref_state) - set(our_state))[:5]}, "
        f"unexpected: {sorted(set(our_state) - set(ref_state))[:5]}")
    mismatched = [k for k in ref_state if list(ref_state[k].shape) != list(our_state[k].shape)]
    assert not mismatched

    oracle_pair.transfer()
    x = paddle.to_tensor(np.random.default_rng(1).normal(size=INPUT_SHAPE).astype("float32"))
    with paddle.no_grad(), oracle_fix(spec["arch"]):
        expected = reference(x)[0].numpy()
    with paddle.no_grad():
        got = ours(x)[0].numpy()
    assert got.shape == expected.shape == (1, spec["dataset"]["num_classes"], *INPUT_SHAPE[2:])
    assert np.abs(expected).max() > 1e-3  # a meaningful comparison, not two zero maps
    difference = float(np.abs(got - expected).max())
    assert difference <= 1e-4

    # paddle.flops counts the layers an eval pass runs: equal FLOPs mean the same layers
    # run (auxiliary heads included or not, as in PaddleSeg) on the same shapes.
    our_flops, our_params = paddle_flops(ours, INPUT_SHAPE)
    with oracle_fix(spec["arch"]):
        ref_flops, ref_params = paddle_flops(reference, INPUT_SHAPE)
    assert our_params == ref_params
    assert our_flops == ref_flops > 0
    seed_params = spec["reference"].get("params_m")
    if seed_params is not None:
        assert round(our_params / 1e6, 2) == seed_params
    card = load_figures(ZOO).get(combination)  # what segc bench recorded for the model card
    if card is not None:
        assert card["params_m"] == round(our_params / 1e6, 2)
    # Figures for the record (pytest -rP shows them): what this run measured.
    print(f"{combination}: outputs max abs diff {difference:.3g}; "
          f"eval params {our_params / 1e6:.2f} M (seed {seed_params}); "
          f"eval FLOPs at {INPUT_SHAPE} {our_flops / 1e9:.3f} G, both")
