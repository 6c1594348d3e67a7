"""The Paddle Inference predictor behind infer.py and export.py's check: its
configuration on CPU (oneDNN, with the passes Paddle 3.3 gets wrong dropped) or GPU
(float32 or float16, optionally through TensorRT), and one run of it."""

import os

import paddle

# Ops that Paddle 3.3's oneDNN instruction cannot run under PIR: converting their
# `scale` attribute (ArrayAttribute<DoubleAttribute>) fails at the first run
# (PaddlePaddle/Paddle#79749). Every model here upsamples its logits with one.
ONEDNN_BROKEN_PIR_OPS = (
    b"bilinear_interp",
    b"nearest_interp",
    b"linear_interp",
    b"bicubic_interp",
    b"trilinear_interp",
)

# Activations that Paddle 3.3's conv_activation_onednn_fuse_pass cannot fuse into the
# conv before them: it reads leaky_relu's slope as the wrong attribute type and the
# predictor dies with a segmentation fault while it is created (CCNet uses one).
ONEDNN_BROKEN_CONV_FUSION_OPS = (b"leaky_relu",)


# Input sizes TensorRT builds its engines for when the exported input size is dynamic:
# the smallest and largest sides accepted, and the size it optimizes for (Cityscapes').
TRT_MIN_SIDE, TRT_MAX_SIDE, TRT_OPT_SIZE = 32, 2048, (512, 1024)


def create_inference_predictor(
    model_file,
    params_file,
    device="cpu",
    cpu_threads=None,
    use_onednn=True,
    precision="fp32",
    use_trt=False,
    input_shape=None,
):
    """A Paddle Inference predictor for an exported model (.json or .pdmodel program).

    On GPU `precision` fp16 runs the float16 kernels (Paddle converts the program when
    it loads it, unless export.py --precision fp16 did); `use_trt` hands the subgraphs
    TensorRT supports to it, in that precision, for inputs of `input_shape` (deploy.yaml's,
    -1 for a dynamic side). On CPU oneDNN is on unless `use_onednn` is False. For a program with an op of
    ONEDNN_BROKEN_PIR_OPS the blanket oneDNN placement pass is dropped: the oneDNN
    fusion passes (conv + bn + activation and the like) still run, so convolutions
    stay on oneDNN, while the interpolation keeps its plain CPU kernel. For one of
    ONEDNN_BROKEN_CONV_FUSION_OPS the conv + activation fusion is dropped too.
    """
    config = paddle.inference.Config(model_file, params_file)
    config.disable_glog_info()
    config.switch_ir_optim(True)
    if device == "gpu":
        kind = paddle.inference.PrecisionType
        precision_type = kind.Half if precision == "fp16" else kind.Float32
        config.enable_use_gpu(256, 0, precision_type)
        if use_trt:
            enable_tensorrt(config, precision_type, input_shape or [1, 3, -1, -1])
    else:
        config.disable_gpu()
        config.set_cpu_math_library_num_threads(int(cpu_threads or os.cpu_count() or 1))
        if use_onednn:
            config.enable_onednn()
            if inference_program_has_broken_onednn_ops(model_file):
                config.delete_pass("onednn_placement_pass")
            if inference_program_uses(model_file, ONEDNN_BROKEN_CONV_FUSION_OPS):
                config.delete_pass("conv_activation_onednn_fuse_pass")
        else:
            config.disable_onednn()
    return paddle.inference.create_predictor(config)


def enable_tensorrt(config, precision_type, input_shape):
    """TensorRT for the predictor of `config`, with the shape range of input `x` (export.py
    names it so; PaddleSeg's export too): the exported size, or TRT_MIN_SIDE..TRT_MAX_SIDE
    for a dynamic side. Untested here: needs a CUDA build of Paddle with TensorRT."""
    config.enable_tensorrt_engine(
        workspace_size=1 << 30,
        max_batch_size=1,
        min_subgraph_size=3,
        precision_mode=precision_type,
        use_static=False,
        use_calib_mode=False,  # calibration is for int8; float16 needs none
    )
    height, width = input_shape[2:]
    fixed = height > 0 and width > 0
    smallest = [1, 3, height, width] if fixed else [1, 3, TRT_MIN_SIDE, TRT_MIN_SIDE]
    largest = [1, 3, height, width] if fixed else [1, 3, TRT_MAX_SIDE, TRT_MAX_SIDE]
    best = [1, 3, height, width] if fixed else [1, 3, *TRT_OPT_SIZE]
    config.set_trt_dynamic_shape_info({"x": smallest}, {"x": largest}, {"x": best})


def paddle_has_tensorrt():
    """Whether this Paddle was built with TensorRT (it reports version 0.0.0 otherwise)."""
    return tuple(paddle.inference.get_trt_compile_version()) != (0, 0, 0)


def inference_program_has_broken_onednn_ops(model_file):
    """Whether the saved program uses one of ONEDNN_BROKEN_PIR_OPS."""
    return inference_program_uses(model_file, ONEDNN_BROKEN_PIR_OPS)


def inference_program_uses(model_file, op_names):
    """Whether the saved program mentions one of `op_names` (bytes)."""
    with open(model_file, "rb") as f:
        program = f.read()
    return any(name in program for name in op_names)


def run_inference_predictor(predictor, batch):
    """Run the predictor on a float32 NCHW batch; its first output as a numpy array."""
    handle = predictor.get_input_handle(predictor.get_input_names()[0])
    handle.reshape(batch.shape)
    handle.copy_from_cpu(batch)
    predictor.run()
    return predictor.get_output_handle(predictor.get_output_names()[0]).copy_to_cpu()
