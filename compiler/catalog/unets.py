"""The U-Net family: encoder-decoder networks with skip connections and no separate
backbone."""

from __future__ import annotations

from .types import BOOL, POS_INT, Arg, Component

MODELS = [
    Component(
        name="UNet",
        symbol="UNet",
        takes_backbone=False,
        runtime_args=(("num_classes", "num_classes"),),
        description="U-Net (Ronneberger et al., MICCAI 2015): a contracting path of double "
        "3x3 convolutions, an expanding path that concatenates the encoder's feature maps "
        "of the same resolution, and a full-resolution classifier; no separate backbone.",
        args=(
            Arg("align_corners", BOOL, False, "align_corners of the bilinear upsampling."),
            Arg("use_deconv", BOOL, False,
                "Upsample with 2x2 transposed convolutions instead of bilinear resizing."),
            Arg("in_channels", POS_INT, 3, "Channels of the input image."),
        ),
    ),
]
