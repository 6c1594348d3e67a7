"""ENet, ESPNet (V1, V2) and PP-HumanSeg-Lite: very small real-time networks (well under
2 M parameters) that build their own layers, with no separate backbone."""

from __future__ import annotations

from .types import BOOL, POS_INT, PROB, Arg, Component, ExtraOutput

_IN_CHANNELS = Arg("in_channels", POS_INT, 3, "Channels of the input image.")
_RUNTIME_ARGS = (("num_classes", "num_classes"),)

MODELS = [
    Component(
        name="ENet",
        symbol="ENet",
        takes_backbone=False,
        runtime_args=_RUNTIME_ARGS,
        description="ENet (Paszke et al., 2016): an initial block and two downsampling "
        "bottlenecks take the image to 1/8, where regular, dilated and asymmetric "
        "residual bottlenecks compute the features; a small decoder max-unpools with the "
        "encoder's pooling indices and a transposed conv gives full resolution. Exports "
        "to Paddle Inference; paddle2onnx cannot convert max unpooling.",
        args=(
            _IN_CHANNELS,
            Arg("encoder_relu", BOOL, False,
                "ReLU instead of PReLU in the encoder (the paper uses PReLU)."),
            Arg("decoder_relu", BOOL, True,
                "ReLU instead of PReLU in the decoder (the paper uses ReLU)."),
        ),
        extra={"onnx_unsupported": "max_unpool2d (the decoder's unpooling with the "
                                   "encoder's max-pooling indices)"},
    ),
    Component(
        name="ESPNetV1",
        symbol="ESPNetV1",
        takes_backbone=False,
        runtime_args=_RUNTIME_ARGS,
        description="ESPNet (Mehta et al., ECCV 2018): efficient spatial pyramid modules "
        "(a 1x1 reduction, five parallel dilated 3x3 convs added up hierarchically) in an "
        "encoder at 1/2, 1/4 and 1/8 that re-injects the downsampled image; a light "
        "decoder fuses the levels' class scores with transposed convs. Needs at least 5 "
        "classes (its decoder's ESP module splits them five ways).",
        args=(
            _IN_CHANNELS,
            Arg("level2_depth", POS_INT, 2, "ESP modules at 1/4 resolution."),
            Arg("level3_depth", POS_INT, 3, "ESP modules at 1/8 resolution."),
        ),
        extra={"onnx_unsupported": "an adaptive average pooling to a size computed at run "
                                   "time (\"ksize's type is not constant\"), even at a fixed "
                                   "--input-shape",
               # its 1/2, 1/4 and 1/8 maps are concatenated with the image downsampled
               "input_multiple": 8},
    ),
    Component(
        name="ESPNetV2",
        symbol="ESPNetV2",
        takes_backbone=False,
        runtime_args=_RUNTIME_ARGS,
        description="ESPNetv2 (Mehta et al., CVPR 2019): EESP units (grouped 1x1 convs "
        "around depthwise dilated convs added up hierarchically) down to 1/16, with an "
        "image shortcut into each downsampling; the head fuses 1/16 and 1/8 through an "
        "EESP unit and a pooling pyramid, then refines at 1/4 and 1/2. Training adds the "
        "1/8 class scores, upsampled, as a second output.",
        extra_outputs=(ExtraOutput("level3_scores"),),
        args=(
            _IN_CHANNELS,
            Arg("scale", {"type": "number", "exclusiveMinimum": 0, "maximum": 2}, 1.0,
                "Width multiplier of the network (PaddleSeg supports up to 1.5, and 2)."),
            Arg("drop_prob", PROB, 0.1,
                "Spatial dropout before the head's 1x1 classifiers."),
        ),
        extra={"onnx_unsupported": "a dilated depthwise convolution with 'SAME' padding",
               # its levels down to 1/16 are added to the image downsampled
               "input_multiple": 16},
    ),
    Component(
        name="PPHumanSegLite",
        symbol="PPHumanSegLite",
        takes_backbone=False,
        runtime_args=_RUNTIME_ARGS,
        description="PP-HumanSeg-Lite (PaddleSeg): an ultra-light portrait segmentation "
        "network; a ShuffleNetV2-like encoder to 1/16 and a decoder that fuses the "
        "upsampled features with a 1/2-resolution skip through separable convs.",
        args=(
            _IN_CHANNELS,
            Arg("align_corners", BOOL, False, "align_corners of the bilinear upsampling."),
        ),
    ),
]
