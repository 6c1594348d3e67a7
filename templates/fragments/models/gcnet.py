"""GCNet: Cao et al., "GCNet: Non-local Networks Meet Squeeze-Excitation Networks and
Beyond" (ICCV Workshops 2019).

The attention maps of a trained non-local block are nearly the same for every query
position, so GCNet computes one: a 1x1 conv and a softmax over positions weight a global
context vector, a bottleneck transform (1x1 conv, LayerNorm, ReLU, 1x1 conv) turns it
into a per-channel term, and that term is added to every position (like
squeeze-and-excitation, but added rather than multiplied).

Attribute names (`head.gc_block.conv_mask`, `channel_add_conv`, ...) follow PaddleSeg
2.8 so that its checkpoints load unchanged.
"""

import paddle
import paddle.nn.functional as F
from paddle import nn

from ..layers.basic import AuxLayer, ConvBNReLU, resize_to_input


class GlobalContextBlock(nn.Layer):
    """x + transform(sum over positions of softmax(conv_mask(x)) * x)."""

    def __init__(self, gc_channels, in_channels, ratio):
        super().__init__()
        self.gc_channels = gc_channels
        self.conv_mask = nn.Conv2D(in_channels, 1, 1)
        inter_channels = int(in_channels * ratio)
        self.channel_add_conv = nn.Sequential(
            nn.Conv2D(in_channels, inter_channels, 1),
            nn.LayerNorm([inter_channels, 1, 1]),
            nn.ReLU(),
            nn.Conv2D(inter_channels, in_channels, 1),
        )

    def forward(self, x):
        # flatten(2), not reshape([0, C, -1]): Paddle 3.3's oneDNN inference computed wrong
        # attention from the reshape of a conv output (tests/test_attention_heads.py).
        weights = F.softmax(self.conv_mask(x).flatten(2), axis=-1)  # N x 1 x HW
        values = x.flatten(2)  # N x C x HW
        context = paddle.matmul(values, weights, transpose_y=True)  # N x C x 1
        return x + self.channel_add_conv(context.reshape([0, self.gc_channels, 1, 1]))


class GCNetHead(nn.Layer):
    """3x3 ConvBNReLU to gc_channels, global context block, 3x3 ConvBNReLU, concatenated
    with the input, 3x3 ConvBNReLU, dropout, 1x1 classifier; plus (optionally) an
    auxiliary classifier on feats[backbone_indices[0]]."""

    def __init__(
        self,
        num_classes,
        backbone_indices,
        backbone_channels,
        gc_channels,
        ratio,
        enable_auxiliary_loss,
    ):
        super().__init__()
        in_channels = backbone_channels[1]
        self.backbone_indices = backbone_indices
        self.enable_auxiliary_loss = enable_auxiliary_loss
        self.conv_bn_relu1 = ConvBNReLU(in_channels, gc_channels, 3, padding=1)
        self.gc_block = GlobalContextBlock(gc_channels, gc_channels, ratio)
        self.conv_bn_relu2 = ConvBNReLU(gc_channels, gc_channels, 3, padding=1)
        self.conv_bn_relu3 = ConvBNReLU(in_channels + gc_channels, gc_channels, 3, padding=1)
        self.dropout = nn.Dropout(p=0.1)
        self.conv = nn.Conv2D(gc_channels, num_classes, 1)
        if enable_auxiliary_loss:
            self.auxlayer = AuxLayer(backbone_channels[0], backbone_channels[0] // 4, num_classes)

    def forward(self, feats):
        x = feats[self.backbone_indices[1]]
        context = self.conv_bn_relu2(self.gc_block(self.conv_bn_relu1(x)))
        fused = self.conv_bn_relu3(paddle.concat([x, context], axis=1))
        logits = [self.conv(self.dropout(fused))]
        # Like PaddleSeg the auxiliary head also runs in eval (the model zoo's FLOPs and
        # parameter counts include it); export keeps output 0 only.
        if self.enable_auxiliary_loss:
            logits.append(self.auxlayer(feats[self.backbone_indices[0]]))
        return logits


class GCNet(nn.Layer):
    """GCNet. forward(x) returns logits resized to x's height and width: [main, aux] with
    enable_auxiliary_loss, else [main].

    Args:
        num_classes: number of classes.
        backbone: layer returning a list of feature maps and exposing `feat_channels`.
        backbone_indices: (auxiliary feature, main head feature) indices.
        gc_channels: channels of the global context block.
        ratio: bottleneck channels of the context transform, as a share of gc_channels.
        enable_auxiliary_loss: add the auxiliary head.
        align_corners: F.interpolate's align_corners for the final upsampling.
    """

    def __init__(
        self,
        num_classes,
        backbone,
        backbone_indices=(2, 3),
        gc_channels=512,
        ratio=0.25,
        enable_auxiliary_loss=True,
        align_corners=False,
    ):
        super().__init__()
        self.backbone = backbone
        backbone_channels = [backbone.feat_channels[i] for i in backbone_indices]
        self.head = GCNetHead(
            num_classes,
            backbone_indices,
            backbone_channels,
            gc_channels,
            ratio,
            enable_auxiliary_loss,
        )
        self.align_corners = align_corners

    def forward(self, x):
        logits = self.head(self.backbone(x))
        return resize_to_input(logits, x, self.align_corners)
