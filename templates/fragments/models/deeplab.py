"""DeepLabV3 (Chen et al., "Rethinking Atrous Convolution for Semantic Image
Segmentation", 2017) and DeepLabV3+ (Chen et al., "Encoder-Decoder with Atrous
Separable Convolution for Semantic Image Segmentation", ECCV 2018).

DeepLabV3 classifies ASPP features of the last (dilated) backbone stage directly;
DeepLabV3+ adds a light decoder that upsamples them to a stride-4 feature map and
refines object boundaries with its low-level detail.

Attribute names (`head.aspp`, `head.cls`, `head.decoder.conv_bn_relu1`, ...) follow
PaddleSeg 2.8 so that its checkpoints load unchanged.
"""

import paddle
import paddle.nn.functional as F
from paddle import nn

from ..layers.aspp import ASPPModule
from ..layers.basic import ConvBNReLU, SeparableConvBNReLU, resize_to_input


class DeepLabV3Head(nn.Layer):
    """ASPP with image pooling on feats[backbone_indices[0]], then a 1x1 classifier."""

    def __init__(
        self,
        num_classes,
        backbone_indices,
        backbone_channels,
        aspp_ratios,
        aspp_out_channels,
        align_corners,
    ):
        super().__init__()
        self.backbone_indices = backbone_indices
        self.aspp = ASPPModule(
            aspp_ratios,
            backbone_channels[0],
            aspp_out_channels,
            align_corners,
            use_sep_conv=False,
            image_pooling=True,
        )
        self.cls = nn.Conv2D(aspp_out_channels, num_classes, 1)

    def forward(self, feats):
        return [self.cls(self.aspp(feats[self.backbone_indices[0]]))]


class DeepLabV3(nn.Layer):
    """DeepLabV3. forward(x) returns [logits] resized to x's height and width.

    Args:
        num_classes: number of classes.
        backbone: layer returning a list of feature maps and exposing `feat_channels`.
        backbone_indices: one-element sequence, the feature map ASPP reads.
        aspp_ratios: dilation rates of the ASPP branches; (1, 12, 24, 36) suits output
            stride 8, (1, 6, 12, 18) output stride 16.
        aspp_out_channels: channels of each ASPP branch and of its output.
        align_corners: F.interpolate's align_corners for every upsampling.
    """

    def __init__(
        self,
        num_classes,
        backbone,
        backbone_indices=(3,),
        aspp_ratios=(1, 6, 12, 18),
        aspp_out_channels=256,
        align_corners=False,
    ):
        super().__init__()
        self.backbone = backbone
        backbone_channels = [backbone.feat_channels[i] for i in backbone_indices]
        self.head = DeepLabV3Head(
            num_classes,
            backbone_indices,
            backbone_channels,
            aspp_ratios,
            aspp_out_channels,
            align_corners,
        )
        self.align_corners = align_corners

    def forward(self, x):
        logits = self.head(self.backbone(x))
        return resize_to_input(logits, x, self.align_corners)


class Decoder(nn.Layer):
    """DeepLabV3+'s decoder: reduce the low-level features to 48 channels (so they do not
    outweigh the 256 ASPP channels), upsample the ASPP output to their size, concatenate,
    refine with two separable 3x3 ConvBNReLUs and classify with a 1x1 conv."""

    def __init__(self, num_classes, in_channels, align_corners, aspp_channels=256):
        super().__init__()
        self.conv_bn_relu1 = ConvBNReLU(in_channels, 48, 1)
        self.conv_bn_relu2 = SeparableConvBNReLU(aspp_channels + 48, 256, 3, padding=1)
        self.conv_bn_relu3 = SeparableConvBNReLU(256, 256, 3, padding=1)
        self.conv = nn.Conv2D(256, num_classes, 1)
        self.align_corners = align_corners

    def forward(self, x, low_level_feat):
        low_level_feat = self.conv_bn_relu1(low_level_feat)
        x = F.interpolate(
            x, paddle.shape(low_level_feat)[2:], mode="bilinear", align_corners=self.align_corners
        )
        x = paddle.concat([x, low_level_feat], axis=1)
        return self.conv(self.conv_bn_relu3(self.conv_bn_relu2(x)))


class DeepLabV3PHead(nn.Layer):
    """Separable-conv ASPP on feats[backbone_indices[1]], decoded with the low-level
    features feats[backbone_indices[0]]."""

    def __init__(
        self,
        num_classes,
        backbone_indices,
        backbone_channels,
        aspp_ratios,
        aspp_out_channels,
        align_corners,
    ):
        super().__init__()
        self.backbone_indices = backbone_indices
        self.aspp = ASPPModule(
            aspp_ratios,
            backbone_channels[1],
            aspp_out_channels,
            align_corners,
            use_sep_conv=True,
            image_pooling=True,
        )
        self.decoder = Decoder(
            num_classes, backbone_channels[0], align_corners, aspp_channels=aspp_out_channels
        )

    def forward(self, feats):
        low_level_feat = feats[self.backbone_indices[0]]
        x = self.aspp(feats[self.backbone_indices[1]])
        return [self.decoder(x, low_level_feat)]


class DeepLabV3P(nn.Layer):
    """DeepLabV3+. forward(x) returns [logits] resized to x's height and width.

    Args:
        num_classes: number of classes.
        backbone: layer returning a list of feature maps and exposing `feat_channels`.
        backbone_indices: (low-level feature for the decoder, ASPP input) indices.
        aspp_ratios: dilation rates of the ASPP branches; (1, 12, 24, 36) suits output
            stride 8, (1, 6, 12, 18) output stride 16.
        aspp_out_channels: channels of each ASPP branch and of its output.
        align_corners: F.interpolate's align_corners for every upsampling.
    """

    def __init__(
        self,
        num_classes,
        backbone,
        backbone_indices=(0, 3),
        aspp_ratios=(1, 6, 12, 18),
        aspp_out_channels=256,
        align_corners=False,
    ):
        super().__init__()
        self.backbone = backbone
        backbone_channels = [backbone.feat_channels[i] for i in backbone_indices]
        self.head = DeepLabV3PHead(
            num_classes,
            backbone_indices,
            backbone_channels,
            aspp_ratios,
            aspp_out_channels,
            align_corners,
        )
        self.align_corners = align_corners

    def forward(self, x):
        logits = self.head(self.backbone(x))
        return resize_to_input(logits, x, self.align_corners)
