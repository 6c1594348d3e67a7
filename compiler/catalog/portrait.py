"""The portrait family: the MobileNetV2 backbones, PortraitNet, the EG1800 dataset and
the transforms of PaddleSeg's portrait recipes."""

from __future__ import annotations

from .classic import MODEL_RUNTIME_ARGS
from .data import DISTORT_ARGS, ONE_SIZE
from .types import BOOL, NUM, POS_INT, PROB, RGB, SIZE, Arg, Component, ExtraOutput


def _mobilenetv2(scale: str) -> Component:
    return Component(
        name=f"MobileNetV2_x{scale}",
        symbol=f"MobileNetV2_x{scale}",
        description=f"MobileNetV2 (Sandler et al., CVPR 2018) with every width times "
        f"{scale.replace('_', '.')}: a strided 3x3 conv and seven stages of inverted "
        "residual units (1x1 expansion, 3x3 depthwise conv, linear 1x1 projection); "
        "returns the maps at 1/4, 1/8, 1/16 and 1/32 (24, 32, 96 and 320 channels at "
        "scale 1).",
        num_features=4,
        args=(Arg("in_channels", POS_INT, 3, "Channels of the input image."),),
    )


BACKBONES = [_mobilenetv2(s) for s in ("0_25", "0_5", "0_75", "1_0", "1_5", "2_0")]

MODELS = [
    Component(
        name="PortraitNet",
        symbol="PortraitNet",
        runtime_args=MODEL_RUNTIME_ARGS,
        description="PortraitNet (Zhang et al., Computers & Graphics 2019): a MobileNetV2 "
        "encoder and a decoder of depthwise-separable residual blocks and 2x transposed "
        "convolutions, adding the encoder's 1/16, 1/8 and 1/4 maps, up to full resolution; "
        "for two-class portrait segmentation of small images. Input sides must be "
        "multiples of 32.",
        extra_outputs=(ExtraOutput("edge", when="add_edge"),),
        extra={"input_multiple": 32},  # its decoder adds the 1/32 map, upsampled 2x, to 1/16
        backbones=("MobileNetV2",),
        args=(
            Arg("min_channel", POS_INT, 16,
                "Smallest decoder width (a width under it stays as it is)."),
            Arg("channel_ratio", {"type": "number", "exclusiveMinimum": 0}, 1.0,
                "Multiplier of the decoder's widths; they must still equal the backbone's "
                "(1.0 for MobileNetV2_x1_0)."),
            Arg("add_edge", BOOL, False,
                "Also predict portrait boundaries (the paper's auxiliary task): one more "
                "output, in training and evaluation as in PaddleSeg, for one more loss in "
                "the spec."),
        ),
    ),
]

# An image padding value: one for all channels or one per RGB channel.
_PADDING_VALUE = {"anyOf": [NUM, RGB]}
_LABEL_VALUE = {"type": "integer", "minimum": 0, "maximum": 255}

TRANSFORMS = [
    Component(
        name="RandomAffine",
        symbol="RandomAffine",
        description="Random rotation, scaling and shift of image and label into a canvas of "
        "a fixed size (image bilinear, label nearest), as PaddleSeg's RandomAffine.",
        provides=("fixed_size",),
        args=(
            Arg("size", SIZE, [224, 224], "Canvas [width, height] in pixels.",
                runtime_override="crop_size"),
            Arg("translation_offset", {"type": "number", "minimum": 0}, 0,
                "Largest shift of the centre, in pixels each way."),
            Arg("max_rotation", {"type": "number", "minimum": 0}, 15,
                "Largest rotation, in degrees each way."),
            Arg("min_scale_factor", {"type": "number", "exclusiveMinimum": 0}, 0.75,
                "Smallest scale factor, relative to fitting the image into the canvas."),
            Arg("max_scale_factor", {"type": "number", "exclusiveMinimum": 0}, 1.25,
                "Largest scale factor, relative to fitting the image into the canvas."),
            Arg("im_padding_value", NUM, 128, "Image value outside the warped image."),
            Arg("label_padding_value", _LABEL_VALUE, 255,
                "Label value outside the warped label (normally the ignore value; train.py's "
                "--ignore-index replaces it).", runtime_override="ignore_index"),
        ),
    ),
    Component(
        name="ScalePadding",
        symbol="ScalePadding",
        description="Pad image and label to a square around the centre, then resize to a "
        "fixed size (image bicubic, label nearest), as PaddleSeg's ScalePadding (which "
        "resizes the label bicubically too).",
        provides=("fixed_size",),
        args=(
            Arg("target_size", SIZE, [512, 512], "Size after resizing, [width, height].",
                runtime_override="crop_size"),
            Arg("im_padding_value", _PADDING_VALUE, 127.5,
                "Image padding value, one or per RGB channel (truncated to an integer, as "
                "PaddleSeg's)."),
            Arg("label_padding_value", _LABEL_VALUE, 255, "Label padding value."),
        ),
    ),
    Component(
        name="RandomBlur",
        symbol="RandomBlur",
        description="Blur the image now and then with a 3 to 9 pixel Gaussian, median or box "
        "filter, as PaddleSeg's RandomBlur.",
        args=(
            Arg("prob", PROB, 0.1,
                "Blurring probability, as PaddleSeg applies it: 1 / int(1 / prob)."),
            Arg("blur_type", {"enum": ["gaussian", "median", "blur", "random"]}, "gaussian",
                "Filter: gaussian, median, blur (box) or random (30/30/40%)."),
        ),
    ),
    Component(
        name="RandomNoise",
        symbol="RandomNoise",
        description="Add Gaussian noise of a random strength to the image with a "
        "probability (the image becomes float32: put it just before Normalize).",
        args=(
            Arg("prob", PROB, 0.5, "Probability of adding noise."),
            Arg("max_sigma", {"type": "number", "minimum": 0}, 10.0,
                "Largest standard deviation of the noise (0-255 scale)."),
        ),
    ),
    Component(
        name="RandomDistortSharpness",
        symbol="RandomDistortSharpness",
        description="RandomDistort with PaddleSeg's fifth operation, sharpness (what "
        "PaddleSeg's RandomDistort does given sharpness_range and sharpness_prob); the five "
        "operations run in a random order.",
        args=(
            *DISTORT_ARGS,
            Arg("sharpness_range", {"type": "number", "minimum": 0}, 0.5,
                "Sharpness factor drawn from [1 - r, 1 + r] (0 smooths, above 1 sharpens)."),
            Arg("sharpness_prob", PROB, 0.0, "Probability of sharpness jitter."),
        ),
    ),
]

DATASETS = [
    Component(
        name="EG1800",
        symbol="eg1800_samples",
        requires=(ONE_SIZE,),
        description="EG1800 portraits (PaddleSeg's EG1800): Images/<name> and Labels/<name> "
        "for the names listed in eg1800_train.txt and eg1800_test.txt; label values above 1 "
        "become background and the transformed label is smoothed by a 5x5 majority vote.",
        extra={"class_names": ("background", "portrait")},
    ),
]
