"""The first architectures: PSPNet on dilated ResNet-vd and FCN on HRNet."""

from __future__ import annotations

from .types import BOOL, INT_LIST, POS_INT, Arg, Component, ExtraOutput

# every model is built as Model(num_classes=..., backbone=..., **spec arguments)
MODEL_RUNTIME_ARGS = (("num_classes", "num_classes"), ("backbone", "backbone"))

MODELS = [
    Component(
        name="PSPNet",
        symbol="PSPNet",
        runtime_args=MODEL_RUNTIME_ARGS,
        description="Pyramid Scene Parsing Network (Zhao et al., CVPR 2017): pyramid pooling "
        "over the last backbone stage, optional auxiliary head on the third.",
        extra_outputs=(ExtraOutput("auxiliary", when="enable_auxiliary_loss"),),
        backbones=("ResNet",),
        extra={"num_backbone_indices": 2,
               "onnx_fixed_input": {"what": "pyramid pooling", "bins": "bin_sizes"}},
        args=(
            Arg("backbone_indices", INT_LIST, [2, 3],
                "Backbone feature maps used: [auxiliary head input, main head input]."),
            Arg("pp_out_channels", POS_INT, 1024, "Channels after pyramid pooling."),
            Arg("bin_sizes", INT_LIST, [1, 2, 3, 6], "Output sizes of the pyramid's pooling."),
            Arg("enable_auxiliary_loss", BOOL, True,
                "Add the auxiliary head; training then returns two outputs."),
            Arg("align_corners", BOOL, False, "align_corners of the bilinear upsampling."),
        ),
    ),
    Component(
        name="FCN",
        symbol="FCN",
        runtime_args=MODEL_RUNTIME_ARGS,
        description="Fully convolutional head (Long et al., CVPR 2015): ConvBNReLU and a 1x1 "
        "classifier over one backbone feature map.",
        extra={"num_backbone_indices": 1},
        args=(
            Arg("backbone_indices", INT_LIST, [-1], "Backbone feature map the head reads."),
            Arg("channels", {"type": ["integer", "null"], "minimum": 1}, None,
                "Channels of the head's hidden conv; null uses the feature map's channels."),
            Arg("align_corners", BOOL, False, "align_corners of the bilinear upsampling."),
        ),
    ),
]
