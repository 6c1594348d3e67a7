"""Backbones: feature extractors a model's head reads from."""

from __future__ import annotations

from .types import BOOL, NUM, POS_INT, PROB, Arg, Component


def _resnet(depth: int) -> Component:
    return Component(
        name=f"ResNet{depth}_vd",
        symbol=f"ResNet{depth}_vd",
        description=f"ResNet-{depth} with the 'vd' stem and downsampling tweaks, dilated to the "
        "requested output stride (PaddleSeg's ResNet{depth}_vd).",
        num_features=4,
        args=(
            Arg("output_stride", {"enum": [8, 16, None]}, 8,
                "Ratio of input to feature-map size; 8 and 16 replace striding in the last "
                "stages by dilation, null keeps the classification stride of 32."),
            Arg("multi_grid", {"type": "array", "items": POS_INT, "minItems": 3, "maxItems": 3},
                [1, 1, 1], "Dilation multipliers of the three blocks of the last stage."),
            Arg("in_channels", POS_INT, 3, "Channels of the input image."),
        ),
    )


def _hrnet(width: int) -> Component:
    return Component(
        name=f"HRNet_W{width}",
        symbol=f"HRNet_W{width}",
        description=f"HRNet with {width}-channel highest-resolution branch; returns the "
        "concatenation of all branches upsampled to 1/4 resolution.",
        num_features=1,
        args=(
            Arg("align_corners", BOOL, False, "align_corners of the bilinear upsampling."),
            Arg("has_se", BOOL, False, "Add squeeze-and-excitation blocks."),
            Arg("padding_same", BOOL, True, "Use 'same' padding in convolutions."),
            Arg("in_channels", POS_INT, 3, "Channels of the input image."),
        ),
    )


# What every ViT takes whatever its size; the generic VisionTransformer adds its shape.
_VIT_TRAINING_ARGS = (
    Arg("in_channels", POS_INT, 3, "Channels of the input image."),
    Arg("drop_rate", PROB, 0.0,
        "Dropout after the position embedding, in the MLPs and after the attention "
        "projection."),
    Arg("attn_drop_rate", PROB, 0.0, "Dropout of the attention weights."),
    Arg("drop_path_rate", PROB, 0.0,
        "Stochastic depth of the last block (training only), rising linearly from 0 at the "
        "first."),
    Arg("final_norm", BOOL, False, "LayerNorm after the last block (its output only)."),
)

_VIT_OUTPUT = ("forward() returns the patch tokens after every block (one feature per block, "
               "class token dropped) and the shape of the patch grid.")

VISION_TRANSFORMERS = [
    Component(
        name="VisionTransformer",
        symbol="VisionTransformer",
        description="Vision Transformer (Dosovitskiy et al., ICLR 2021) of any size: patch "
        "embedding, class token, learned position embedding (bicubically resized to other "
        "patch grids), pre-norm transformer blocks. " + _VIT_OUTPUT,
        # one feature per block: the default depth (a model reading block indices of a
        # deeper one names ViT_large_patch16_384, whose count is fixed)
        num_features=12,
        args=(
            Arg("img_size", POS_INT, 224,
                "Side of the square pre-training images: the patch grid the position "
                "embedding is learned for."),
            Arg("patch_size", POS_INT, 16, "Side of the square patches (pixels)."),
            Arg("embed_dim", POS_INT, 768, "Token width."),
            Arg("depth", POS_INT, 12, "Number of transformer blocks."),
            Arg("num_heads", POS_INT, 12, "Attention heads per block."),
            Arg("mlp_ratio", NUM, 4, "Hidden width of the MLPs over the token width."),
            Arg("qkv_bias", BOOL, False, "Biases in the query/key/value projection."),
            Arg("qk_scale", {"anyOf": [NUM, {"type": "null"}]}, None,
                "Attention logit scale; null: 1 / sqrt(head width)."),
            Arg("epsilon", NUM, 1e-5, "LayerNorm epsilon."),
        ) + _VIT_TRAINING_ARGS,
    ),
    Component(
        name="ViT_large_patch16_384",
        symbol="ViT_large_patch16_384",
        description="ViT-L/16 pre-trained at 384x384 (PaddleSeg's ViT_large_patch16_384): 24 "
        "blocks of width 1024, 16 heads, MLP ratio 4, query/key/value biases, LayerNorm "
        "epsilon 1e-6; its position embedding is learned for a 24x24 patch grid. "
        + _VIT_OUTPUT,
        num_features=24,
        args=_VIT_TRAINING_ARGS,
    ),
]

BACKBONES = [
    _resnet(18), _resnet(34), _resnet(50), _resnet(101), _hrnet(18), _hrnet(48),
    *VISION_TRANSFORMERS,
]
