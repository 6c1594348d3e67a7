"""Losses shared by many architectures."""

from __future__ import annotations

from .types import NUM, Arg, Component

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
]
