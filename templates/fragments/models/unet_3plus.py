"""U-Net 3+: Huang et al., "UNet 3+: A Full-Scale Connected UNet for Medical Image
Segmentation" (ICASSP 2020, arXiv:2004.08790).

No separate backbone. A U-Net encoder (double 3x3 convolutions, 64 to 1024 channels,
halving the resolution four times) feeds a decoder with full-scale skip connections:
each decoder level gathers every scale at once, the shallower encoder maps
max-pooled down to its size, the encoder map of its own level, and the deeper
decoder maps (the deepest encoder map counting as decoder level 5) bilinearly
upsampled to it, each squeezed to 64 channels by a 3x3 conv; the five are
concatenated (320 channels) and fused by one more 3x3 conv. A 3x3 classifier on the
full-resolution level gives the logits.

With `is_deepsup` (deep supervision), each decoder level (and the deepest encoder
map) gets its own 3x3 classifier, upsampled to the input: five outputs, the
full-resolution level's first, each trained by its own loss; PaddleSeg returns all
five in evaluation as well. PaddleSeg's classification-guided module (`is_CGM`) is not
offered: its classifier is never trained (its only use is through an argmax) and would
multiply the logits by an untrained yes/no per image.

Attribute names (`encoder.conv1`, `encoder.poolconv{k}`, the decoder's
`h{k}_PT_hd{l}_cbr`, `h{l}_Cat_hd{l}_cbr`, `hd{k}_UT_hd{l}_cbr`, `cbr{l}d_1`,
`deepsup.convup{k}`, `outconv1`) follow PaddleSeg 2.8 so that its checkpoints load
unchanged.
"""

import paddle
import paddle.nn.functional as F
from paddle import nn

from ..layers.basic import resize_to_input
from ..layers.sequential_conv import conv_bn_relu_layers, kaiming_normal_conv_weights

# channels of the encoder's five levels, full resolution first
UNET_3PLUS_CHANNELS = (64, 128, 256, 512, 1024)
# channels each scale is squeezed to before a decoder level concatenates all five
UNET_3PLUS_CAT_CHANNELS = 64
UNET_3PLUS_LEVELS = len(UNET_3PLUS_CHANNELS)
# channels of a decoder level: the five squeezed scales side by side
UNET_3PLUS_UP_CHANNELS = UNET_3PLUS_CAT_CHANNELS * UNET_3PLUS_LEVELS


class UNet3PlusDoubleConv(nn.Layer):
    """An encoder level's two 3x3 convs, each with batch norm (`is_batchnorm`) and ReLU."""

    def __init__(self, in_channels, out_channels, is_batchnorm):
        super().__init__()
        for name in ("conv1", "conv2"):
            layers = conv_bn_relu_layers(in_channels, out_channels)
            if not is_batchnorm:
                del layers[1]
            setattr(self, name, nn.Sequential(*layers))
            in_channels = out_channels

    def forward(self, x):
        return self.conv2(self.conv1(x))


class UNet3PlusEncoder(nn.Layer):
    """The contracting path: the five levels' feature maps h1 ... h5, full resolution
    first."""

    def __init__(self, in_channels, is_batchnorm):
        super().__init__()
        self.conv1 = UNet3PlusDoubleConv(in_channels, UNET_3PLUS_CHANNELS[0], is_batchnorm)
        for k in range(2, UNET_3PLUS_LEVELS + 1):
            level = nn.Sequential(
                nn.MaxPool2D(kernel_size=2),
                UNet3PlusDoubleConv(
                    UNET_3PLUS_CHANNELS[k - 2], UNET_3PLUS_CHANNELS[k - 1], is_batchnorm
                ),
            )
            setattr(self, f"poolconv{k}", level)

    def forward(self, x):
        features = [self.conv1(x)]
        for k in range(2, UNET_3PLUS_LEVELS + 1):
            features.append(getattr(self, f"poolconv{k}")(features[-1]))
        return features


def unet_3plus_source_name(source, level):
    """PaddleSeg's name of the conv that brings level `source` to decoder level `level`:
    pooled encoder maps from above (PT), the level's own encoder map (Cat), upsampled
    decoder maps from below (UT; the deepest encoder map is decoder level 5)."""
    if source < level:
        return f"h{source}_PT_hd{level}_cbr"
    if source == level:
        return f"h{level}_Cat_hd{level}_cbr"
    return f"hd{source}_UT_hd{level}_cbr"


class UNet3PlusDecoder(nn.Layer):
    """Decoder levels 4, 3, 2, 1, each fusing all five scales (see the module comment);
    returns [hd1, hd2, hd3, hd4, hd5], full resolution first, hd5 being the encoder's
    deepest map."""

    def __init__(self):
        super().__init__()
        for level in range(UNET_3PLUS_LEVELS - 1, 0, -1):
            for source in range(1, UNET_3PLUS_LEVELS + 1):
                if source <= level or source == UNET_3PLUS_LEVELS:
                    in_channels = UNET_3PLUS_CHANNELS[source - 1]  # an encoder map
                else:
                    in_channels = UNET_3PLUS_UP_CHANNELS  # a decoder level
                squeeze = nn.Sequential(*conv_bn_relu_layers(in_channels, UNET_3PLUS_CAT_CHANNELS))
                setattr(self, unet_3plus_source_name(source, level), squeeze)
            fuse = nn.Sequential(
                *conv_bn_relu_layers(UNET_3PLUS_UP_CHANNELS, UNET_3PLUS_UP_CHANNELS)
            )
            setattr(self, f"cbr{level}d_1", fuse)

    def forward(self, encoded):
        # decoded[k - 1] is decoder level k once computed; level 5 is the encoder's
        decoded = [None] * (UNET_3PLUS_LEVELS - 1) + [encoded[-1]]
        for level in range(UNET_3PLUS_LEVELS - 1, 0, -1):
            size = paddle.shape(encoded[level - 1])[2:]
            scales = []
            for source in range(1, UNET_3PLUS_LEVELS + 1):
                if source < level:
                    # max-pool by 2^(level - source); ceil_mode as PaddleSeg
                    factor = 2 ** (level - source)
                    x = F.max_pool2d(encoded[source - 1], factor, factor, ceil_mode=True)
                elif source == level:
                    x = encoded[level - 1]
                else:
                    x = F.interpolate(decoded[source - 1], size, mode="bilinear")
                scales.append(getattr(self, unet_3plus_source_name(source, level))(x))
            fuse = getattr(self, f"cbr{level}d_1")
            decoded[level - 1] = fuse(paddle.concat(scales, axis=1))
        return decoded


class UNet3PlusDeepSupervision(nn.Layer):
    """A 3x3 classifier per decoder level (hd5: the deepest encoder map), each upsampled
    to the input; logits full-resolution level first."""

    def __init__(self, num_classes):
        super().__init__()
        self.outconv1 = nn.Conv2D(UNET_3PLUS_UP_CHANNELS, num_classes, 3, padding=1)
        for k in range(2, UNET_3PLUS_LEVELS + 1):
            channels = UNET_3PLUS_CHANNELS[-1] if k == UNET_3PLUS_LEVELS else UNET_3PLUS_UP_CHANNELS
            # a one-layer sequence: PaddleSeg's checkpoints name the conv `convup{k}.0`
            setattr(
                self, f"convup{k}", nn.Sequential(nn.Conv2D(channels, num_classes, 3, padding=1))
            )

    def forward(self, decoded, x):
        logits = [self.outconv1(decoded[0])]
        for k in range(2, UNET_3PLUS_LEVELS + 1):
            logits.append(getattr(self, f"convup{k}")(decoded[k - 1]))
        return logits[:1] + resize_to_input(logits[1:], x, align_corners=False)


class UNet3Plus(nn.Layer):
    """U-Net 3+: U-Net encoder, full-scale skip connections, 3x3 classifier.

    Returns [logits] at the input size; with `is_deepsup`, five logits (full-resolution
    level's first, then levels 2 to 5), in training and evaluation alike.
    """

    def __init__(self, num_classes, in_channels=3, is_batchnorm=True, is_deepsup=False):
        super().__init__()
        self.is_deepsup = is_deepsup
        self.encoder = UNet3PlusEncoder(in_channels, is_batchnorm)
        self.decoder = UNet3PlusDecoder()
        if is_deepsup:
            self.deepsup = UNet3PlusDeepSupervision(num_classes)
        else:
            self.outconv1 = nn.Conv2D(UNET_3PLUS_UP_CHANNELS, num_classes, 3, padding=1)
        kaiming_normal_conv_weights(self)

    def forward(self, x):
        decoded = self.decoder(self.encoder(x))
        if self.is_deepsup:
            return self.deepsup(decoded, x)
        return [self.outconv1(decoded[0])]
