"""SETR: Vision-Transformer segmentation with a naive, progressive-upsampling (PUP) or
multi-level aggregation (MLA) decoder. Its backbones (VisionTransformer,
ViT_large_patch16_384) are in backbones.py, shared with the other ViT models."""

from __future__ import annotations

from .classic import MODEL_RUNTIME_ARGS
from .types import BOOL, INT_LIST, NUM, Arg, Component, ExtraOutput


def auxiliary_count(args: dict) -> int:
    """Auxiliary outputs in training, as PaddleSeg's heads build them: naive, one per
    chosen block but the last (which the main head reads); PUP, one per chosen block; MLA,
    one per aggregated level (4)."""
    head, indices = args["head"], args["backbone_indices"]
    return {"naive": len(indices) - 1, "pup": len(indices), "mla": 4}[head]


# Up to four auxiliary outputs after the main logits, in PaddleSeg's order (shallowest
# block or level first); each is one more loss in the spec (PaddleSeg's coef 0.4).
_AUXILIARY = tuple(
    ExtraOutput(f"auxiliary{i + 1}", when=lambda args, i=i: i < auxiliary_count(args))
    for i in range(4)
)

MODELS = [
    Component(
        name="SegmentationTransformer",
        symbol="SegmentationTransformer",
        runtime_args=MODEL_RUNTIME_ARGS,
        description="SETR (Zheng et al., CVPR 2021): a plain Vision Transformer encoder (1/16 "
        "patch tokens, global attention in every block) and a light decoder on chosen "
        "blocks' tokens folded back into maps: naive (1x1 convs), PUP (progressive 2x "
        "upsampling) or MLA (multi-level aggregation of four blocks); auxiliary heads "
        "supervise other blocks in training.",
        extra_outputs=_AUXILIARY,
        backbones=("ViT", "VisionTransformer"),
        # the MLA head reads exactly four blocks; naive and PUP any number (the last
        # feeds the main head, the others, or all for PUP, the auxiliary heads)
        extra={"num_backbone_indices": lambda args: 4 if args["head"] == "mla" else None},
        args=(
            Arg("backbone_indices", {**INT_LIST, "maxItems": 4}, [9, 14, 19, 23],
                "Transformer blocks the decoder reads, shallowest first (naive and PUP: the "
                "main head reads the last)."),
            Arg("head", {"enum": ["naive", "pup", "mla"]}, "naive", "The decoder."),
            Arg("align_corners", BOOL, False,
                "align_corners of the final upsampling to the input (True for odd crops "
                "such as 769x769)."),
            Arg("lr_multiple", NUM, 10,
                "Learning-rate multiplier of the naive and PUP heads' parameters (the "
                "backbone trains at 1x); PaddleSeg's MLA head takes it but never applies "
                "it, so MLA trains at 1x throughout."),
        ),
    ),
]
