"""DeepLabV3, DeepLabV3P, GSCNN and DecoupledSegNet: ASPP-based heads on dilated ResNet-vd,
and the losses GSCNN and DecoupledSegNet train their edge and body outputs with."""

from __future__ import annotations

from .classic import MODEL_RUNTIME_ARGS
from .types import BOOL, INT_LIST, POS_INT, PROB, Arg, Component, ExtraOutput

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
    Component(
        name="GSCNN",
        symbol="GSCNN",
        runtime_args=MODEL_RUNTIME_ARGS,
        description="Gated-SCNN (Takikawa et al., ICCV 2019): a full-resolution shape stream "
        "gated by deeper stages predicts boundaries, which join a DeepLabV3+ ASPP with the "
        "image's Canny edges. Outputs: logits, (logits, boundaries), boundaries, logits.",
        extra_outputs=(ExtraOutput("main_and_edge"), ExtraOutput("edge"),
                       ExtraOutput("main_for_dual_task")),
        backbones=("ResNet",),
        extra={"num_backbone_indices": 4,
               "onnx_unsupported": "the in-graph Canny edge detector (no converter for its "
                                   "trunc; with trunc spelled otherwise, paddle2onnx 2.1 "
                                   "crashes on the rest)"},
        args=(
            Arg("backbone_indices", INT_LIST, [0, 1, 2, 3],
                "Backbone feature maps used: [decoder's low-level input, then the three "
                "stages gating the shape stream; the last also feeds the ASPP]."),
            *_ASPP_ARGS,
        ),
    ),
    Component(
        name="DecoupledSegNet",
        symbol="DecoupledSegNet",
        runtime_args=MODEL_RUNTIME_ARGS,
        description="DecoupledSegNet (Li et al., ECCV 2020): ASPP features split into a "
        "flow-warped body and the residual edge, each supervised on its own. Training "
        "outputs: logits, body logits, edge, (logits, edge).",
        extra_outputs=(ExtraOutput("body"), ExtraOutput("edge"), ExtraOutput("main_and_edge")),
        backbones=("ResNet",),
        extra={"num_backbone_indices": 2},
        args=(
            Arg("backbone_indices", INT_LIST, [0, 3],
                "Backbone feature maps used: [edge branch's low-level input, ASPP input]."),
            *_ASPP_ARGS,
        ),
    ),
]

_IGNORE_INDEX = (("ignore_index", "ignore_index"),)
_DYNAMIC = {"const": "dynamic", "description": "Computed per batch from the share of edge "
            "and non-edge pixels, so that both classes weigh the same in total."}

LOSSES = [
    Component(
        name="EdgeAttentionLoss",
        symbol="EdgeAttentionLoss",
        runtime_args=_IGNORE_INDEX,
        description="Cross-entropy of the logits on the pixels the model's own boundary "
        "prediction marks as edges; takes the (logits, boundary probability) output.",
        args=(
            Arg("edge_threshold", PROB, 0.8,
                "Boundary probability above which a pixel counts as an edge."),
        ),
    ),
    Component(
        name="BCELoss",
        symbol="BCELoss",
        runtime_args=_IGNORE_INDEX,
        edge_map_when="edge_label",
        description="Binary cross-entropy with logits, averaged over the pixels that are "
        "not ignored; with edge_label it trains against the label's edge map.",
        args=(
            Arg("weight", {"oneOf": [{"type": "null", "description": "Equal weights."},
                                     _DYNAMIC]}, None,
                "Weight of each pixel's loss: null, or 'dynamic' (positives weigh "
                "2 x negatives / all, negatives 2 x positives / all)."),
            Arg("pos_weight", {"oneOf": [
                {"type": "null", "description": "No extra weight on positives."},
                {"type": "number", "exclusiveMinimum": 0,
                 "description": "A fixed weight of the positive term."},
                _DYNAMIC]}, None,
                "Weight of the positive term: null, a number, or 'dynamic' "
                "(2 x negatives / all)."),
            Arg("edge_label", BOOL, False,
                "Train against the label's edge map (1 within 2 pixels of a class "
                "boundary) instead of the label; the training data then computes it."),
        ),
    ),
    Component(
        name="DualTaskLoss",
        symbol="DualTaskLoss",
        runtime_args=_IGNORE_INDEX,
        description="GSCNN's dual-task loss: L1 distance between the boundaries of a "
        "Gumbel-softmax sample of the logits and those of the label.",
        args=(
            Arg("tau", {"type": "number", "exclusiveMinimum": 0}, 0.5,
                "Temperature of the Gumbel softmax."),
        ),
    ),
    Component(
        name="RelaxBoundaryLoss",
        symbol="RelaxBoundaryLoss",
        runtime_args=_IGNORE_INDEX,
        description="DecoupledSegNet's boundary-relaxed cross-entropy: a pixel is right "
        "when its probability mass falls on any class within `border` pixels of it.",
        args=(
            Arg("border", POS_INT, 1, "Radius (pixels, square) of the relaxation."),
        ),
    ),
    Component(
        name="OhemEdgeAttentionLoss",
        symbol="OhemEdgeAttentionLoss",
        runtime_args=_IGNORE_INDEX,
        description="OhemCrossEntropyLoss on the pixels the model's own edge prediction "
        "marks as edges; takes the (logits, edge probability) output.",
        args=(
            Arg("edge_threshold", PROB, 0.8,
                "Edge probability above which a pixel counts as an edge."),
            Arg("thresh", PROB, 0.7, "Probability under which a pixel counts as hard."),
            Arg("min_kept", {"type": "integer", "minimum": 0}, 5000,
                "Pixels kept at least (per batch); 0 disables mining."),
        ),
    ),
]
