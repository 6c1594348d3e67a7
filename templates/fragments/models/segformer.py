"""SegFormer: Xie et al., "SegFormer: Simple and Efficient Design for Semantic
Segmentation with Transformers" (NeurIPS 2021), https://arxiv.org/abs/2105.15203.

A Mix Transformer encoder (backbones/mix_transformer.py) and an all-MLP decoder: each
of the four stage outputs is projected to `embedding_dim` channels by a linear layer
on its tokens, upsampled to 1/4 of the input, and the four are concatenated and fused
by a 1x1 conv, BN and ReLU before a 1x1 classifier. The paper's point is that the
hierarchical transformer's maps already hold both local (early stages) and global
(late stages, large effective receptive field) context, so the decoder needs no
dilated convolutions, pyramid pooling or attention of its own: a few linear layers.

Attribute names (`linear_c1` ... `linear_c4` with `proj`, `linear_fuse`,
`linear_pred`) follow PaddleSeg 2.8 so that its checkpoints load unchanged.
"""

import paddle
import paddle.nn.functional as F
from paddle import nn

from ..layers.basic import ConvBNReLU, resize_to_input


class SegFormerLinearEmbed(nn.Layer):
    """A stage output (N x C x H x W) projected to `embed_dim` channels by a linear layer
    on its tokens, returned as a map again."""

    def __init__(self, input_dim, embed_dim):
        super().__init__()
        self.proj = nn.Linear(input_dim, embed_dim)

    def forward(self, x):
        size = paddle.shape(x)
        tokens = self.proj(x.flatten(2).transpose([0, 2, 1]))
        return tokens.transpose([0, 2, 1]).reshape([0, 0, size[2], size[3]])


class SegFormer(nn.Layer):
    """SegFormer. forward(x) returns [logits] resized to x's height and width, in
    training and evaluation alike (no auxiliary heads).

    Args:
        num_classes: number of classes.
        backbone: a Mix Transformer returning four feature maps (`feat_channels`).
        embedding_dim: channels of the decoder (256 for B0 and B1, 768 for B2 to B5 in
            PaddleSeg's configs).
        align_corners: F.interpolate's align_corners for every upsampling.
    """

    def __init__(self, num_classes, backbone, embedding_dim, align_corners=False):
        super().__init__()
        self.backbone = backbone
        self.align_corners = align_corners
        c1, c2, c3, c4 = backbone.feat_channels
        # Created deepest first, as PaddleSeg does (its parameter order).
        self.linear_c4 = SegFormerLinearEmbed(c4, embedding_dim)
        self.linear_c3 = SegFormerLinearEmbed(c3, embedding_dim)
        self.linear_c2 = SegFormerLinearEmbed(c2, embedding_dim)
        self.linear_c1 = SegFormerLinearEmbed(c1, embedding_dim)
        self.dropout = nn.Dropout2D(0.1)
        self.linear_fuse = ConvBNReLU(embedding_dim * 4, embedding_dim, 1, bias_attr=False)
        self.linear_pred = nn.Conv2D(embedding_dim, num_classes, 1)

    def forward(self, x):
        c1, c2, c3, c4 = self.backbone(x)
        size = paddle.shape(c1)[2:]
        maps = [
            F.interpolate(embed(c), size, mode="bilinear", align_corners=self.align_corners)
            for embed, c in ((self.linear_c4, c4), (self.linear_c3, c3), (self.linear_c2, c2))
        ]
        # Deepest first in the concatenation: linear_fuse's input channels follow it.
        fused = self.linear_fuse(paddle.concat(maps + [self.linear_c1(c1)], axis=1))
        logit = self.linear_pred(self.dropout(fused))
        return resize_to_input([logit], x, self.align_corners)
