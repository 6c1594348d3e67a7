"""Backbones: feature extractors a model's head reads from."""

from __future__ import annotations

from .types import BOOL, POS_INT, Arg, Component


def _resnet(depth: int) -> Component:
    return Component(
        name=f"ResNet{depth}_vd",
        symbol=f"ResNet{depth}_vd",
        description=f"ResNet-{depth} with the 'vd' stem and downsampling tweaks, dilated to the "
        "requested output stride (PaddleSeg's ResNet{depth}_vd).",
        num_features=4,
        args=(
            Arg("output_stride", {"enum": [8, 16, None]}, 8,
                "Ratio of input to feature-map size; 8 and 16 replace striding in the last "
                "stages by dilation, null keeps the classification stride of 32."),
            Arg("multi_grid", {"type": "array", "items": POS_INT, "minItems": 3, "maxItems": 3},
                [1, 1, 1], "Dilation multipliers of the three blocks of the last stage."),
            Arg("in_channels", POS_INT, 3, "Channels of the input image."),
        ),
    )


def _hrnet(width: int) -> Component:
    return Component(
        name=f"HRNet_W{width}",
        symbol=f"HRNet_W{width}",
        description=f"HRNet with {width}-channel highest-resolution branch; returns the "
        "concatenation of all branches upsampled to 1/4 resolution.",
        num_features=1,
        args=(
            Arg("align_corners", BOOL, False, "align_corners of the bilinear upsampling."),
            Arg("has_se", BOOL, False, "Add squeeze-and-excitation blocks."),
            Arg("padding_same", BOOL, True, "Use 'same' padding in convolutions."),
            Arg("in_channels", POS_INT, 3, "Channels of the input image."),
        ),
    )


BACKBONES = [
    _resnet(18), _resnet(34), _resnet(50), _resnet(101), _hrnet(18), _hrnet(48),
]
