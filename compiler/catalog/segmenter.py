"""Segmenter: a Vision Transformer backbone with a linear or a mask-transformer decoder."""

from __future__ import annotations

from .types import BOOL, NUM, POS_INT, PROB, Arg, Component

# every model is built as Model(num_classes=..., backbone=..., **spec arguments)
_RUNTIME_ARGS = (("num_classes", "num_classes"), ("backbone", "backbone"))
_VIT = ("VisionTransformer", "ViT_")
_PAPER = "Segmenter (Strudel et al., ICCV 2021)"

MODELS = [
    Component(
        name="LinearSegmenter",
        symbol="LinearSegmenter",
        runtime_args=_RUNTIME_ARGS,
        backbones=_VIT,
        description=f"{_PAPER} with the linear decoder: one linear layer from each of the "
        "ViT's last patch tokens to class scores on the patch grid, bilinearly upsampled.",
    ),
    Component(
        name="MaskSegmenter",
        symbol="MaskSegmenter",
        runtime_args=_RUNTIME_ARGS,
        backbones=_VIT,
        description=f"{_PAPER} with the mask transformer: one learned embedding per class "
        "joins the ViT's last patch tokens in a few transformer blocks; each class's score "
        "at a patch is the cosine similarity of the two (then a LayerNorm over the "
        "classes), bilinearly upsampled.",
        args=(
            Arg("h_embed_dim", POS_INT, 768, "Token width of the decoder."),
            Arg("h_depth", POS_INT, 2, "Transformer blocks of the decoder."),
            Arg("h_num_heads", POS_INT, 12, "Attention heads per decoder block."),
            Arg("h_mlp_ratio", NUM, 4, "Hidden width of the decoder's MLPs over its token "
                "width."),
            Arg("h_drop_rate", PROB, 0.0,
                "Dropout in the decoder's MLPs and after its attention projections."),
            Arg("h_drop_path_rate", PROB, 0.0,
                "Stochastic depth of the decoder's last block (training only), rising "
                "linearly from 0 at its first."),
            Arg("h_attn_drop_rate", PROB, 0.0, "Dropout of the decoder's attention weights."),
            Arg("h_qkv_bias", BOOL, False,
                "Biases in the decoder's query/key/value projections."),
        ),
    ),
]
