"""SFNet, PFPNNet, PointRend and DMNet: feature-pyramid, point-refinement and multi-scale heads."""

from __future__ import annotations

from .types import BOOL, INT_LIST, POS_INT, PROB, Arg, Component, ExtraOutput

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
        extra={"num_backbone_indices": 4,
               "onnx_fixed_input": {"what": "pyramid pooling", "bins": (1, 2, 3, 6)}},
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
    Component(
        name="PointRend",
        symbol="PointRend",
        runtime_args=MODEL_RUNTIME_ARGS,
        description="PointRend (Kirillov et al., CVPR 2020) on a Semantic FPN: a point head "
        "re-predicts the most uncertain points of the coarse prediction from sampled "
        "features; trained at importance-sampled points, it refines the upsampled "
        "prediction step by step at inference.",
        extra_outputs=(ExtraOutput("points"),),
        backbones=("ResNet",),
        extra={"num_backbone_indices": 4},
        args=(
            FOUR_STAGES,
            Arg("fpn_inplanes", dict(POS_INT_LIST, minItems=4, maxItems=4),
                [256, 512, 1024, 2048], "Channels of the four backbone feature maps."),
            Arg("fpn_outplanes", POS_INT, 256, "Width of the feature pyramid."),
            Arg("point_in_channels", POS_INT_LIST, [256],
                "Channels of the pyramid levels the point head samples."),
            Arg("point_out_channels", POS_INT, 256, "Width of the point head's MLP."),
            Arg("point_in_index", dict(INT_LIST, items={"type": "integer", "minimum": 0}),
                [0], "Pyramid levels (coarsest first) the point head samples."),
            Arg("point_num_fcs", POS_INT, 3, "Layers of the point head's MLP."),
            Arg("point_num_points", POS_INT, 2048, "Training points per image."),
            Arg("point_oversample_ratio", {"type": "number", "minimum": 1}, 3,
                "Uniform candidates per training point, among which the most uncertain "
                "are chosen."),
            Arg("point_importance_sample_ratio", PROB, 0.75,
                "Share of the training points chosen by uncertainty; the rest are uniform."),
            Arg("point_scale_factor", POS_INT, 2,
                "Upsampling factor of each inference refinement step."),
            Arg("point_subdivision_steps", {"type": "integer", "minimum": 0}, 2,
                "Inference refinement steps."),
            Arg("point_subdivision_num_points", POS_INT, 8196,
                "Points re-predicted at each inference refinement step."),
            Arg("point_dropout_ratio", DROPOUT, 0,
                "Dropout before the point head's classifier; 0 disables it."),
            Arg("point_coarse_pred_each_layer", BOOL, True,
                "Append the coarse logits at the points to the output of every MLP layer."),
            Arg("PFN_feature_strides", POS_INT_LIST, [4, 8, 16, 32],
                "Strides the Semantic FPN head assumes for its levels; level i gets "
                "log2(stride_i / stride_0) conv + 2x upsampling steps."),
            Arg("PFN_in_channels", POS_INT_LIST, [256, 256, 256, 256],
                "Channels of the Semantic FPN head's levels."),
            Arg("PFN_channels", POS_INT, 128, "Width of the Semantic FPN head's scale heads."),
            Arg("PFN_in_index", dict(INT_LIST, items={"type": "integer", "minimum": 0}),
                [0, 1, 2, 3], "Pyramid levels (coarsest first) the Semantic FPN head reads."),
            Arg("PFN_dropout_ratio", DROPOUT, 0,
                "Channel dropout before the Semantic FPN head's classifier; 0 disables it."),
            Arg("align_corners", BOOL, False,
                "align_corners of every bilinear resize and point sampling."),
        ),
    ),
    Component(
        name="DMNet",
        symbol="DMNet",
        runtime_args=MODEL_RUNTIME_ARGS,
        extra={"onnx_fixed_input": {"what": "dynamic filters", "bins": "filter_sizes"}},
        description="Dynamic Multi-scale Network (He et al., ICCV 2019): dynamic convolutional "
        "modules generate per-image depthwise filters of several sizes from the last stage; "
        "an FCN head on the third stage adds deep supervision in training.",
        extra_outputs=(ExtraOutput("auxiliary"),),
        backbones=("ResNet",),
        args=(
            Arg("mid_channels", POS_INT, 512,
                "Channels of each dynamic module's output and of the bottleneck."),
            Arg("filter_sizes", POS_INT_LIST, [1, 3, 5, 7],
                "Sizes of the generated filters, one dynamic module each."),
            Arg("fusion", BOOL, False, "Add a 1x1 ConvBNReLU after each dynamic module."),
        ),
    ),
]

LOSSES = [
    Component(
        name="PointCrossEntropyLoss",
        symbol="PointCrossEntropyLoss",
        runtime_args=(("ignore_index", "ignore_index"),),
        description="PointRend's point loss: cross-entropy of the point head's logits against "
        "the label read at the same points (nearest neighbour); consumes a (point logits, "
        "points) training output.",
        args=(
            Arg("top_k_percent_pixels", {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
                1.0, "Share of the points, those with the highest loss, that is averaged; "
                "1 averages all valid points."),
            Arg("align_corners", BOOL, False, "align_corners of the label's point sampling."),
        ),
    ),
]
