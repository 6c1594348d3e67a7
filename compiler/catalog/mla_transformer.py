"""MLATransformer on the Swin Transformer: PaddleSeg's decoder-enhanced Swin (its
contrib AutoNUE recipe), a hierarchical vision transformer and SETR's multi-level
aggregation decoder."""

from __future__ import annotations

from .classic import MODEL_RUNTIME_ARGS
from .types import BOOL, POS_INT, Arg, Component, ExtraOutput


def _swin(name: str, width: int, depths: tuple, heads: tuple, window: int) -> Component:
    channels = [width * 2**i for i in range(4)]
    return Component(
        name=name,
        symbol=name,
        description=f"Swin Transformer (Liu et al., ICCV 2021) with {width}-channel patch "
        f"embedding, {', '.join(map(str, depths))} blocks and {', '.join(map(str, heads))} "
        f"heads per stage: self-attention within {window}x{window} windows, shifted by half a "
        "window every second block, with a learned relative-position bias; patch merging "
        f"between stages. Returns the maps at 1/4 to 1/32 ({', '.join(map(str, channels))} "
        "channels); any input size (padded to whole windows inside).",
        num_features=4,
        args=(
            Arg("in_channels", POS_INT, 3, "Channels of the input image."),
            Arg("drop_path_rate", {"type": "number", "minimum": 0, "exclusiveMaximum": 1}, 0.2,
                "Stochastic depth: the rate of the last block, rising linearly from 0 over "
                "all blocks (training only)."),
            Arg("patch_norm", BOOL, True, "Layer norm after the patch embedding."),
            Arg("ape", {"enum": [False]}, False,
                "Absolute position embedding; PaddleSeg's is not offered (no Swin config "
                "of PaddleSeg uses it), so only false."),
        ),
        extra={"feat_channels": channels},
    )


BACKBONES = [
    _swin("SwinTransformer_base_patch4_window7_224", 128, (2, 2, 18, 2), (4, 8, 16, 32), 7),
]

MODELS = [
    Component(
        name="MLATransformer",
        symbol="MLATransformer",
        runtime_args=MODEL_RUNTIME_ARGS,
        description="Multi-level aggregation (SETR-MLA, Zheng et al., CVPR 2021) on a Swin "
        "Transformer, as in PaddleSeg's AutoNUE 2021 winner: the four backbone maps fused "
        "top-down at 1/4 resolution, one two-conv head per fused level, their 4x upsampled "
        "concatenation classified; an auxiliary classifier on the 1/16 map in training "
        "only.",
        extra_outputs=(ExtraOutput("auxiliary"),),
        backbones=("SwinTransformer",),
        extra={"backbone_channels_arg": "in_channels"},  # checked against the backbone's
        args=(
            Arg("in_channels", {"type": "array", "items": POS_INT, "minItems": 4, "maxItems": 4},
                [128, 256, 512, 1024],
                "Channels of the backbone's four maps (each twice the one before; Swin-B's "
                "128, 256, 512, 1024)."),
            Arg("mlahead_channels", POS_INT, 128,
                "Channels of each level's head; must equal in_channels[0] (the heads read "
                "the fused maps, 2 x in_channels[0] channels, as 2 x mlahead_channels)."),
            Arg("aux_channels", POS_INT, 256, "Channels of the auxiliary head's 3x3 conv."),
        ),
    ),
]
