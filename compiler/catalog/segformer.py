"""SegFormer: the Mix Transformer backbones (MiT-B0 ... B5) and the all-MLP head."""

from __future__ import annotations

from .classic import MODEL_RUNTIME_ARGS
from .types import BOOL, POS_INT, Arg, Component

# Widths and blocks per stage of each Mix Transformer (PaddleSeg 2.8's, the paper's).
_MIT = {
    "B0": ("32, 64, 160, 256", "2, 2, 2, 2"),
    "B1": ("64, 128, 320, 512", "2, 2, 2, 2"),
    "B2": ("64, 128, 320, 512", "3, 4, 6, 3"),
    "B3": ("64, 128, 320, 512", "3, 4, 18, 3"),
    "B4": ("64, 128, 320, 512", "3, 8, 27, 3"),
    "B5": ("64, 128, 320, 512", "3, 6, 40, 3"),
}


def _mit(variant: str) -> Component:
    widths, depths = _MIT[variant]
    return Component(
        name=f"MixVisionTransformer_{variant}",
        symbol=f"MixVisionTransformer_{variant}",
        description=f"Mix Transformer MiT-{variant} (Xie et al., NeurIPS 2021): four stages "
        "of overlapping patch embedding and transformer blocks with spatial-reduction "
        "attention and Mix-FFN (no position embedding); returns the maps at 1/4, 1/8, 1/16 "
        f"and 1/32 ({widths} channels; {depths} blocks). Stochastic depth rises linearly "
        "to 0.1 over the blocks, in training only.",
        num_features=4,
        args=(Arg("in_channels", POS_INT, 3, "Channels of the input image."),),
    )


BACKBONES = [_mit(variant) for variant in _MIT]

MODELS = [
    Component(
        name="SegFormer",
        symbol="SegFormer",
        runtime_args=MODEL_RUNTIME_ARGS,
        description="SegFormer (Xie et al., NeurIPS 2021): a Mix Transformer encoder and an "
        "all-MLP decoder that projects each of its four maps to embedding_dim channels, "
        "upsamples them to 1/4, and fuses them with a 1x1 conv-BN-ReLU before the "
        "classifier.",
        backbones=("MixVisionTransformer",),
        args=(
            Arg("embedding_dim", POS_INT, 256,
                "Channels of the MLP decoder (PaddleSeg's configs: 256 for B0 and B1, 768 "
                "for B2 to B5)."),
            Arg("align_corners", BOOL, False, "align_corners of the bilinear upsampling."),
        ),
    ),
]
