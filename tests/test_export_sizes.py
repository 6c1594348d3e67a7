"""The sizes export.py checks every engine at: the export size and, where it is dynamic,
an odd one, in steps of the input multiple of a model that takes only multiples (the
catalog's input_multiple: ESPNet, U-Net++, U-Net 3+, PortraitNet)."""

import numpy as np
import paddle
import pytest

from .generated_scripts import load_script

MULTIPLES = {"espnetv1": 8, "espnetv2": 16, "unet_plusplus": 16, "unet_3plus": 16,
             "portraitnet_mobilenetv2_x1_0": 32}


def test_a_dynamic_export_is_checked_at_an_odd_size_too_and_a_fixed_one_at_its_own():
    export = load_script("fcn_hrnet_w18", "export.py")
    assert export.export_check_shapes(export.SPEC, [1, 3, -1, -1]) == [
        [1, 3, 128, 256], [1, 3, 115, 263]]
    assert export.export_check_shapes(export.SPEC, [1, 3, 512, 1024]) == [[1, 3, 512, 1024]]
    assert export.export_check_shapes(export.SPEC, [1, 3, 96, -1]) == [
        [1, 3, 96, 256], [1, 3, 96, 263]]


@pytest.mark.parametrize("combination", sorted(MULTIPLES))
def test_a_model_taking_multiples_is_checked_at_an_odd_multiple(combination):
    export = load_script(combination, "export.py")
    multiple = MULTIPLES[combination]
    assert export.SPEC["input_multiple"] == multiple
    _, (_, _, height, width) = export.export_check_shapes(export.SPEC, [1, 3, -1, -1])
    assert height % multiple == 0 and width % multiple == 0
    assert height < 128 - 12 and width > 256 + 6  # at least the offsets, in whole steps


@pytest.mark.slow
@pytest.mark.parametrize("combination", sorted(MULTIPLES))
def test_the_multiple_is_what_the_model_needs(combination):
    """Each of these models fails at 115x263 (why it has a multiple) and runs at the odd
    size export.py picks for it."""
    export = load_script(combination, "export.py")
    model = load_script(combination, "model.py").build_model()
    model.eval()
    _, odd = export.export_check_shapes(export.SPEC, [1, 3, -1, -1])
    rng = np.random.default_rng(0)
    with paddle.no_grad():
        output = model(paddle.to_tensor(rng.uniform(-1, 1, odd).astype("float32")))[0]
        assert list(output.shape[2:]) == odd[2:]
        with pytest.raises(ValueError):
            model(paddle.to_tensor(rng.uniform(-1, 1, (1, 3, 115, 263)).astype("float32")))
