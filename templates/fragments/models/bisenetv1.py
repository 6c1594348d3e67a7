"""BiSeNet (V1): Yu et al., "BiSeNet: Bilateral Segmentation Network for Real-time
Semantic Segmentation" (ECCV 2018).

Two paths see the image. The spatial path, three strided convolutions, keeps 1/8
resolution and the fine detail; the context path, a backbone, gets a large receptive
field. Attention refinement modules reweight the context path's last two stages by
their own globally pooled channel statistics, a global-average-pooled context is added
on top, and a feature fusion module concatenates both paths and reweights the result
channel by channel. Two auxiliary heads on the refined context features add deep
supervision in training only.

Attribute names (`spatial_path`, `global_context`, `arms`, `refines`, `heads`, `ffm`,
`conv_7x7`, `channel_attention`, ...) and the order of `heads` (the two auxiliary heads,
then the main one) follow PaddleSeg 2.8's `BiseNetV1` so that its checkpoints load
unchanged.
"""

import paddle
import paddle.nn.functional as F
from paddle import nn

from ..layers.basic import ConvBNReLU, resize_to_input

# Channels of the spatial path's output (PaddleSeg fixes them).
BISENETV1_SPATIAL_CHANNELS = 128


def bisenetv1_conv(in_channels, out_channels, kernel_size, stride=1):
    """Bias-free ConvBNReLU with symmetric padding: the unit BiSeNet is built of."""
    return ConvBNReLU(
        in_channels,
        out_channels,
        kernel_size,
        stride=stride,
        padding=(kernel_size - 1) // 2,
        bias_attr=False,
    )


def bisenetv1_channel_gate(*convs):
    """Global average pooling, the given 1x1 convs and a sigmoid: one weight in (0, 1)
    per channel, computed from the whole feature map (squeeze-and-excitation style)."""
    return nn.Sequential(nn.AdaptiveAvgPool2D(1), *convs, nn.Sigmoid())


class BiSeNetV1SpatialPath(nn.Layer):
    """Three stride-2 convs (7x7, 3x3, 3x3) to 1/8 resolution, then a 1x1 projection:
    wide enough to keep detail, shallow enough to be cheap."""

    def __init__(self, in_channels, out_channels, inner_channels=64):
        super().__init__()
        self.conv_7x7 = bisenetv1_conv(in_channels, inner_channels, 7, stride=2)
        self.conv_3x3_1 = bisenetv1_conv(inner_channels, inner_channels, 3, stride=2)
        self.conv_3x3_2 = bisenetv1_conv(inner_channels, inner_channels, 3, stride=2)
        self.conv_1x1 = bisenetv1_conv(inner_channels, out_channels, 1)

    def forward(self, x):
        return self.conv_1x1(self.conv_3x3_2(self.conv_3x3_1(self.conv_7x7(x))))


class BiSeNetV1AttentionRefinement(nn.Layer):
    """Attention refinement module: a 3x3 conv, then each channel scaled by a weight
    from the feature map's global average (no extra upsampling, so it is cheap)."""

    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.conv_3x3 = bisenetv1_conv(in_channels, out_channels, 3)
        self.channel_attention = bisenetv1_channel_gate(
            bisenetv1_conv(out_channels, out_channels, 1)
        )

    def forward(self, x):
        x = self.conv_3x3(x)
        return x * self.channel_attention(x)


class BiSeNetV1FeatureFusion(nn.Layer):
    """Feature fusion module: the two paths' features are at different levels of
    representation, so after concatenating them and a 1x1 conv, each channel is
    re-weighted by a global attention (x + x * w: the attention can only add)."""

    def __init__(self, in_channels, out_channels, reduction=1):
        super().__init__()
        self.conv_1x1 = bisenetv1_conv(in_channels, out_channels, 1)
        # a bottleneck of out_channels // reduction channels between two 1x1 convs
        self.channel_attention = bisenetv1_channel_gate(
            bisenetv1_conv(out_channels, out_channels // reduction, 1),
            bisenetv1_conv(out_channels // reduction, out_channels, 1),
        )

    def forward(self, spatial, context):
        x = self.conv_1x1(paddle.concat([spatial, context], axis=1))
        return x + x * self.channel_attention(x)


class BiSeNetV1Head(nn.Layer):
    """3x3 ConvBNReLU and a 1x1 classifier; logits at feature resolution (the model
    resizes them). PaddleSeg gives the auxiliary heads 128 hidden channels and the main
    head 64."""

    def __init__(self, in_channels, num_classes, auxiliary=False):
        super().__init__()
        inner_channels = 128 if auxiliary else 64
        self.conv_3x3 = bisenetv1_conv(in_channels, inner_channels, 3)
        self.conv_1x1 = nn.Conv2D(inner_channels, num_classes, 1)

    def forward(self, x):
        return self.conv_1x1(self.conv_3x3(x))


class BiSeNetV1(nn.Layer):
    """BiSeNet V1 on a backbone returning four stages (ResNet-vd).

    forward(x) returns logits resized to x's height and width: [main] in eval;
    [main, auxiliary on the refined stage-4 context, auxiliary on the refined stage-3
    context] in training (PaddleSeg lists the auxiliary ones first; its three losses are
    alike, so only the order of the list differs).

    Args:
        num_classes: number of classes.
        backbone: layer returning four feature maps and exposing `feat_channels`.
        conv_channel: channels of the context path after attention refinement.
    """

    def __init__(self, num_classes, backbone, conv_channel=128):
        super().__init__()
        self.backbone = backbone
        stage3_channels, stage4_channels = backbone.feat_channels[2:4]
        # PaddleSeg builds the spatial path for 3-channel images.
        self.spatial_path = BiSeNetV1SpatialPath(3, BISENETV1_SPATIAL_CHANNELS)
        self.global_context = nn.Sequential(
            nn.AdaptiveAvgPool2D(1), bisenetv1_conv(stage4_channels, conv_channel, 1)
        )
        # Deepest stage first: refined stage 4, then stage 3.
        self.arms = nn.LayerList(
            [
                BiSeNetV1AttentionRefinement(stage4_channels, conv_channel),
                BiSeNetV1AttentionRefinement(stage3_channels, conv_channel),
            ]
        )
        self.refines = nn.LayerList(
            [bisenetv1_conv(conv_channel, conv_channel, 3) for _ in range(2)]
        )
        fused_channels = conv_channel * 2
        self.heads = nn.LayerList(
            [
                BiSeNetV1Head(conv_channel, num_classes, auxiliary=True),
                BiSeNetV1Head(conv_channel, num_classes, auxiliary=True),
                BiSeNetV1Head(fused_channels, num_classes),
            ]
        )
        self.ffm = BiSeNetV1FeatureFusion(BISENETV1_SPATIAL_CHANNELS + conv_channel, fused_channels)

    def forward(self, x):
        spatial = self.spatial_path(x)
        feats = self.backbone(x)
        # The globally pooled deepest features, added to every position (PaddleSeg
        # upsamples the 1x1 map bilinearly, which is the same as broadcasting it).
        context = self.global_context(feats[3])
        refined = []
        # Stage 4, then stage 3: refine, add the coarser context, upsample to the next
        # shallower stage's size, smooth with a 3x3 conv.
        for feat, arm, refine, target in zip(
            (feats[3], feats[2]), self.arms, self.refines, (feats[2], feats[1])
        ):
            context = arm(feat) + context
            context = F.interpolate(
                context, paddle.shape(target)[2:], mode="bilinear", align_corners=True
            )
            context = refine(context)
            refined.append(context)
        logits = [self.heads[2](self.ffm(spatial, context))]
        if self.training:
            logits += [head(feat) for head, feat in zip(self.heads[:2], refined)]
        # PaddleSeg's heads upsample 8x; at output stride 8 that is the input size.
        return resize_to_input(logits, x, align_corners=True)
