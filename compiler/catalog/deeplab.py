"""DeepLabV3, DeepLabV3P, GSCNN and DecoupledSegNet: ASPP-based heads on dilated ResNet-vd."""

from __future__ import annotations

from .classic import MODEL_RUNTIME_ARGS
from .types import BOOL, INT_LIST, POS_INT, Arg, Component

_ASPP_ARGS = (
    Arg("aspp_ratios", {"type": "array", "items": POS_INT, "minItems": 1}, [1, 6, 12, 18],
        "Dilation rates of the ASPP branches (1: a 1x1 branch); [1, 12, 24, 36] suits "
        "output stride 8, [1, 6, 12, 18] output stride 16."),
    Arg("aspp_out_channels", POS_INT, 256, "Channels of every ASPP branch and of its output."),
    Arg("align_corners", BOOL, False, "align_corners of the bilinear upsampling."),
)

MODELS = [
    Component(
        name="DeepLabV3",
        symbol="DeepLabV3",
        runtime_args=MODEL_RUNTIME_ARGS,
        description="DeepLabV3 (Chen et al., 2017): atrous spatial pyramid pooling with an "
        "image-level branch over the last backbone stage, then a 1x1 classifier.",
        backbones=("ResNet",),
        extra={"num_backbone_indices": 1},
        args=(
            Arg("backbone_indices", INT_LIST, [3], "Backbone feature map the ASPP reads."),
            *_ASPP_ARGS,
        ),
    ),
    Component(
        name="DeepLabV3P",
        symbol="DeepLabV3P",
        runtime_args=MODEL_RUNTIME_ARGS,
        description="DeepLabV3+ (Chen et al., ECCV 2018): separable-conv ASPP over the last "
        "backbone stage and a decoder that refines it with stride-4 low-level features.",
        backbones=("ResNet",),
        extra={"num_backbone_indices": 2},
        args=(
            Arg("backbone_indices", INT_LIST, [0, 3],
                "Backbone feature maps used: [decoder's low-level input, ASPP input]."),
            *_ASPP_ARGS,
        ),
    ),
]
