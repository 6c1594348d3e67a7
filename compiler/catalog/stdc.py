"""The STDC family: the STDC backbones, STDC-Seg with its detail loss, and PP-LiteSeg."""

from __future__ import annotations

from .classic import MODEL_RUNTIME_ARGS
from .types import BOOL, INT_LIST, POS_INT, Arg, Component, ExtraOutput


def _stdc(version: int, blocks: str) -> Component:
    return Component(
        name=f"STDC{version}",
        symbol=f"STDC{version}",
        description=f"STDC{version} network (Fan et al., CVPR 2021): two strided 3x3 convs "
        f"and three stages of {blocks} Short-Term Dense Concatenate blocks; returns the "
        "feature maps at 1/2, 1/4, 1/8, 1/16 and 1/32 (32, 64, 256, 512, 1024 channels).",
        num_features=5,
        args=(
            Arg("block_num", {"type": "integer", "minimum": 2}, 4,
                "Convolutions (links) per STDC block."),
            Arg("in_channels", POS_INT, 3, "Channels of the input image."),
        ),
    )


BACKBONES = [_stdc(1, "2, 2, 2"), _stdc(2, "4, 5, 3")]

_DETAIL = ("Add the detail output of the backbone's {} features in training (one more "
           "DetailAggregateLoss in the spec).")

MODELS = [
    Component(
        name="STDCSeg",
        symbol="STDCSeg",
        runtime_args=MODEL_RUNTIME_ARGS,
        description="STDC-Seg (Fan et al., CVPR 2021): BiSeNet's context path and feature "
        "fusion over an STDC backbone whose 1/8 map is the spatial path; training adds "
        "context-path heads at 1/8 and 1/16 and a detail head trained on the label's "
        "boundaries (DetailAggregateLoss).",
        extra_outputs=(
            ExtraOutput("context_8"),
            ExtraOutput("context_16"),
            ExtraOutput("detail_2", when="use_boundary_2"),
            ExtraOutput("detail_4", when="use_boundary_4"),
            ExtraOutput("detail_8", when="use_boundary_8"),
        ),
        backbones=("STDC",),
        args=(
            Arg("use_boundary_2", BOOL, False, _DETAIL.format("1/2")),
            Arg("use_boundary_4", BOOL, False, _DETAIL.format("1/4")),
            Arg("use_boundary_8", BOOL, True, _DETAIL.format("1/8") + " The paper's choice."),
        ),
    ),
    Component(
        name="PPLiteSeg",
        symbol="PPLiteSeg",
        runtime_args=MODEL_RUNTIME_ARGS,
        description="PP-LiteSeg (Peng et al., 2022): a simple pyramid pooling module on the "
        "deepest map and a decoder of unified attention fusion modules (spatial attention) "
        "narrowing towards the finer maps; training classifies every decoder level.",
        extra_outputs=(ExtraOutput("decoder_16"), ExtraOutput("decoder_32")),
        backbones=("STDC",),
        extra={"num_backbone_indices": 3,
               "onnx_fixed_input": {"what": "simple pyramid pooling",
                                    "bins": "cm_bin_sizes", "stride": 32}},
        args=(
            Arg("backbone_indices", INT_LIST, [2, 3, 4],
                "Backbone feature maps the decoder fuses, finest first."),
            Arg("cm_bin_sizes", INT_LIST, [1, 2, 4],
                "Output sizes of the pyramid pooling module's pooling."),
            Arg("cm_out_ch", POS_INT, 128, "Channels of the pyramid pooling module."),
            Arg("arm_out_chs", INT_LIST, [64, 96, 128],
                "Output channels of each attention fusion module, finest first (one value: "
                "all)."),
            Arg("seg_head_inter_chs", INT_LIST, [64, 64, 64],
                "Hidden channels of each level's classifier, finest first (one value: all)."),
            Arg("resize_mode", {"enum": ["bilinear", "nearest"]}, "bilinear",
                "Interpolation of the decoder's upsampling."),
        ),
    ),
]

LOSSES = [
    Component(
        name="DetailAggregateLoss",
        symbol="DetailAggregateLoss",
        description="STDC-Seg's detail loss: binary cross-entropy plus dice between a "
        "one-channel detail output and the label's boundaries (a Laplacian of the class "
        "ids at strides 1, 2 and 4, merged with the paper's fixed weights 0.6, 0.3, 0.1).",
    ),
]
