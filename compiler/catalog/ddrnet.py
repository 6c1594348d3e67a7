"""DDRNet: a real-time dual-resolution network with no separate backbone."""

from __future__ import annotations

from .types import BOOL, POS_INT, Arg, Component, ExtraOutput

MODELS = [
    Component(
        name="DDRNet_23",
        symbol="DDRNet_23",
        takes_backbone=False,
        runtime_args=(("num_classes", "num_classes"),),
        description="DDRNet-23 (Hong et al., Deep Dual-resolution Networks for Real-time and "
        "Accurate Semantic Segmentation of Road Scenes, 2021): a 1/8 high-resolution branch "
        "and a low-resolution branch that exchange features after stages 3 and 4; the low "
        "branch ends in DAPPM pyramid pooling; no separate backbone.",
        extra_outputs=(ExtraOutput("auxiliary", when="enable_auxiliary_loss"),),
        args=(
            Arg("in_channels", POS_INT, 3, "Channels of the input image."),
            Arg("enable_auxiliary_loss", BOOL, False,
                "Add the auxiliary head on the high-resolution branch after the third-stage "
                "fusion; the model then returns its logits after the main ones (in "
                "evaluation too, as PaddleSeg's does)."),
        ),
    ),
]
