"""FCN: Long et al., "Fully Convolutional Networks for Semantic Segmentation" (CVPR 2015).

The head is a 1x1 ConvBNReLU and a 1x1 classifier over one backbone feature map; the
logits are upsampled bilinearly to the input size.

Attribute names (`head.conv_1`, `head.cls`) follow PaddleSeg 2.8 so that its
checkpoints load unchanged.
"""

from paddle import nn

from ..layers.basic import ConvBNReLU, resize_to_input


class FCNHead(nn.Layer):
    """1x1 ConvBNReLU to `channels`, then a 1x1 conv to class scores."""

    def __init__(self, num_classes, backbone_index, in_channels, channels=None):
        super().__init__()
        self.backbone_index = backbone_index
        if channels is None:
            channels = in_channels
        self.conv_1 = ConvBNReLU(in_channels, channels, 1)
        self.cls = nn.Conv2D(channels, num_classes, 1)
        # PaddleSeg's initialisation: conv weights ~ N(0, 0.001^2), zero biases.
        for layer in self.sublayers():
            if isinstance(layer, nn.Conv2D):
                nn.initializer.Normal(std=0.001)(layer.weight)

    def forward(self, feats):
        return [self.cls(self.conv_1(feats[self.backbone_index]))]


class FCN(nn.Layer):
    """FCN. forward(x) returns [logits] resized to x's height and width.

    Args:
        num_classes: number of classes.
        backbone: layer returning a list of feature maps and exposing `feat_channels`.
        backbone_indices: one-element sequence, the index of the feature map the head reads.
        channels: channels of the head's hidden conv; None uses the feature map's channels.
        align_corners: F.interpolate's align_corners for the final upsampling.
    """

    def __init__(
        self, num_classes, backbone, backbone_indices=(-1,), channels=None, align_corners=False
    ):
        super().__init__()
        self.backbone = backbone
        index = backbone_indices[0]
        self.head = FCNHead(num_classes, index, backbone.feat_channels[index], channels)
        self.align_corners = align_corners

    def forward(self, x):
        logits = self.head(self.backbone(x))
        return resize_to_input(logits, x, self.align_corners)
