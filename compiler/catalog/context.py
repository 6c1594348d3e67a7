"""ENCNet, FastFCN, GloRe, GINet and EMANet: context encoding, graph reasoning and EM attention heads."""

from __future__ import annotations

from .classic import MODEL_RUNTIME_ARGS
from .types import BOOL, INT_LIST, POS_INT, PROB, Arg, Component, ExtraOutput

_ALIGN_CORNERS = "align_corners of the final bilinear upsampling."
_AUXILIARY = "Add the auxiliary head; training then returns its logits after the main ones."


# Arguments of the context encoding head that ENCNet and FastFCN share.
_NUM_CODES = Arg("num_codes", POS_INT, 32, "Codewords of the encoding layer.")
_MID_CHANNELS = Arg("mid_channels", POS_INT, 512, "Channels of the head.")
_USE_SE_LOSS = Arg("use_se_loss", BOOL, True,
                   "Add the semantic-encoding output (per-image class-presence logits) in "
                   "training, for SECrossEntropyLoss.")


MODELS = [
    Component(
        name="ENCNet",
        symbol="ENCNet",
        runtime_args=MODEL_RUNTIME_ARGS,
        description="Context Encoding Network (Zhang et al., CVPR 2018): an encoding layer "
        "summarises the scene and gates the features' channels; training adds an "
        "auxiliary FCN head on the third stage and per-image class-presence logits.",
        extra_outputs=(ExtraOutput("auxiliary"),
                       ExtraOutput("semantic_encoding", when="use_se_loss")),
        backbones=("ResNet",),
        extra={"num_backbone_indices": 3},
        args=(
            Arg("backbone_indices", INT_LIST, [1, 2, 3],
                "Backbone feature maps read: the last feeds the head, the others the "
                "lateral connections."),
            _NUM_CODES,
            _MID_CHANNELS,
            _USE_SE_LOSS,
            Arg("add_lateral", BOOL, False,
                "Fuse 1x1 lateral connections from the earlier feature maps into the head."),
        ),
    ),
    Component(
        name="FastFCN",
        symbol="FastFCN",
        runtime_args=MODEL_RUNTIME_ARGS,
        description="FastFCN (Wu et al., 2019): Joint Pyramid Upsampling over the last three "
        "stages, then an ENCNet context encoding head; training adds an auxiliary FCN "
        "head and per-image class-presence logits.",
        extra_outputs=(ExtraOutput("auxiliary", when="aux_loss"),
                       ExtraOutput("semantic_encoding", when="use_se_loss")),
        backbones=("ResNet",),
        args=(
            _NUM_CODES,
            _MID_CHANNELS,
            Arg("use_jpu", BOOL, True,
                "Put Joint Pyramid Upsampling between the backbone and the head."),
            Arg("aux_loss", BOOL, True,
                "Add the auxiliary FCN head on the third stage (training only)."),
            _USE_SE_LOSS,
            Arg("add_lateral", BOOL, False,
                "Fuse 1x1 lateral connections from the first two stages into the head."),
        ),
    ),
    Component(
        name="GloRe",
        symbol="GloRe",
        runtime_args=MODEL_RUNTIME_ARGS,
        description="Global Reasoning Network (Chen et al., CVPR 2019): pixels are projected "
        "onto a few graph nodes, a graph convolution reasons over them and the result is "
        "projected back; auxiliary head on the third stage.",
        extra_outputs=(ExtraOutput("auxiliary", when="enable_auxiliary_loss"),),
        backbones=("ResNet",),
        extra={"num_backbone_indices": 2},
        args=(
            Arg("backbone_indices", INT_LIST, [2, 3],
                "Backbone feature maps used: [auxiliary head input, reasoning input]."),
            Arg("gru_channels", POS_INT, 512, "Channels the global reasoning unit works on."),
            Arg("gru_num_state", POS_INT, 128, "Channels of a graph node's state."),
            Arg("gru_num_node", POS_INT, 64, "Number of graph nodes."),
            Arg("enable_auxiliary_loss", BOOL, True, _AUXILIARY),
            Arg("align_corners", BOOL, False, _ALIGN_CORNERS),
        ),
    ),
    Component(
        name="GINet",
        symbol="GINet",
        runtime_args=MODEL_RUNTIME_ARGS,
        description="Graph Interaction Network (Wu et al., ECCV 2020): a visual graph "
        "projected from the pixels and a semantic graph with one node per class reason "
        "together, on JPU-upsampled features; auxiliary head on the third stage.",
        extra_outputs=(ExtraOutput("auxiliary", when="enable_auxiliary_loss"),),
        backbones=("ResNet",),
        extra={"num_backbone_indices": 4},
        args=(
            Arg("backbone_indices", INT_LIST, [0, 1, 2, 3],
                "The four backbone feature maps read: JPU uses the last three, the "
                "auxiliary head the third, the graph head the fourth."),
            Arg("enable_auxiliary_loss", BOOL, True, _AUXILIARY),
            Arg("align_corners", BOOL, True, _ALIGN_CORNERS),
            Arg("jpu", BOOL, True,
                "Put Joint Pyramid Upsampling between the backbone and the head."),
        ),
    ),
    Component(
        name="EMANet",
        symbol="EMANet",
        runtime_args=MODEL_RUNTIME_ARGS,
        description="Expectation-Maximization Attention Network (Li et al., ICCV 2019): a few "
        "bases, refined by EM iterations, rebuild the features as a low-rank attention; "
        "the initial bases are a moving average kept in the checkpoint.",
        extra_outputs=(ExtraOutput("auxiliary", when="enable_auxiliary_loss"),),
        backbones=("ResNet",),
        extra={"num_backbone_indices": 2},
        args=(
            Arg("backbone_indices", INT_LIST, [2, 3],
                "Backbone feature maps used: [auxiliary head input, attention input]."),
            Arg("ema_channels", POS_INT, 512, "Channels of the EM attention unit."),
            Arg("gc_channels", POS_INT, 256, "Channels after the bottleneck conv."),
            Arg("num_bases", POS_INT, 64, "Bases of the EM attention unit."),
            Arg("stage_num", POS_INT, 3, "EM iterations per forward pass."),
            Arg("momentum", PROB, 0.1,
                "Weight of a training batch's converged bases in their moving average."),
            Arg("concat_input", BOOL, True,
                "Concatenate the head's input with its output before the classifier."),
            Arg("enable_auxiliary_loss", BOOL, True, _AUXILIARY),
            Arg("align_corners", BOOL, False, _ALIGN_CORNERS),
        ),
    ),
]

LOSSES = [
    Component(
        name="SECrossEntropyLoss",
        symbol="SECrossEntropyLoss",
        runtime_args=(("ignore_index", "ignore_index"),),
        description="Semantic-encoding loss (ENCNet, FastFCN): binary cross-entropy between "
        "per-image class-presence logits and the classes the label map contains "
        "(ignored pixels count for no class).",
    ),
]
