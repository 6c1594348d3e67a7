"""MLATransformer: the multi-level aggregation decoder of SETR-MLA (Zheng et al.,
"Rethinking Semantic Segmentation from a Sequence-to-Sequence Perspective with
Transformers", CVPR 2021) on a hierarchical Swin Transformer, as in PaddleSeg's
"decoder-enhanced Swin Transformer" that won the AutoNUE 2021 challenge (IDD).

A transformer's deep maps carry context but little detail, its shallow ones the
reverse. MLA first fuses the four backbone maps top-down (each deeper map, reduced and
upsampled to 1/4 resolution, is added to the one above it, like an FPN), then gives
each of the four fused maps its own head (two 3x3 ConvBNReLUs), upsamples them 4x and
classifies their concatenation. An auxiliary classifier on the 1/16 map (loss weight
0.4 in the recipe) runs in training only.

Two PaddleSeg 2.8 details are kept because its weights and outputs depend on them: the
heads upsample to a square of 4x the map's width on both sides (not its height), and
every resize aligns corners. Attribute names (`conv0`...`conv33`, `mlahead.head2`...,
`cls`, `aux_head`) follow PaddleSeg so that its checkpoints load unchanged.
"""

import paddle
import paddle.nn.functional as F
from paddle import nn

from ..layers.basic import ConvBN, ConvBNReLU, resize_to_input, upsample_by


def mla_head_block(channels):
    """Two bias-free 3x3 ConvBNReLUs, 2 x channels in, channels out."""
    return nn.Sequential(
        ConvBNReLU(channels * 2, channels, 3, padding=1, bias_attr=False),
        ConvBNReLU(channels, channels, 3, padding=1, bias_attr=False),
    )


class MLAHeads(nn.Layer):
    """One head per fused level (`head2`...`head5`), each upsampled 4x to a square of 4x
    its map's width (PaddleSeg's size), concatenated: 4 x mlahead_channels channels."""

    def __init__(self, mlahead_channels=128):
        super().__init__()
        self.head2 = mla_head_block(mlahead_channels)
        self.head3 = mla_head_block(mlahead_channels)
        self.head4 = mla_head_block(mlahead_channels)
        self.head5 = mla_head_block(mlahead_channels)

    def forward(self, mla_p2, mla_p3, mla_p4, mla_p5):
        heads = []
        for head, x in (
            (self.head2, mla_p2),
            (self.head3, mla_p3),
            (self.head4, mla_p4),
            (self.head5, mla_p5),
        ):
            side = paddle.shape(x)[3] * 4
            heads.append(F.interpolate(head(x), [side, side], mode="bilinear", align_corners=True))
        return paddle.concat(heads, axis=1)


class MLATransformer(nn.Layer):
    """Multi-level aggregation over a four-map backbone. forward(x) returns logits
    resized to x's height and width: [main, auxiliary] in training, [main] in eval.

    Args:
        num_classes: number of classes.
        in_channels: channels of the backbone's four maps (strides 4 to 32); each must
            be twice the one before (the fused maps all get 2 x in_channels[0]), and
            2 x in_channels[0] must be 2 x mlahead_channels.
        backbone: layer returning four feature maps.
        mlahead_channels: channels of each level's head.
        aux_channels: channels of the auxiliary head's 3x3 ConvBN.
    """

    def __init__(self, num_classes, in_channels, backbone, mlahead_channels=128, aux_channels=256):
        super().__init__()
        self.backbone = backbone
        c0, c1, c2, c3 = in_channels
        self.mlahead = MLAHeads(mlahead_channels)
        self.cls = nn.Conv2D(4 * mlahead_channels, num_classes, 3, padding=1)
        self.conv0 = ConvBNReLU(c0, c0 * 2, 3, padding=1, bias_attr=False)
        self.conv1 = ConvBNReLU(c1, c1, 3, padding=1, bias_attr=False)
        self.conv21 = ConvBNReLU(c2, c2, 3, padding=1, bias_attr=False)
        self.conv22 = ConvBNReLU(c2, c2 // 2, 3, padding=1, bias_attr=False)
        self.conv31 = ConvBNReLU(c3, c3, 3, padding=1, bias_attr=False)
        self.conv32 = ConvBNReLU(c3, c3 // 2, 3, padding=1, bias_attr=False)
        self.conv33 = ConvBNReLU(c3 // 2, c3 // 4, 3, padding=1, bias_attr=False)
        self.aux_head = nn.Sequential(
            ConvBN(c2, aux_channels, 3, padding=1, bias_attr=False),
            nn.Conv2D(aux_channels, num_classes, 1),
        )

    def forward(self, x):
        feats = self.backbone(x)
        size = paddle.shape(feats[0])[2:]

        def to_quarter(y):
            return F.interpolate(y, size, mode="bilinear", align_corners=True)

        # each deeper map reduced (and, from 1/16 and 1/32, upsampled 2x between its
        # convs), then brought to 1/4 and added to the levels above it
        p3 = to_quarter(
            self.conv33(
                upsample_by(self.conv32(upsample_by(self.conv31(feats[3]), 2, True)), 2, True)
            )
        )
        p2 = to_quarter(self.conv22(upsample_by(self.conv21(feats[2]), 2, True))) + p3
        p1 = to_quarter(self.conv1(feats[1])) + p2
        p0 = self.conv0(feats[0]) + p1
        logits = [self.cls(self.mlahead(p0, p1, p2, p3))]
        if self.training:
            logits.append(self.aux_head(feats[2]))
        return resize_to_input(logits, x, True)
