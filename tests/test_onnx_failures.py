"""paddle2onnx aborts its process on a model it cannot convert; export.py --onnx runs it
in a child and turns that into one line naming the cause and what to do, exit 2."""

import numpy as np
import paddle
import paddle.nn.functional as F
import pytest

from segc.templates.fragments.runtime.onnx_export import (
    converter_errors,
    export_onnx_model,
    program_op_names,
)


class _Unpooling(paddle.nn.Layer):
    """SegNet's and ENet's pattern: max pooling with indices, then unpooling with them."""

    def __init__(self):
        super().__init__()
        self.conv = paddle.nn.Conv2D(3, 4, 3, padding=1)

    def forward(self, x):
        pooled, indices = F.max_pool2d(self.conv(x), 2, 2, return_mask=True)
        return F.max_unpool2d(pooled, indices, 2, 2, output_size=x.shape[2:])


class _PyramidPooling(paddle.nn.Layer):
    """PSPNet's pattern: adaptive pooling to fixed bins of an input of any size."""

    def __init__(self):
        super().__init__()
        self.conv = paddle.nn.Conv2D(3, 4, 3, padding=1)

    def forward(self, x):
        pooled = F.adaptive_avg_pool2d(self.conv(x), 3)
        return F.interpolate(pooled, x.shape[2:], mode="bilinear")


class _DilatedDepthwiseSame(paddle.nn.Layer):
    """ESPNetV2's pattern: a dilated depthwise convolution with 'SAME' padding."""

    def __init__(self):
        super().__init__()
        self.conv = paddle.nn.Conv2D(3, 3, 3, padding="SAME", dilation=2, groups=3)

    def forward(self, x):
        return self.conv(x)


def saved(layer, folder, shape=(None, 3, None, None)):
    layer.eval()
    static = paddle.jit.to_static(
        layer, input_spec=[paddle.static.InputSpec(list(shape), "float32", "x")],
        full_graph=True)
    paddle.jit.save(static, str(folder / "model"))
    return str(folder / "model.json"), str(folder / "model.pdiparams")


def test_program_op_names_reads_the_saved_program(tmp_path):
    model_file, _ = saved(_Unpooling(), tmp_path)
    assert {"conv2d", "max_pool2d_with_index", "unpool"} <= program_op_names(model_file)


def test_an_unsupported_operator_is_one_line_naming_it(tmp_path, capsys):
    model_file, params_file = saved(_Unpooling(), tmp_path)
    with pytest.raises(SystemExit) as stop:
        export_onnx_model(model_file, params_file, str(tmp_path / "model.onnx"))
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ")
    assert "no converter for unpool (max_unpool2d" in err and "Paddle Inference" in err
    assert not (tmp_path / "model.onnx").exists()


def test_adaptive_pooling_of_a_dynamic_size_asks_for_a_static_shape(tmp_path, capsys):
    model_file, params_file = saved(_PyramidPooling(), tmp_path)
    with pytest.raises(SystemExit) as stop:
        export_onnx_model(model_file, params_file, str(tmp_path / "model.onnx"))
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--input-shape 1 3 HEIGHT WIDTH" in err

    static = tmp_path / "static"
    static.mkdir()
    model_file, params_file = saved(_PyramidPooling(), static, (1, 3, 32, 48))
    export_onnx_model(model_file, params_file, str(static / "model.onnx"))
    assert (static / "model.onnx").stat().st_size > 0


def test_any_other_converter_error_is_one_line_with_its_own_reason(tmp_path, capsys):
    model_file, params_file = saved(_DilatedDepthwiseSame(), tmp_path)
    with pytest.raises(SystemExit) as stop:
        export_onnx_model(model_file, params_file, str(tmp_path / "model.onnx"))
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: paddle2onnx cannot convert this model (")
    # paddle2onnx's own reason, without its colour codes, tags or the staging path
    assert "dilations != 1, cannot support padding = 'SAME'" in err
    assert "\x1b" not in err and "[ERROR]" not in err and str(tmp_path) not in err
    assert "Paddle Inference" in err
    assert not (tmp_path / "model.onnx").exists()


def test_converter_errors_strips_the_noise_and_keeps_the_specific_reason():
    output = (
        "[Paddle2ONNX] Start parsing the Paddle model file...\n"
        "\x1b[0;31m2026-12-06 13:22:32 [ERROR]\tFailed to convert: (Unimplemented) x\x1b[0m\n"
        "[ERROR][Paddle2ONNX] There are unsupported features.\n"
        "\x1b[0;31m2026-12-06 13:22:33 [ERROR]\tFailed to convert: (Unimplemented) x\x1b[0m\n"
        "FatalError: `Process abort signal` is detected by the operating system.\n"
    )
    assert converter_errors(output) == ["Failed to convert: (Unimplemented) x"]
    only_generic = "[ERROR][Paddle2ONNX] There are unsupported features.\n"
    assert converter_errors(only_generic) == ["There are unsupported features."]
    assert converter_errors("Segmentation fault\n") == []


def test_compare_outputs_bounds_every_pixel_unless_given_a_share():
    from segc.templates.fragments.runtime.onnx_export import compare_outputs

    rng = np.random.default_rng(0)
    expected = rng.normal(size=(1, 4, 20, 50)).astype(np.float32)
    # a few whole pixels moved (1 % of them), as SegNet's unpooling does at a near-tie
    actual = expected + rng.normal(scale=1e-6, size=expected.shape).astype(np.float32)
    actual[:, :, 0, :10] += 3.0
    _, passed, description = compare_outputs(actual, expected, "input x", 0.98, 1e-3)
    assert not passed and "of pixels" not in description
    difference, passed, description = compare_outputs(actual, expected, "input x", 0.98,
                                                      1e-3, pixel_share=0.98)
    assert passed and difference < 1e-5 and ", 98.0% of pixels (need <= 0.001)" in description
    # a wrong layer moves every pixel: no share forgives it
    wrong = expected * 1.1
    assert not compare_outputs(wrong, expected, "input x", 0.98, 1e-3, pixel_share=0.98)[1]
    # class ids: the share of equal pixels
    classes = expected.argmax(1).astype(np.int32)
    moved = classes.copy()
    moved[0, 0, :15] = (moved[0, 0, :15] + 1) % 4
    assert compare_outputs(moved, classes, "input x", 0.98, 1e-3)[1]
    assert not compare_outputs(moved, classes, "input x", 0.999, 1e-3)[1]


def test_only_segnet_and_isanet_loosen_their_export_check():
    from .generated_scripts import combinations, load_script

    loosened = {}
    for combination in combinations():
        export = load_script(combination, "export.py")
        tolerance = export.export_tolerance(export.SPEC)
        if tolerance != (export.EXPORT_MIN_PIXEL_AGREEMENT, export.EXPORT_MAX_RELATIVE_DIFF, None):
            loosened[combination] = tolerance
    assert loosened == {"segnet": (0.98, 0.01, 0.98),
                        "isanet_resnet50_vd_os8": (0.999, 0.01, None),
                        "isanet_resnet101_vd_os8": (0.999, 0.01, None)}


def test_a_converter_crash_without_a_message_names_the_signal(tmp_path):
    from segc.templates.fragments.runtime.onnx_export import conversion_failure

    model_file, _ = saved(_PyramidPooling(), tmp_path, (1, 3, 32, 48))  # no unpool in it
    crashed = conversion_failure(model_file, "FatalError: `Segmentation fault`\n", -11)
    assert "(it crashed with SIGSEGV)" in crashed and "Paddle Inference" in crashed
    silent = conversion_failure(model_file, "", 1)
    assert "(it stopped without a message)" in silent


def test_onnx_fixed_input_sizes_are_the_pooled_stride_times_the_bins_lcm():
    """Adaptive pooling converts exactly only where each bin count divides the pooled map:
    sides that are multiples of stride x lcm(bins); everything else needs nothing."""
    from .generated_scripts import combinations, load_script

    multiples = {}
    for combination in combinations():
        export = load_script(combination, "export.py")
        fixed = export.SPEC.get("onnx_fixed_input")
        if fixed:
            multiples[combination] = fixed["multiple"]
            assert all(side % fixed["multiple"] == 0 for side in fixed["example"])
            assert export.onnx_input_problem(export.SPEC, [1, 3, *fixed["example"]]) is None
            problem = export.onnx_input_problem(export.SPEC, [1, 3, -1, -1])
            assert f"multiples of {fixed['multiple']}" in problem
        else:
            assert export.onnx_input_problem(export.SPEC, [1, 3, -1, -1]) is None
    assert multiples == {
        "pspnet_resnet50_vd_os8": 48, "pspnet_resnet101_vd_os8": 48,  # 1/8, bins 1 2 3 6
        "sfnet_resnet18_vd_os8": 48, "sfnet_resnet50_vd_os8": 48,  # 1/8, bins 1 2 3 6
        "ann_resnet50_vd_os8": 192, "ann_resnet101_vd_os8": 192,  # 1/8, bins 1 3 6 8
        "dmnet_resnet101_vd_os8": 840,  # 1/8, filters 1 3 5 7
        "fastscnn": 192,  # 1/32, bins 1 2 3 6
        "pp_liteseg_stdc1": 128, "pp_liteseg_stdc2": 128,  # 1/32, bins 1 2 4
    }
