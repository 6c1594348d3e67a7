"""PortraitNet: Zhang et al., "PortraitNet: Real-time Portrait Segmentation Network for
Mobile Device" (Computers & Graphics, 2019),
https://www.yongliangyang.net/docs/mobilePotrait_c&g19.pdf.

A light U-shaped decoder over a MobileNetV2 encoder, for two-class (portrait and
background) segmentation of small (224x224) images on phones. From the 1/32 map up, each
decoder level runs a "transition" residual block built from depthwise-separable
convolutions (few parameters, few FLOPs) and doubles the resolution with a 4x4
transposed convolution; the encoder's map of the new resolution is added (not
concatenated) before the next level. Five levels bring the 1/32 map back to the input
resolution, where a 3x3 conv gives the logits: no bilinear upsampling anywhere, so the
input's sides must be multiples of 32.

The paper trains a second 3x3 conv on the same features to predict portrait
boundaries (`add_edge`), an auxiliary task that sharpens the mask's edges; PaddleSeg's
recipe leaves it off.

Attribute names and layer order (`head`, `deconv1`..`deconv5`, `transit1`..`transit5`,
`pred`, `edge`; a transition block's `block` and `residual` sequences) follow PaddleSeg
2.8's PortraitNet so that its checkpoints load unchanged. Its decoder's batch norms
keep PyTorch's momentum value 0.1, which in Paddle's convention (running = momentum *
running + (1 - momentum) * batch) makes the running statistics follow the latest batch
closely; kept, because that is how PaddleSeg's model trains.
"""

from paddle import nn

# Batch norm of the decoder, as PaddleSeg's PortraitNet builds it (see the module docstring).
PORTRAIT_BN_ARGS = {"epsilon": 1e-05, "momentum": 0.1}


def portrait_dw_separable(in_channels, out_channels):
    """The layers of a depthwise 3x3 conv (BN, ReLU) then a pointwise 1x1 conv (BN),
    without the final activation: the caller decides what follows."""
    return [
        nn.Conv2D(in_channels, in_channels, 3, padding=1, groups=in_channels, bias_attr=False),
        nn.BatchNorm2D(in_channels, **PORTRAIT_BN_ARGS),
        nn.ReLU(),
        nn.Conv2D(in_channels, out_channels, 1, bias_attr=False),
        nn.BatchNorm2D(out_channels, **PORTRAIT_BN_ARGS),
    ]


class PortraitDwSeparable(nn.Layer):
    """Depthwise-separable conv with BN and ReLU after both convs (PaddleSeg's ConvDw;
    its layers are `conv`)."""

    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.conv = nn.Sequential(*portrait_dw_separable(in_channels, out_channels), nn.ReLU())

    def forward(self, x):
        return self.conv(x)


class PortraitTransition(nn.Layer):
    """The decoder's residual block: two depthwise-separable convs (the second without
    a final ReLU) plus the input, through a 1x1 ConvBN when the width changes; ReLU."""

    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.block = nn.Sequential(
            PortraitDwSeparable(in_channels, out_channels),
            *portrait_dw_separable(out_channels, out_channels),
        )
        self.residual = None
        if in_channels != out_channels:
            self.residual = nn.Sequential(
                nn.Conv2D(in_channels, out_channels, 1, bias_attr=False),
                nn.BatchNorm2D(out_channels, **PORTRAIT_BN_ARGS),
            )
        self.relu = nn.ReLU()

    def forward(self, x):
        shortcut = x if self.residual is None else self.residual(x)
        return self.relu(self.block(x) + shortcut)


class PortraitNetHead(nn.Layer):
    """Five transition blocks, each followed by a 2x transposed conv, from the 1/32 map
    to full resolution, adding the encoder's 1/16, 1/8 and 1/4 maps on the way; a 3x3
    conv classifies (and, with add_edge, another predicts boundaries)."""

    # decoder widths at scale 1, from the 1/32 input to full resolution
    WIDTHS = (320, 96, 32, 24, 16, 8)

    def __init__(self, num_classes, min_channel=16, channel_ratio=1.0, add_edge=False):
        super().__init__()
        self.min_channel = min_channel
        self.channel_ratio = channel_ratio
        self.add_edge = add_edge
        widths = [self.depth(c) for c in self.WIDTHS]
        for level in range(1, 6):
            # a 4x4 kernel, stride 2, padding 1: exactly twice the resolution
            self.add_sublayer(
                f"deconv{level}",
                nn.Conv2DTranspose(
                    widths[level], widths[level], 4, stride=2, padding=1, bias_attr=False
                ),
            )
        for level in range(1, 6):
            self.add_sublayer(
                f"transit{level}", PortraitTransition(widths[level - 1], widths[level])
            )
        self.pred = nn.Conv2D(widths[-1], num_classes, 3, padding=1, bias_attr=False)
        if add_edge:
            self.edge = nn.Conv2D(widths[-1], num_classes, 3, padding=1, bias_attr=False)

    def depth(self, channels):
        """A decoder width scaled by channel_ratio, never under min(channels,
        min_channel) (PaddleSeg's rule)."""
        return max(min(channels, self.min_channel), int(channels * self.channel_ratio))

    def forward(self, features):
        feature_4, feature_8, feature_16, feature_32 = features
        up_16 = self.deconv1(self.transit1(feature_32))
        up_8 = self.deconv2(self.transit2(feature_16 + up_16))
        up_4 = self.deconv3(self.transit3(feature_8 + up_8))
        up_2 = self.deconv4(self.transit4(feature_4 + up_4))
        full = self.deconv5(self.transit5(up_2))
        logits = [self.pred(full)]
        if self.add_edge:
            logits.append(self.edge(full))
        return logits


class PortraitNet(nn.Layer):
    """PortraitNet. forward(x) returns [logits] at x's size, followed by the boundary
    logits when add_edge (in training and, as in PaddleSeg, in evaluation); x's height
    and width must be multiples of 32.

    Args:
        num_classes: number of classes.
        backbone: a MobileNetV2 returning its 1/4, 1/8, 1/16 and 1/32 maps and exposing
            `feat_channels`, which must equal the decoder's widths.
        min_channel, channel_ratio: the decoder's widths are PaddleSeg's at scale 1
            times channel_ratio, but at least min(width, min_channel).
        add_edge: also predict boundaries (the paper's auxiliary task).
    """

    def __init__(self, num_classes, backbone, min_channel=16, channel_ratio=1.0, add_edge=False):
        super().__init__()
        self.backbone = backbone
        self.head = PortraitNetHead(num_classes, min_channel, channel_ratio, add_edge)
        # the head adds the encoder's maps to its own: their widths must be the same
        expected = [self.head.depth(c) for c in (24, 32, 96, 320)]
        if list(backbone.feat_channels) != expected:
            raise ValueError(
                f"PortraitNet's decoder (channel_ratio {channel_ratio}, min_channel "
                f"{min_channel}) adds feature maps of {expected} channels but the backbone "
                f"returns {list(backbone.feat_channels)}; use MobileNetV2_x1_0 or a "
                "matching channel_ratio"
            )

    def forward(self, x):
        return self.head(self.backbone(x))
