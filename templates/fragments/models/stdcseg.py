"""STDC-Seg: Fan et al., "Rethinking BiSeNet For Real-time Semantic Segmentation"
(CVPR 2021), https://arxiv.org/abs/2104.13188.

BiSeNet's two paths share one STDC backbone here: its 1/8 feature map serves as the
spatial path, and a context path refines the 1/16 and 1/32 maps with attention
refinement modules (a global-pooled channel gate) plus the image's global average,
upsampling coarse to fine. A feature fusion module merges the 1/8 map with the
context at 1/8 and classifies.

Training adds deep supervision on the context path at 1/8 and 1/16, and a detail
head: a one-channel map from the backbone's 1/8 features (optionally 1/2, 1/4),
trained by DetailAggregateLoss against boundaries derived from the label, which
pushes spatial detail into the shallow layers. The detail heads cost nothing at
inference, where only the fused prediction is computed.

Attribute names (`cp.arm16`, `ffm.convblk`, `conv_out_sp8`, ...) follow PaddleSeg 2.8
so that its checkpoints load unchanged; PaddleSeg also builds the 1/16 detail head,
which nothing reads, so it is here too.
"""

import paddle
import paddle.nn.functional as F
from paddle import nn

from ..layers.basic import ConvBNReLU, resize_to_input

# channels of the context path's outputs (PaddleSeg's fixed value)
STDCSEG_CONTEXT_CHANNELS = 128


class STDCSegHead(nn.Layer):
    """3x3 ConvBNReLU to `mid_channels`, then a 1x1 conv to `num_classes` scores."""

    def __init__(self, in_channels, mid_channels, num_classes):
        super().__init__()
        self.conv = ConvBNReLU(in_channels, mid_channels, 3, padding=1)
        self.conv_out = nn.Conv2D(mid_channels, num_classes, 1)

    def forward(self, x):
        return self.conv_out(self.conv(x))


class STDCAttentionRefinement(nn.Layer):
    """BiSeNet's attention refinement module: a 3x3 ConvBNReLU whose channels are
    re-weighted by a gate computed from their global averages (1x1 conv, BN, sigmoid)."""

    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.conv = ConvBNReLU(in_channels, out_channels, 3, padding=1)
        self.conv_atten = nn.Conv2D(out_channels, out_channels, 1)
        self.bn_atten = nn.BatchNorm2D(out_channels)
        self.sigmoid_atten = nn.Sigmoid()

    def forward(self, x):
        feat = self.conv(x)
        gate = self.sigmoid_atten(self.bn_atten(self.conv_atten(F.adaptive_avg_pool2d(feat, 1))))
        return feat * gate


class STDCContextPath(nn.Layer):
    """The backbone and BiSeNet's context path over its last two feature maps.

    forward(x) returns the backbone's 1/2, 1/4, 1/8, 1/16 maps, then the context at
    1/8 (from 1/16) and at 1/16 (from 1/32).
    """

    def __init__(self, backbone):
        super().__init__()
        self.backbone = backbone
        channels = backbone.feat_channels
        context = STDCSEG_CONTEXT_CHANNELS
        self.arm16 = STDCAttentionRefinement(channels[3], context)
        self.arm32 = STDCAttentionRefinement(channels[4], context)
        self.conv_head32 = ConvBNReLU(context, context, 3, padding=1)
        self.conv_head16 = ConvBNReLU(context, context, 3, padding=1)
        self.conv_avg = ConvBNReLU(channels[4], context, 1, padding=0)

    def forward(self, x):
        feat2, feat4, feat8, feat16, feat32 = self.backbone(x)
        # The image's global context, broadcast over the 1/32 grid.
        global_context = self.conv_avg(F.adaptive_avg_pool2d(feat32, 1))
        global_context = F.interpolate(global_context, paddle.shape(feat32)[2:], mode="nearest")

        context16 = self.arm32(feat32) + global_context
        context16 = F.interpolate(context16, paddle.shape(feat16)[2:], mode="nearest")
        context16 = self.conv_head32(context16)

        context8 = self.arm16(feat16) + context16
        context8 = F.interpolate(context8, paddle.shape(feat8)[2:], mode="nearest")
        context8 = self.conv_head16(context8)
        return feat2, feat4, feat8, feat16, context8, context16


class STDCFeatureFusion(nn.Layer):
    """BiSeNet's feature fusion module: concatenate the spatial and context features,
    fuse with a 1x1 ConvBNReLU, and add a channel-reweighted copy (squeeze-and-
    excitation style gate over the global average: 1x1 conv, ReLU, 1x1 conv, sigmoid)."""

    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.convblk = ConvBNReLU(in_channels, out_channels, 1, padding=0)
        self.conv1 = nn.Conv2D(out_channels, out_channels // 4, 1)
        self.conv2 = nn.Conv2D(out_channels // 4, out_channels, 1)
        self.relu = nn.ReLU()
        self.sigmoid = nn.Sigmoid()

    def forward(self, spatial, context):
        feat = self.convblk(paddle.concat([spatial, context], axis=1))
        gate = F.adaptive_avg_pool2d(feat, 1)
        gate = self.sigmoid(self.conv2(self.relu(self.conv1(gate))))
        return feat * gate + feat


class STDCSeg(nn.Layer):
    """STDC-Seg. forward(x) returns, resized to x's height and width, [main] in eval;
    in training [main, context 1/8, context 1/16] followed by the detail logits (one
    channel, at feature resolution: DetailAggregateLoss resizes them) at 1/2, 1/4 and
    1/8 for each of use_boundary_2, _4, _8 that is set, in that order.

    Args:
        num_classes: number of classes.
        backbone: an STDC network (five feature maps, `feat_channels`).
        use_boundary_2, use_boundary_4, use_boundary_8: add the detail output of the
            backbone's 1/2, 1/4, 1/8 features in training (the paper uses 1/8 only).
    """

    def __init__(
        self,
        num_classes,
        backbone,
        use_boundary_2=False,
        use_boundary_4=False,
        use_boundary_8=True,
    ):
        super().__init__()
        self.use_boundary_2 = use_boundary_2
        self.use_boundary_4 = use_boundary_4
        self.use_boundary_8 = use_boundary_8
        channels = backbone.feat_channels
        context = STDCSEG_CONTEXT_CHANNELS
        self.cp = STDCContextPath(backbone)
        self.ffm = STDCFeatureFusion(channels[2] + context, 256)
        self.conv_out = STDCSegHead(256, 256, num_classes)
        self.conv_out8 = STDCSegHead(context, 64, num_classes)
        self.conv_out16 = STDCSegHead(context, 64, num_classes)
        # Detail heads, one channel each; the 1/16 one is never used (see the docstring).
        self.conv_out_sp16 = STDCSegHead(channels[3], 64, 1)
        self.conv_out_sp8 = STDCSegHead(channels[2], 64, 1)
        self.conv_out_sp4 = STDCSegHead(channels[1], 64, 1)
        self.conv_out_sp2 = STDCSegHead(channels[0], 64, 1)

    def forward(self, x):
        feat2, feat4, feat8, _, context8, context16 = self.cp(x)
        logits = [self.conv_out(self.ffm(feat8, context8))]
        if not self.training:
            return resize_to_input(logits, x, align_corners=True)
        logits += [self.conv_out8(context8), self.conv_out16(context16)]
        outputs = resize_to_input(logits, x, align_corners=True)
        if self.use_boundary_2:
            outputs.append(self.conv_out_sp2(feat2))
        if self.use_boundary_4:
            outputs.append(self.conv_out_sp4(feat4))
        if self.use_boundary_8:
            outputs.append(self.conv_out_sp8(feat8))
        return outputs
