"""U^2-Net (U2Net, U2Netp) and Attention U-Net: U-Net descendants that build their own
layers (no separate backbone)."""

from __future__ import annotations

from .types import POS_INT, Arg, Component, ExtraOutput

_IN_CHANNELS = Arg("in_channels", POS_INT, 3, "Channels of the input image.")

# The six side outputs U^2-Net returns after its fused logits, in PaddleSeg's order:
# side k classifies decoder stage k (side6: the deepest encoder stage). Each gets its
# own loss (deep supervision), as PaddleSeg's configs weight them: [1] * 7.
_U2NET_SIDES = tuple(ExtraOutput(f"side{k}") for k in range(1, 7))


def _u2net(name: str, description: str) -> Component:
    return Component(
        name=name,
        symbol=name,
        takes_backbone=False,
        runtime_args=(("num_classes", "num_classes"),),
        extra_outputs=_U2NET_SIDES,
        description=description,
        args=(_IN_CHANNELS,),
    )


MODELS = [
    _u2net(
        "U2Net",
        "U^2-Net (Qin et al., Pattern Recognition 2020): a U-Net of residual U-blocks "
        "(each stage a small U-Net); six side classifiers, fused by a 1x1 convolution "
        "into the main output, supervise every decoder stage.",
    ),
    _u2net(
        "U2Netp",
        "U^2-Net-P: U^2-Net's layout with 16 middle and 64 output channels in every "
        "stage (1.2 M parameters instead of 44.3 M).",
    ),
    Component(
        name="AttentionUNet",
        symbol="AttentionUNet",
        takes_backbone=False,
        runtime_args=(("num_classes", "num_classes"),),
        description="Attention U-Net (Oktay et al., MIDL 2018): a U-Net whose skip "
        "connections pass through attention gates, which scale each skip pixel by a "
        "coefficient computed from the decoder's coarser features.",
        args=(_IN_CHANNELS,),
    ),
]
