"""PP-HumanSeg-Lite: PaddleSeg's ultra-light portrait (human) segmentation model for
real-time use on the web and mobile devices; PaddleSeg, "PP-HumanSeg: Connectivity-
Aware Portrait Segmentation with a Large-Scale Teleconferencing Video Dataset" (Chu et
al., WACV workshops 2022) describes the family.

No separate backbone, 0.24 M parameters. The encoder is ShuffleNetV2-like (Ma et al.,
ECCV 2018): a stride-2 3x3 conv and a max pooling take the image to 1/4, then units
that split the channels in two, transform one half by 1x1 and depthwise-separable
convs, concatenate it back with the other half (or with a downsampled copy of the
whole input when the unit halves the resolution) and shuffle the channels so that the
halves mix in the next unit; 1/8 after four units, 1/16 after eight more. The decoder
upsamples the 1/16 features to the 1/2 resolution of the first conv, concatenates a
1x1 projection of that conv's output (a skip connection for detail), and two
separable convs give the class scores, bilinearly resized to the input.

Attribute names (`conv_bn0`, `conv_bn1`, `block1`, `block2`, `depthwise_separable0`,
..., `_depthwise_separable_0`, `_conv`, `piontwise_conv`) follow PaddleSeg 2.8's
`PPHumanSegLite` so that its checkpoints load unchanged; its layers are
`layers/basic.py`'s ConvBNReLU and SeparableConvBNReLU, which have PaddleSeg's names.
"""

import paddle
import paddle.nn.functional as F
from paddle import nn

from ..layers.basic import ConvBNReLU, SeparableConvBNReLU, resize_to_input

# Channels: the first conv, its skip projection, the two encoder stages, the decoder.
HUMANSEG_STEM_CHANNELS = 36
HUMANSEG_SKIP_CHANNELS = 18
HUMANSEG_STAGE1_CHANNELS = 72
HUMANSEG_STAGE2_CHANNELS = 144
HUMANSEG_DECODER_CHANNELS = 64
# Units per encoder stage (the first one of each halves the resolution).
HUMANSEG_STAGE1_UNITS = 4
HUMANSEG_STAGE2_UNITS = 8


def humanseg_separable(in_channels, out_channels, stride=1):
    """3x3 depthwise conv + BN, then 1x1 pointwise conv + BN + ReLU; no biases, and
    padding 1 (not 'same', which pads a stride-2 conv unevenly)."""
    return SeparableConvBNReLU(
        in_channels,
        out_channels,
        3,
        padding=1,
        pointwise_bias=False,
        stride=stride,
        bias_attr=False,
    )


def channel_shuffle(x, groups):
    """Interleave the channels of `groups` equal groups (ShuffleNet's channel shuffle),
    so that the next unit's split mixes the groups."""
    shape = paddle.shape(x)
    height, width = shape[2], shape[3]
    channels_per_group = x.shape[1] // groups
    x = paddle.reshape(x, [0, groups, channels_per_group, height, width])
    x = paddle.transpose(x, [0, 2, 1, 3, 4])
    return paddle.reshape(x, [0, groups * channels_per_group, height, width])


class HumanSegShuffleUnit(nn.Layer):
    """ShuffleNetV2 unit (PaddleSeg's InvertedResidual).

    Stride 1: split the channels in half; one half goes through a 1x1 ConvBNReLU and a
    separable conv, the other is kept; concatenate, shuffle. Stride 2: the whole input
    feeds both branches, one a strided separable conv (`_depthwise_separable_0`), the
    other the 1x1 conv and a strided separable conv; the output has `out_channels`
    (default: twice the input's).

    `_depthwise_separable_0` exists at stride 1 too, unused, as in PaddleSeg (its
    checkpoints hold it).
    """

    def __init__(self, in_channels, stride, out_channels=None):
        super().__init__()
        self.stride = stride
        branch_in = in_channels // 2 if stride == 1 else in_channels
        if out_channels is None:
            self.branch_channels = branch_in
        else:
            self.branch_channels = out_channels // 2
        self._depthwise_separable_0 = humanseg_separable(
            in_channels, self.branch_channels, stride=stride
        )
        self._conv = ConvBNReLU(branch_in, self.branch_channels, 1, padding=0, bias_attr=False)
        self._depthwise_separable_1 = humanseg_separable(
            self.branch_channels, self.branch_channels, stride=stride
        )

    def forward(self, x):
        if self.stride == 1:
            kept, branch = paddle.split(x, num_or_sections=2, axis=1)
        else:
            kept, branch = self._depthwise_separable_0(x), x
        branch = self._depthwise_separable_1(self._conv(branch))
        return channel_shuffle(paddle.concat([kept, branch], axis=1), 2)


class PPHumanSegLite(nn.Layer):
    """PP-HumanSeg-Lite. forward(x) returns [logits] resized to x's height and width,
    in training and evaluation alike."""

    def __init__(self, num_classes, in_channels=3, align_corners=False):
        super().__init__()
        self.align_corners = align_corners
        stem, skip = HUMANSEG_STEM_CHANNELS, HUMANSEG_SKIP_CHANNELS
        stage1, stage2 = HUMANSEG_STAGE1_CHANNELS, HUMANSEG_STAGE2_CHANNELS
        decoder = HUMANSEG_DECODER_CHANNELS
        self.conv_bn0 = ConvBNReLU(in_channels, stem, 3, padding=1, stride=2, bias_attr=False)
        self.conv_bn1 = ConvBNReLU(stem, skip, 1, padding=0, bias_attr=False)
        self.block1 = nn.Sequential(
            HumanSegShuffleUnit(stem, stride=2, out_channels=stage1),
            *[HumanSegShuffleUnit(stage1, stride=1) for _ in range(HUMANSEG_STAGE1_UNITS - 1)],
        )
        self.block2 = nn.Sequential(
            HumanSegShuffleUnit(stage1, stride=2),
            *[HumanSegShuffleUnit(stage2, stride=1) for _ in range(HUMANSEG_STAGE2_UNITS - 1)],
        )
        self.depthwise_separable0 = humanseg_separable(stage2, decoder)
        self.depthwise_separable1 = humanseg_separable(decoder + skip, decoder)
        self.depthwise_separable2 = humanseg_separable(decoder, num_classes)
        # PaddleSeg's initialisation: conv weights ~ N(0, 0.001^2); BN weight 1, bias 0
        # (Paddle's defaults).
        for layer in self.sublayers():
            if isinstance(layer, nn.Conv2D):
                nn.initializer.Normal(std=0.001)(layer.weight)

    def forward(self, x):
        features = self.conv_bn0(x)  # 1/2
        skip = self.conv_bn1(features)
        features = F.max_pool2d(features, kernel_size=3, stride=2, padding=1)  # 1/4
        features = self.block2(self.block1(features))  # 1/16
        features = self.depthwise_separable0(features)
        features = F.interpolate(
            features,
            paddle.shape(skip)[2:],
            mode="bilinear",
            align_corners=self.align_corners,
        )
        features = self.depthwise_separable1(paddle.concat([skip, features], axis=1))
        logits = self.depthwise_separable2(features)
        return resize_to_input([logits], x, self.align_corners)
