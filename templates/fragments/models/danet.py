"""DANet: Fu et al., "Dual Attention Network for Scene Segmentation" (CVPR 2019).

Two attention branches read the last backbone stage: position attention relates every
pixel to every other pixel (an HW x HW map), channel attention every channel to every
other channel (C x C). Each branch is scaled by a learnt gamma that starts at 0, so
training begins from the plain convolutional path and lets attention in gradually.
The branches are summed before the classifier; in training the logits of each branch
and of the raw stage are extra deep-supervision outputs.

Attribute names (`head.pam`, `head.cam`, `head.aux_head_cam`, ...) follow PaddleSeg 2.8
so that its checkpoints load unchanged.
"""

import paddle
import paddle.nn.functional as F
from paddle import nn

from ..layers.basic import ConvBNReLU, resize_to_input


class PositionAttention(nn.Layer):
    """out = x + gamma * (values re-weighted by the softmax similarity of every position
    with every other, through 1x1 query/key projections to in_channels / 8)."""

    def __init__(self, in_channels):
        super().__init__()
        self.in_channels = in_channels
        self.mid_channels = in_channels // 8
        self.query_conv = nn.Conv2D(in_channels, self.mid_channels, 1)
        self.key_conv = nn.Conv2D(in_channels, self.mid_channels, 1)
        self.value_conv = nn.Conv2D(in_channels, in_channels, 1)
        self.gamma = self.create_parameter(
            shape=[1], dtype="float32", default_initializer=nn.initializer.Constant(0)
        )

    def forward(self, x):
        size = paddle.shape(x)[2:]
        # flatten(2), not reshape([0, C, -1]): Paddle 3.3's oneDNN inference computed wrong
        # attention from the reshape of a conv output (tests/test_attention_heads.py).
        query = self.query_conv(x).flatten(2).transpose([0, 2, 1])
        key = self.key_conv(x).flatten(2)
        attention = F.softmax(paddle.bmm(query, key), axis=-1)  # N x HW(query) x HW(key)
        value = self.value_conv(x).flatten(2)
        out = paddle.bmm(value, attention.transpose([0, 2, 1]))
        return self.gamma * out.reshape([0, self.in_channels, size[0], size[1]]) + x


class ChannelAttention(nn.Layer):
    """out = x + gamma * (channels re-weighted by their softmax similarity to each other).

    As the DANet authors do, the softmax is taken over (row maximum - similarity): it
    favours the least similar channels and keeps the logits small, which they found
    stops the gradients from diverging.
    """

    def __init__(self, channels):
        super().__init__()
        self.channels = channels
        self.gamma = self.create_parameter(
            shape=[1], dtype="float32", default_initializer=nn.initializer.Constant(0)
        )

    def forward(self, x):
        size = paddle.shape(x)[2:]
        flat = x.flatten(2)
        similarity = paddle.bmm(flat, flat.transpose([0, 2, 1]))  # N x C x C
        similarity = paddle.max(similarity, axis=-1, keepdim=True) - similarity
        out = paddle.bmm(F.softmax(similarity, axis=-1), flat)
        return self.gamma * out.reshape([0, self.channels, size[0], size[1]]) + x


def danet_classifier(in_channels, num_classes):
    """Channel dropout then a 1x1 conv to class scores."""
    return nn.Sequential(nn.Dropout2D(0.1), nn.Conv2D(in_channels, num_classes, 1))


class DAHead(nn.Layer):
    """3x3 ConvBNReLU to in_channels / 4 per branch, attention, another 3x3 ConvBNReLU;
    the sum of the branches is classified. Training adds the channel-branch,
    position-branch and raw-input logits."""

    def __init__(self, num_classes, in_channels):
        super().__init__()
        inter_channels = in_channels // 4
        self.channel_conv = ConvBNReLU(in_channels, inter_channels, 3)
        self.position_conv = ConvBNReLU(in_channels, inter_channels, 3)
        self.pam = PositionAttention(inter_channels)
        self.cam = ChannelAttention(inter_channels)
        self.conv1 = ConvBNReLU(inter_channels, inter_channels, 3)
        self.conv2 = ConvBNReLU(inter_channels, inter_channels, 3)
        self.aux_head = danet_classifier(in_channels, num_classes)
        self.aux_head_pam = danet_classifier(inter_channels, num_classes)
        self.aux_head_cam = danet_classifier(inter_channels, num_classes)
        self.cls_head = danet_classifier(inter_channels, num_classes)

    def forward(self, x):
        channel_feats = self.conv1(self.cam(self.channel_conv(x)))
        position_feats = self.conv2(self.pam(self.position_conv(x)))
        logit = self.cls_head(position_feats + channel_feats)
        # The deep-supervision heads run in training only, as in PaddleSeg.
        if not self.training:
            return [logit]
        # PaddleSeg 2.8 classifies the position branch with aux_head_cam too, leaving
        # aux_head_pam untrained; each branch has its own classifier here, as in the paper.
        return [
            logit,
            self.aux_head_cam(channel_feats),
            self.aux_head_pam(position_feats),
            self.aux_head(x),
        ]


class DANet(nn.Layer):
    """DANet. forward(x) returns logits resized to x's height and width: [main] in eval;
    [main, channel branch, position branch, auxiliary] in training.

    Args:
        num_classes: number of classes.
        backbone: layer returning a list of feature maps and exposing `feat_channels`.
        backbone_indices: feature maps selected; the head reads the last of them.
        align_corners: F.interpolate's align_corners for the final upsampling.
    """

    def __init__(self, num_classes, backbone, backbone_indices=(2, 3), align_corners=False):
        super().__init__()
        self.backbone = backbone
        self.backbone_indices = backbone_indices
        self.head = DAHead(num_classes, backbone.feat_channels[backbone_indices[-1]])
        self.align_corners = align_corners

    def forward(self, x):
        feats = self.backbone(x)
        logits = self.head(feats[self.backbone_indices[-1]])
        # align_mode=1 (PaddleSeg's choice here): source = destination * scale, without
        # the half-pixel offset; it only matters when align_corners is False.
        return resize_to_input(logits, x, self.align_corners, align_mode=1)
