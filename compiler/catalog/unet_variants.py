"""U-Net++, U-Net 3+ and SegNet: encoder-decoder networks with no separate backbone
that rework U-Net's skip connections (nested, full-scale) or replace them (pooling
indices)."""

from __future__ import annotations

from .types import BOOL, POS_INT, Arg, Component, ExtraOutput

_IN_CHANNELS = Arg("in_channels", POS_INT, 3, "Channels of the input image.")


def _deep_supervision_output(level: int) -> ExtraOutput:
    return ExtraOutput(f"deep_supervision_level{level}", when="is_deepsup")


MODELS = [
    Component(
        name="UNetPlusPlus",
        symbol="UNetPlusPlus",
        takes_backbone=False,
        runtime_args=(("num_classes", "num_classes"),),
        description="U-Net++ (Zhou et al., DLMIA 2018): a U-Net encoder whose decoder is a "
        "grid of nested nodes, each concatenating every earlier node of its resolution "
        "with the upsampled node below (dense skip pathways); four full-resolution 1x1 "
        "classifiers. Input sides must be multiples of 16.",
        args=(
            _IN_CHANNELS,
            Arg("use_deconv", BOOL, False,
                "Upsample with 2x2 transposed convolutions instead of bilinear resizing "
                "and a 1x1 conv."),
            Arg("align_corners", BOOL, False, "align_corners of the bilinear upsampling."),
            Arg("is_ds", BOOL, True,
                "Deep supervision as PaddleSeg does it: the logits are the average of the "
                "four classifiers' (false: the deepest node's alone). One output either "
                "way, in training too."),
        ),
        extra={"input_multiple": 16},  # four 2x poolings, their maps concatenated back
    ),
    Component(
        name="UNet3Plus",
        symbol="UNet3Plus",
        takes_backbone=False,
        runtime_args=(("num_classes", "num_classes"),),
        description="U-Net 3+ (Huang et al., ICASSP 2020): a U-Net encoder and a decoder "
        "whose every level fuses all five scales (pooled encoder maps from above, upsampled "
        "decoder maps from below: full-scale skip connections); a full-resolution 3x3 "
        "classifier. Input sides must be multiples of 16. PaddleSeg's classification-"
        "guided module (is_CGM) is not offered.",
        extra_outputs=tuple(_deep_supervision_output(level) for level in (2, 3, 4, 5)),
        args=(
            _IN_CHANNELS,
            Arg("is_batchnorm", BOOL, True, "Batch norm after each encoder conv."),
            Arg("is_deepsup", BOOL, False,
                "Deep supervision: a 3x3 classifier on each decoder level 2 to 5 (5: the "
                "deepest encoder map), upsampled to the input; training then returns their "
                "logits after the main ones (one loss each), and, as in PaddleSeg, "
                "evaluation runs them too."),
        ),
        extra={"input_multiple": 16},  # four 2x poolings, their maps concatenated back
    ),
    Component(
        name="SegNet",
        symbol="SegNet",
        takes_backbone=False,
        runtime_args=(("num_classes", "num_classes"),),
        description="SegNet (Badrinarayanan et al., TPAMI 2017): a VGG16-style encoder "
        "whose max-pooling indices drive the decoder's max-unpooling, then 3x3 "
        "convolutions and a full-resolution classifier. Exports to Paddle Inference; "
        "paddle2onnx cannot convert the unpooling.",
        args=(_IN_CHANNELS,),
        extra={"onnx_unsupported": "max_unpool2d (the decoder's unpooling with the "
                                   "encoder's max-pooling indices)",
               # Its output is not continuous in its input: where two maxima of a pooling
               # window are near-tied, float32 reordering (oneDNN) picks the other one
               # and the unpooling puts the value elsewhere, which the decoder spreads.
               # A 1e-6 change of the input moves some logits by up to 10 % of the
               # largest. Ten untrained SegNets exported here: class maps equal at
               # 99.30 to 100 % of pixels, 98 % of pixels within 0.47 % of the largest
               # logit (up to 40 % of them beyond the default 0.1 %).
               "export_check": {"min_pixel_agreement": 0.98, "max_relative_diff": 0.01,
                                "pixel_share": 0.98}},
    ),
]
