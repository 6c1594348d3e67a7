"""Losses shared by many architectures."""

from __future__ import annotations

from .types import NUM, PROB, Arg, Component

LOSSES = [
    Component(
        name="CrossEntropyLoss",
        symbol="CrossEntropyLoss",
        runtime_args=(("ignore_index", "ignore_index"),),
        description="Pixel-wise softmax cross-entropy, averaged over pixels that are not "
        "the dataset's ignore value.",
        args=(
            Arg("weight", {"type": ["array", "null"], "items": NUM}, None,
                "Per-class weights, or null for equal weights."),
        ),
    ),
    Component(
        name="OhemCrossEntropyLoss",
        symbol="OhemCrossEntropyLoss",
        runtime_args=(("ignore_index", "ignore_index"),),
        description="Cross-entropy over the hard pixels only (online hard example mining): "
        "those whose true-class probability is below `thresh`, or below the `min_kept`-th "
        "smallest probability when that is higher.",
        args=(
            Arg("thresh", PROB, 0.7, "Probability under which a pixel counts as hard."),
            Arg("min_kept", {"type": "integer", "minimum": 0}, 10000,
                "Pixels kept at least (per batch); 0 disables mining."),
        ),
    ),
]
