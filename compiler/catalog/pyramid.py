"""SFNet, PFPNNet, PointRend and DMNet: feature-pyramid, point-refinement and multi-scale heads."""

from __future__ import annotations

from .types import BOOL, INT_LIST, POS_INT, Arg, Component, ExtraOutput

# every model is built as Model(num_classes=..., backbone=..., **spec arguments)
MODEL_RUNTIME_ARGS = (("num_classes", "num_classes"), ("backbone", "backbone"))

POS_INT_LIST = {"type": "array", "items": {"type": "integer", "minimum": 1}, "minItems": 1}
DROPOUT = {"type": "number", "minimum": 0, "exclusiveMaximum": 1}

FOUR_STAGES = Arg("backbone_indices", dict(INT_LIST, minItems=4, maxItems=4), [0, 1, 2, 3],
                  "The four backbone feature maps the pyramid reads, finest first "
                  "(PaddleSeg has no default; its configs use [0, 1, 2, 3]).")
ALIGN_CORNERS = Arg("align_corners", BOOL, False,
                    "align_corners of the final bilinear upsampling to the input size.")

MODELS = [
    Component(
        name="SFNet",
        symbol="SFNet",
        runtime_args=MODEL_RUNTIME_ARGS,
        description="Semantic Flow Network (Li et al., ECCV 2020): a feature pyramid whose "
        "top-down pass warps each coarser level onto the finer one with a learned flow "
        "field; pyramid pooling on the last stage; all levels fused at 1/4 resolution.",
        extra_outputs=tuple(ExtraOutput(f"auxiliary_stage{stage}", when="enable_auxiliary_loss")
                            for stage in (3, 2, 1)),
        backbones=("ResNet",),
        extra={"num_backbone_indices": 4},
        args=(
            FOUR_STAGES,
            Arg("enable_auxiliary_loss", BOOL, False,
                "Add a deep-supervision classifier on each flow-aligned level (third, "
                "second, first stage); training then returns three more outputs, in that "
                "order."),
            ALIGN_CORNERS,
        ),
    ),
    Component(
        name="PFPNNet",
        symbol="PFPNNet",
        runtime_args=MODEL_RUNTIME_ARGS,
        description="Panoptic FPN's semantic branch (Kirillov et al., CVPR 2019): a feature "
        "pyramid whose levels are upsampled to 1/4 resolution by conv + 2x upsampling "
        "stacks, summed and classified.",
        extra_outputs=(ExtraOutput("auxiliary", when="enable_auxiliary_loss"),),
        backbones=("ResNet",),
        extra={"num_backbone_indices": 4},
        args=(
            FOUR_STAGES,
            Arg("channels", POS_INT, 256,
                "Width of the pyramid and of the scale heads (PaddleSeg has no default; its "
                "configs use 256)."),
            Arg("enable_auxiliary_loss", BOOL, False,
                "Add an auxiliary classifier on the third feature map; training then "
                "returns two outputs."),
            ALIGN_CORNERS,
            Arg("dropout_ratio", DROPOUT, 0.1,
                "Channel dropout before the classifier(s); 0 disables it."),
            Arg("fpn_inplanes", dict(POS_INT_LIST, minItems=4, maxItems=4),
                [256, 512, 1024, 2048], "Channels of the four backbone feature maps."),
        ),
    ),
]
