"""U-Net: Ronneberger et al., "U-Net: Convolutional Networks for Biomedical Image
Segmentation" (MICCAI 2015).

No separate backbone: a contracting path of double 3x3 convolutions halves the
resolution four times (64 to 512 channels); an expanding path upsamples back, each
time concatenating the encoder's feature map of the same resolution (the skip
connections that give the network its U shape and keep fine detail), and a 3x3
classifier gives full-resolution logits.

Attribute names (`encode.double_conv`, `encode.down_sample_list`,
`decode.up_sample_list`, `cls`) follow PaddleSeg 2.8 so that its checkpoints load
unchanged.
"""

import paddle
import paddle.nn.functional as F
from paddle import nn

from ..layers.basic import ConvBNReLU

# (input, output) channels of the encoder's four downsampling steps
UNET_DOWN_CHANNELS = ((64, 128), (128, 256), (256, 512), (512, 512))
# (input, output) channels of the decoder's four upsampling steps
UNET_UP_CHANNELS = ((512, 256), (256, 128), (128, 64), (64, 64))


def unet_double_conv(in_channels, out_channels):
    """Two 3x3 ConvBNReLU: the unit every U-Net stage is made of."""
    return nn.Sequential(
        ConvBNReLU(in_channels, out_channels, 3), ConvBNReLU(out_channels, out_channels, 3)
    )


class UNetEncoder(nn.Layer):
    """The contracting path: returns the deepest feature map and, shallowest first, the
    feature maps before each downsampling (the skip connections)."""

    def __init__(self, in_channels=3):
        super().__init__()
        self.double_conv = unet_double_conv(in_channels, 64)
        self.down_sample_list = nn.LayerList(
            [
                nn.Sequential(nn.MaxPool2D(kernel_size=2, stride=2), *unet_double_conv(cin, cout))
                for cin, cout in UNET_DOWN_CHANNELS
            ]
        )

    def forward(self, x):
        skips = []
        x = self.double_conv(x)
        for down in self.down_sample_list:
            skips.append(x)
            x = down(x)
        return x, skips


class UNetUpSampling(nn.Layer):
    """One expanding step: upsample to the skip's size (bilinear, or a learned 2x2
    transposed convolution with `use_deconv`), concatenate the skip, double conv."""

    def __init__(self, in_channels, out_channels, align_corners, use_deconv=False):
        super().__init__()
        self.align_corners = align_corners
        self.use_deconv = use_deconv
        if use_deconv:
            self.deconv = nn.Conv2DTranspose(
                in_channels, out_channels // 2, kernel_size=2, stride=2, padding=0
            )
            concat_channels = in_channels + out_channels // 2
        else:
            concat_channels = in_channels * 2  # the skip has as many channels as x
        self.double_conv = unet_double_conv(concat_channels, out_channels)

    def forward(self, x, skip):
        if self.use_deconv:
            x = self.deconv(x)
        else:
            x = F.interpolate(
                x, paddle.shape(skip)[2:], mode="bilinear", align_corners=self.align_corners
            )
        return self.double_conv(paddle.concat([x, skip], axis=1))


class UNetDecoder(nn.Layer):
    """The expanding path: one UNetUpSampling per encoder level, deepest skip first."""

    def __init__(self, align_corners, use_deconv=False):
        super().__init__()
        self.up_sample_list = nn.LayerList(
            [UNetUpSampling(cin, cout, align_corners, use_deconv) for cin, cout in UNET_UP_CHANNELS]
        )

    def forward(self, x, skips):
        for up, skip in zip(self.up_sample_list, reversed(skips)):
            x = up(x, skip)
        return x


class UNet(nn.Layer):
    """U-Net: encoder, decoder with skip connections, 3x3 classifier at full resolution.

    Returns [logits] at the input size in training and evaluation alike.
    """

    def __init__(self, num_classes, align_corners=False, use_deconv=False, in_channels=3):
        super().__init__()
        self.encode = UNetEncoder(in_channels)
        self.decode = UNetDecoder(align_corners, use_deconv=use_deconv)
        # PaddleSeg binds the classifier to two names, so its state dict (and a checkpoint
        # of it) holds the same weights as both `cls.*` and `conv.*`; both are kept for a
        # strict load.
        self.cls = self.conv = nn.Conv2D(64, num_classes, kernel_size=3, stride=1, padding=1)

    def forward(self, x):
        x, skips = self.encode(x)
        return [self.cls(self.decode(x, skips))]
