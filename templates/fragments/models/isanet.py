"""ISANet: Huang et al., "Interlaced Sparse Self-Attention for Semantic Segmentation"
(2019).

Full self-attention over an H x W map costs (HW)^2. ISA factorises it into two sparse
steps over a grid of P_h x P_w blocks: a long-range step among the positions that sit
at the same place in every block (a stride of P apart, spanning the image), then a
short-range step among the positions inside one block. After both, every position has
a path to every other at a fraction of the cost.

Attribute names (`head.global_relation.key_project`, `head.out_conv`, `head.aux`, ...)
follow PaddleSeg 2.8 so that its checkpoints load unchanged.
"""

import paddle
import paddle.nn.functional as F
from paddle import nn

from ..layers.basic import ConvBNReLU, resize_to_input


def isanet_projection(in_channels, out_channels, num_convs):
    """`num_convs` bias-free 1x1 ConvBNReLU layers (one bare layer, or a Sequential)."""
    convs = [
        ConvBNReLU(in_channels if i == 0 else out_channels, out_channels, 1, bias_attr=False)
        for i in range(num_convs)
    ]
    return convs[0] if num_convs == 1 else nn.Sequential(*convs)


class ISASelfAttention(nn.Layer):
    """Scaled dot-product self-attention over all positions of its input, with two-layer
    key and query projections to `channels`, a 1x1 conv value projection and a 1x1
    ConvBNReLU output projection (both at in_channels)."""

    def __init__(self, in_channels, channels):
        super().__init__()
        self.in_channels = in_channels
        self.channels = channels
        self.key_project = isanet_projection(in_channels, channels, 2)
        self.query_project = isanet_projection(in_channels, channels, 2)
        self.value_project = nn.Conv2D(in_channels, in_channels, 1)
        self.output_project = isanet_projection(in_channels, in_channels, 1)

    def forward(self, x):
        size = paddle.shape(x)[2:]
        # flatten(2), not reshape([0, C, -1]): Paddle 3.3's oneDNN inference computed wrong
        # attention from the reshape of a conv output (tests/test_attention_heads.py).
        query = self.query_project(x).flatten(2).transpose([0, 2, 1])  # N x L x C
        key = self.key_project(x).flatten(2)  # N x C x L
        value = self.value_project(x).flatten(2).transpose([0, 2, 1])  # N x L x Cin
        attention = F.softmax(paddle.matmul(query, key) * self.channels**-0.5, axis=-1)
        context = paddle.matmul(attention, value).transpose([0, 2, 1])
        context = context.reshape([0, self.in_channels, size[0], size[1]])
        return self.output_project(context)


class ISAHead(nn.Layer):
    """3x3 ConvBNReLU to in_channels / 4, interlaced sparse self-attention, concatenated
    with its input, 1x1 ConvBNReLU, classifier; plus an auxiliary classifier on the
    lower feature map."""

    def __init__(self, num_classes, in_channels, isa_channels, down_factor, enable_auxiliary_loss):
        super().__init__()
        low_channels, high_channels = in_channels
        self.inter_channels = high_channels // 4
        self.down_factor = down_factor
        self.enable_auxiliary_loss = enable_auxiliary_loss
        self.in_conv = ConvBNReLU(high_channels, self.inter_channels, 3, bias_attr=False)
        self.global_relation = ISASelfAttention(self.inter_channels, isa_channels)
        self.local_relation = ISASelfAttention(self.inter_channels, isa_channels)
        self.out_conv = ConvBNReLU(self.inter_channels * 2, self.inter_channels, 1, bias_attr=False)
        self.cls = nn.Sequential(
            nn.Dropout2D(p=0.1), nn.Conv2D(self.inter_channels, num_classes, 1)
        )
        # Built even without the auxiliary loss, as in PaddleSeg, so checkpoints match.
        # (PaddleSeg fixes its input at 1024 channels, ResNet-50/101's third stage.)
        self.aux = nn.Sequential(
            ConvBNReLU(low_channels, 256, 3, bias_attr=False),
            nn.Dropout2D(p=0.1),
            nn.Conv2D(256, num_classes, 1),
        )

    def interlaced_attention(self, x):
        """Long-range then short-range attention over P_h x P_w blocks of x.

        x is zero-padded (split evenly between the two sides) to whole blocks first and
        cropped back after: Q_h x Q_w blocks of P_h x P_w positions, where row
        q * P_h + p is position p of block row q.
        """
        shape = paddle.shape(x)
        batch, size = shape[0], shape[2:]
        channels = self.inter_channels
        p_h, p_w = self.down_factor
        block = paddle.to_tensor(self.down_factor, dtype=size.dtype)
        blocks = (size + block - 1) // block  # [Q_h, Q_w]
        q_h, q_w = blocks[0], blocks[1]
        padding = blocks * block - size
        before = padding // 2
        # F.pad wants [left, right, top, bottom]; all zero when x is whole blocks already
        sides = paddle.flip(paddle.stack([before, padding - before], axis=1), [0])
        feat = F.pad(x, sides.flatten().astype("int32"))

        # Long range: one attention per in-block offset (p_h, p_w) over the Q_h x Q_w
        # positions that share it.
        feat = feat.reshape([0, channels, q_h, p_h, q_w, p_w]).transpose([0, 3, 5, 1, 2, 4])
        feat = self.global_relation(feat.reshape([-1, channels, q_h, q_w]))
        # Short range: one attention per block over its P_h x P_w positions.
        feat = feat.reshape([batch, p_h, p_w, channels, q_h, q_w]).transpose([0, 4, 5, 3, 1, 2])
        feat = self.local_relation(feat.reshape([-1, channels, p_h, p_w]))
        # Back to N x C x (Q_h P_h) x (Q_w P_w), then the padding off.
        feat = feat.reshape([batch, q_h, q_w, channels, p_h, p_w]).transpose([0, 3, 1, 4, 2, 5])
        feat = feat.reshape([0, channels, q_h * p_h, q_w * p_w])
        return paddle.slice(
            feat,
            axes=[2, 3],
            starts=[before[0], before[1]],
            ends=[before[0] + size[0], before[1] + size[1]],
        )

    def forward(self, feats):
        low, high = feats
        x = self.in_conv(high)
        x = self.out_conv(paddle.concat([self.interlaced_attention(x), x], axis=1))
        logits = [self.cls(x)]
        # Like PaddleSeg the auxiliary head also runs in eval (the model zoo's FLOPs and
        # parameter counts include it); export keeps output 0 only.
        if self.enable_auxiliary_loss:
            logits.append(self.aux(low))
        return logits


class ISANet(nn.Layer):
    """ISANet. forward(x) returns logits resized to x's height and width: [main, aux]
    with enable_auxiliary_loss, else [main].

    Args:
        num_classes: number of classes.
        backbone: layer returning a list of feature maps and exposing `feat_channels`.
        backbone_indices: (auxiliary feature, main head feature) indices.
        isa_channels: key and query channels of both attention steps.
        down_factor: (P_h, P_w), the block size of the interlacing.
        enable_auxiliary_loss: run the auxiliary head.
        align_corners: F.interpolate's align_corners for the final upsampling.
    """

    def __init__(
        self,
        num_classes,
        backbone,
        backbone_indices=(2, 3),
        isa_channels=256,
        down_factor=(8, 8),
        enable_auxiliary_loss=True,
        align_corners=False,
    ):
        super().__init__()
        self.backbone = backbone
        self.backbone_indices = backbone_indices
        in_channels = [backbone.feat_channels[i] for i in backbone_indices]
        self.head = ISAHead(
            num_classes, in_channels, isa_channels, down_factor, enable_auxiliary_loss
        )
        self.align_corners = align_corners

    def forward(self, x):
        feats = self.backbone(x)
        logits = self.head([feats[i] for i in self.backbone_indices])
        # align_mode=1 (PaddleSeg's choice here): source = destination * scale, without
        # the half-pixel offset; it only matters when align_corners is False.
        return resize_to_input(logits, x, self.align_corners, align_mode=1)
