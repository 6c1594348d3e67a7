"""The figures the model cards show were measured for every combination, and where the
seed's summary table has the row they equal it: eval-mode parameters and GFLOPs at
1x3x512x1024 (paddle.flops conventions) to two decimals.

Counting FLOPs at full size takes ~45 s for a ResNet101 model on a 2-core CPU, so `segc
bench` measures them and records them in zoo_specs/measured.json; test_parity.py
checks the recorded parameter count against the model it builds.
"""

import pytest

from segc.model_figures import load_figures

from .conftest import ZOO
from .generated_scripts import combinations, resolved_spec

RECORDED = load_figures(ZOO)


@pytest.mark.parametrize("combination", combinations())
def test_recorded_figures_exist_and_equal_the_seed(combination):
    assert combination in RECORDED, f"run `segc bench {combination}`, then `segc compile --all`"
    recorded = RECORDED[combination]
    reference = resolved_spec(combination)["reference"]
    if reference.get("gflops") is not None:
        if reference.get("gflops_differs"):  # a seed figure known to be counted otherwise
            assert recorded["gflops"] != reference["gflops"], "drop `gflops_differs`"
        else:
            assert recorded["gflops"] == reference["gflops"]
    if reference.get("params_m") is not None:
        assert recorded["params_m"] == reference["params_m"]
