"""BiSeNet V1, BiSeNet V2 and Fast-SCNN: real-time two-branch networks, a cheap
high-resolution (detail or spatial) path beside a deep low-resolution context path."""

from __future__ import annotations

from .classic import MODEL_RUNTIME_ARGS
from .types import BOOL, POS_INT, Arg, Component, ExtraOutput

_ALIGN_CORNERS = "align_corners of the bilinear upsampling."
_IN_CHANNELS = Arg("in_channels", POS_INT, 3, "Channels of the input image.")

MODELS = [
    Component(
        # PaddleSeg's spelling of the type name (its configs say `type: BiseNetV1`).
        name="BiseNetV1",
        symbol="BiSeNetV1",
        runtime_args=MODEL_RUNTIME_ARGS,
        description="BiSeNet (Yu et al., ECCV 2018): a three-conv spatial path at 1/8 "
        "resolution beside a backbone context path whose last two stages are reweighted "
        "by attention refinement and summed with a global context; a feature fusion "
        "module joins the paths. Training adds two auxiliary heads on the refined "
        "context (evaluation runs the main head only).",
        extra_outputs=(ExtraOutput("auxiliary_stage4"), ExtraOutput("auxiliary_stage3")),
        backbones=("ResNet",),
        args=(
            Arg("conv_channel", POS_INT, 128,
                "Channels of the context path after attention refinement (the fused "
                "features have twice as many)."),
        ),
    ),
    Component(
        name="BiSeNetV2",
        symbol="BiSeNetV2",
        takes_backbone=False,
        runtime_args=(("num_classes", "num_classes"),),
        description="BiSeNet V2 (Yu et al., IJCV 2021): a wide, shallow detail branch at "
        "1/8 and a narrow, deep semantic branch of gather-and-expansion layers at 1/32, "
        "fused by bilateral guided aggregation; no separate backbone. Training adds four "
        "auxiliary heads on the semantic branch's stages (evaluation runs the main head "
        "only).",
        extra_outputs=(ExtraOutput("auxiliary_stem"), ExtraOutput("auxiliary_stage3"),
                       ExtraOutput("auxiliary_stage4"), ExtraOutput("auxiliary_stage5")),
        args=(
            Arg("lambd", {"type": "number", "exclusiveMinimum": 0}, 0.25,
                "Width of the semantic branch's first two stages relative to the detail "
                "branch's (the paper's lambda)."),
            Arg("align_corners", BOOL, False, _ALIGN_CORNERS),
            _IN_CHANNELS,
        ),
    ),
    Component(
        name="FastSCNN",
        symbol="FastSCNN",
        takes_backbone=False,
        runtime_args=(("num_classes", "num_classes"),),
        extra={"onnx_fixed_input": {"what": "pyramid pooling", "bins": (1, 2, 3, 6),
                                    "stride": 32}},
        description="Fast-SCNN (Poudel et al., BMVC 2019): a shared learning-to-downsample "
        "module to 1/8, a global feature extractor of inverted bottlenecks and pyramid "
        "pooling to 1/32, fused back onto the 1/8 features; no separate backbone. The "
        "auxiliary head on the 1/8 features runs in evaluation too, as in PaddleSeg.",
        extra_outputs=(ExtraOutput("auxiliary", when="enable_auxiliary_loss"),),
        args=(
            _IN_CHANNELS,
            Arg("enable_auxiliary_loss", BOOL, True,
                "Add the auxiliary head on the 1/8 features; training then returns its "
                "logits after the main ones."),
            Arg("align_corners", BOOL, False, _ALIGN_CORNERS),
        ),
    ),
]
