"""Attention U-Net: Oktay et al., "Attention U-Net: Learning Where to Look for the
Pancreas" (MIDL 2018).

A U-Net (the same contracting path of double 3x3 ConvBNReLU, widened to 1024 channels
at the bottom) whose skip connections pass through attention gates: before the decoder
concatenates an encoder feature map, the gate compares it with the decoder's upsampled
features (the "gating signal", which carries coarser, more semantic context) through
1x1 convolutions, and scales each pixel of the skip by a sigmoid coefficient. Regions
the decoder finds irrelevant are suppressed instead of being copied into every
decoder stage.

Attribute names (`encoder.double_conv`, `encoder.down_sample_list`, `up5` ... `up2`,
`att5` ... `att2` with `W_g`, `W_x`, `psi`, `up_conv5` ... `up_conv2`, `conv_1x1`)
and the indices inside their Sequentials follow PaddleSeg 2.8 so that its checkpoints
load unchanged.
"""

import itertools

import paddle
import paddle.nn.functional as F
from paddle import nn

from .unet import unet_double_conv

# Channels of the encoder's five resolutions, full resolution first.
ATTENTION_UNET_CHANNELS = (64, 128, 256, 512, 1024)


class AttentionUNetEncoder(nn.Layer):
    """U-Net's contracting path with Attention U-Net's widths: returns the deepest feature
    map and, shallowest first, the feature maps before each downsampling (the skips)."""

    def __init__(self, in_channels=3):
        super().__init__()
        widths = ATTENTION_UNET_CHANNELS
        self.double_conv = unet_double_conv(in_channels, widths[0])
        self.down_sample_list = nn.LayerList(
            [
                nn.Sequential(nn.MaxPool2D(kernel_size=2, stride=2), *unet_double_conv(cin, cout))
                for cin, cout in itertools.pairwise(widths)
            ]
        )

    def forward(self, x):
        skips = []
        x = self.double_conv(x)
        for down in self.down_sample_list:
            skips.append(x)
            x = down(x)
        return x, skips


class AttentionGate(nn.Layer):
    """Additive attention gate: sigmoid(psi(relu(W_g g + W_x x))) scales the skip `x`
    pixel by pixel; `g` is the decoder's features at the skip's resolution.

    `W_g`, `W_x` and `psi` are 1x1 convolutions with batch norm; PaddleSeg names the
    channel counts F_g, F_l (the skip's) and F_out (the gate's inner width).
    """

    def __init__(self, gate_channels, skip_channels, inner_channels):
        super().__init__()
        self.W_g = nn.Sequential(
            nn.Conv2D(gate_channels, inner_channels, kernel_size=1),
            nn.BatchNorm2D(inner_channels),
        )
        self.W_x = nn.Sequential(
            nn.Conv2D(skip_channels, inner_channels, kernel_size=1),
            nn.BatchNorm2D(inner_channels),
        )
        self.psi = nn.Sequential(
            nn.Conv2D(inner_channels, 1, kernel_size=1), nn.BatchNorm2D(1), nn.Sigmoid()
        )

    def forward(self, g, x):
        coefficients = self.psi(F.relu(self.W_g(g) + self.W_x(x)))
        return x * coefficients


class AttentionUNetUpConv(nn.Layer):
    """Upsample bilinearly to the skip's size (twice the input's when the sides are even),
    then 3x3 conv, batch norm, ReLU.

    PaddleSeg's Sequential starts with its 2x Upsample layer, so the conv and the batch
    norm are `up.1` and `up.2` in its checkpoints; the Sequential here keeps those keys
    and resizes to the skip's size instead, which also handles odd sides.
    """

    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.up = nn.Sequential(
            ("1", nn.Conv2D(in_channels, out_channels, kernel_size=3, padding=1)),
            ("2", nn.BatchNorm2D(out_channels)),
            ("3", nn.ReLU()),
        )

    def forward(self, x, skip):
        x = F.interpolate(x, paddle.shape(skip)[2:], mode="bilinear", align_corners=False)
        return self.up(x)


class AttentionUNetConvBlock(nn.Layer):
    """Two 3x3 conv + batch norm + ReLU: the decoder's fusion after each concatenation
    (plain layers in one Sequential, `conv.0` ... `conv.5`, as PaddleSeg's ConvBlock)."""

    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2D(in_channels, out_channels, kernel_size=3, padding=1),
            nn.BatchNorm2D(out_channels),
            nn.ReLU(),
            nn.Conv2D(out_channels, out_channels, kernel_size=3, padding=1),
            nn.BatchNorm2D(out_channels),
            nn.ReLU(),
        )

    def forward(self, x):
        return self.conv(x)


class AttentionUNet(nn.Layer):
    """Attention U-Net: encoder, four decoder steps (upsample, gate the skip, concatenate
    gated skip and upsampled features, double conv) and a 1x1 classifier at full
    resolution.

    Returns [logits] at the input size in training and evaluation alike.
    """

    def __init__(self, num_classes, in_channels=3):
        super().__init__()
        self.encoder = AttentionUNetEncoder(in_channels)
        widths = ATTENTION_UNET_CHANNELS
        # Decoder step k (5: the deepest) brings widths[k-1] channels up to the resolution
        # of the skip with widths[k-2] channels; the gate works on half the skip's width.
        for step in (5, 4, 3, 2):
            deeper, skip = widths[step - 1], widths[step - 2]
            self.add_sublayer(f"up{step}", AttentionUNetUpConv(deeper, skip))
            self.add_sublayer(f"att{step}", AttentionGate(skip, skip, skip // 2))
            self.add_sublayer(f"up_conv{step}", AttentionUNetConvBlock(2 * skip, skip))
        self.conv_1x1 = nn.Conv2D(widths[0], num_classes, kernel_size=1)

    def forward(self, x):
        d, skips = self.encoder(x)
        for step, skip in zip((5, 4, 3, 2), reversed(skips)):
            d = getattr(self, f"up{step}")(d, skip)
            gated = getattr(self, f"att{step}")(g=d, x=skip)
            d = getattr(self, f"up_conv{step}")(paddle.concat([gated, d], axis=1))
        return [self.conv_1x1(d)]
