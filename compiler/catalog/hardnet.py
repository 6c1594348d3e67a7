"""HarDNet: FC-HarDNet-70, a real-time encoder-decoder of Harmonic Dense Blocks with no
separate backbone, and the bootstrapped cross-entropy its recipe trains with."""

from __future__ import annotations

from .types import BOOL, NUM, POS_INT, Arg, Component

_POS_INT_LIST = {"type": "array", "items": {"type": "integer", "minimum": 1}, "minItems": 1}

MODELS = [
    Component(
        name="HarDNet",
        symbol="HarDNet",
        takes_backbone=False,
        runtime_args=(("num_classes", "num_classes"),),
        description="FC-HarDNet-70 (Chao et al., HarDNet: A Low Memory Traffic Network, ICCV "
        "2019): Harmonic Dense Blocks, whose layer k reads only the layers k - 2^j, in a "
        "U-shaped encoder-decoder with skip connections; no separate backbone.",
        args=(
            Arg("in_channels", POS_INT, 3, "Channels of the input image."),
            Arg("stem_channels", dict(_POS_INT_LIST, minItems=4, maxItems=4),
                [16, 24, 32, 48], "Widths of the four stem convs (the third has stride 2)."),
            Arg("ch_list", _POS_INT_LIST, [64, 96, 160, 224, 320],
                "Width of the 1x1 conv after each encoder HarDBlock; one entry per block, "
                "like `gr` and `n_layers`."),
            Arg("grmul", {"type": "number", "exclusiveMinimum": 0}, 1.7,
                "Width multiplier of a HarDBlock layer per link beyond the first (m in the "
                "paper)."),
            Arg("gr", _POS_INT_LIST, [10, 16, 18, 24, 32],
                "Growth rate of each encoder HarDBlock (k in the paper); the decoder's "
                "blocks reuse all but the last."),
            Arg("n_layers", _POS_INT_LIST, [4, 4, 8, 8, 8],
                "Layers of each encoder HarDBlock; the decoder's blocks reuse all but the "
                "last."),
            Arg("align_corners", BOOL, False, "align_corners of every bilinear resize."),
        ),
    ),
]

LOSSES = [
    Component(
        name="BootstrappedCrossEntropyLoss",
        symbol="BootstrappedCrossEntropyLoss",
        runtime_args=(("ignore_index", "ignore_index"),),
        description="Bootstrapped cross-entropy (Wu et al., 2016): per image, the mean of the "
        "pixel losses above `loss_th`, or of the `min_K` largest when fewer than that "
        "exceed it; averaged over the batch.",
        args=(
            Arg("min_K", POS_INT, 4096,
                "Pixels per image the loss averages at least (the hardest ones)."),
            Arg("loss_th", {"type": "number", "minimum": 0}, 0.3,
                "Pixel loss above which a pixel counts as hard."),
            Arg("weight", {"type": ["array", "null"], "items": NUM}, None,
                "Per-class weights, or null for equal weights."),
        ),
    ),
]
