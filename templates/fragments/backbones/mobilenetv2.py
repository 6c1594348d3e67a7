"""MobileNetV2 backbone: Sandler et al., "MobileNetV2: Inverted Residuals and Linear
Bottlenecks" (CVPR 2018), https://arxiv.org/abs/1801.04381.

The network is a strided 3x3 conv and seven stages of inverted residual units. A unit
widens its input t times with a 1x1 conv (ReLU6), filters each channel with a 3x3
depthwise conv (ReLU6) and projects back down with a linear 1x1 conv: the narrow
tensors between units carry the information, the wide ones only exist inside a unit,
and no ReLU destroys the low-dimensional projection (the "linear bottleneck"). A
unit that keeps the resolution and the width adds its input back.

`scale` multiplies every width (MobileNetV2_x1_0 is the paper's network). The
backbone returns the outputs of stages 2, 3, 5 and 7: 1/4, 1/8, 1/16 and 1/32 of the
input, with 24, 32, 96 and 320 channels at scale 1.

Sub-layer names (`conv1`, `conv2`... per stage, `_first_block`, `conv<stage>_<n>` for
a stage's later units, `_expand_conv`, `_bottleneck_conv`, `_linear_conv`) follow
PaddleSeg 2.8's MobileNetV2 so that its checkpoints load unchanged.
"""

import paddle.nn.functional as F
from paddle import nn

from ..layers.basic import ConvBN

# Each stage as (expansion t, output channels c, units n, stride of the first unit s),
# the paper's Table 2.
MOBILENETV2_STAGES = (
    (1, 16, 1, 1),
    (6, 24, 2, 2),  # 1/4
    (6, 32, 3, 2),  # 1/8
    (6, 64, 4, 2),
    (6, 96, 3, 1),  # 1/16
    (6, 160, 3, 2),
    (6, 320, 1, 1),  # 1/32
)
# The stages whose outputs the backbone returns (1/4, 1/8, 1/16, 1/32).
MOBILENETV2_OUTPUT_STAGES = (1, 2, 4, 6)


class MobileNetV2Unit(nn.Layer):
    """1x1 expansion (ReLU6), 3x3 depthwise conv with `stride` (ReLU6), linear 1x1
    projection; the caller says whether the input is added back (`shortcut`)."""

    def __init__(self, in_channels, out_channels, stride, expansion):
        super().__init__()
        wide = round(in_channels * expansion)
        self._expand_conv = ConvBN(in_channels, wide, 1, padding=0, bias_attr=False)
        self._bottleneck_conv = ConvBN(
            wide, wide, 3, padding=1, stride=stride, groups=wide, bias_attr=False
        )
        self._linear_conv = ConvBN(wide, out_channels, 1, padding=0, bias_attr=False)

    def forward(self, x, shortcut):
        y = F.relu6(self._expand_conv(x))
        y = F.relu6(self._bottleneck_conv(y))
        y = self._linear_conv(y)
        return x + y if shortcut else y


class MobileNetV2Stage(nn.Layer):
    """`units` inverted residual units: the first changes width and stride, the others
    keep both and add their input back."""

    def __init__(self, in_channels, out_channels, units, stride, expansion, name):
        super().__init__()
        self._first_block = MobileNetV2Unit(in_channels, out_channels, stride, expansion)
        self.later_units = []
        for index in range(2, units + 1):
            unit = MobileNetV2Unit(out_channels, out_channels, 1, expansion)
            # registered as "<stage name>_<n>", PaddleSeg's parameter names
            self.later_units.append(self.add_sublayer(f"{name}_{index}", unit))

    def forward(self, x):
        x = self._first_block(x, shortcut=False)
        for unit in self.later_units:
            x = unit(x, shortcut=True)
        return x


class MobileNetV2(nn.Layer):
    """MobileNetV2 feature extractor. forward(x) returns the 1/4, 1/8, 1/16 and 1/32
    feature maps; `feat_channels` lists their channels.

    Args:
        scale: width multiplier of every layer.
        in_channels: channels of the input image.
    """

    def __init__(self, scale=1.0, in_channels=3):
        super().__init__()
        self.scale = scale
        width = int(32 * scale)
        self.conv1 = ConvBN(in_channels, width, 3, padding=1, stride=2, bias_attr=False)
        self.stages = []
        for index, (expansion, channels, units, stride) in enumerate(MOBILENETV2_STAGES):
            name = f"conv{index + 2}"
            out_channels = int(channels * scale)
            stage = MobileNetV2Stage(width, out_channels, units, stride, expansion, name)
            self.stages.append(self.add_sublayer(name, stage))
            width = out_channels
        self.feat_channels = [
            int(MOBILENETV2_STAGES[i][1] * scale) for i in MOBILENETV2_OUTPUT_STAGES
        ]

    def forward(self, x):
        x = F.relu6(self.conv1(x))
        features = []
        for index, stage in enumerate(self.stages):
            x = stage(x)
            if index in MOBILENETV2_OUTPUT_STAGES:
                features.append(x)
        return features


def MobileNetV2_x0_25(**kwargs):
    return MobileNetV2(scale=0.25, **kwargs)


def MobileNetV2_x0_5(**kwargs):
    return MobileNetV2(scale=0.5, **kwargs)


def MobileNetV2_x0_75(**kwargs):
    return MobileNetV2(scale=0.75, **kwargs)


def MobileNetV2_x1_0(**kwargs):
    return MobileNetV2(scale=1.0, **kwargs)


def MobileNetV2_x1_5(**kwargs):
    return MobileNetV2(scale=1.5, **kwargs)


def MobileNetV2_x2_0(**kwargs):
    return MobileNetV2(scale=2.0, **kwargs)
