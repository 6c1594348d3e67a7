"""Dilated ResNet-vd backbone for semantic segmentation.

ResNet-vd is ResNet with the three tweaks of He et al., "Bag of Tricks for Image
Classification with Convolutional Neural Networks" (2019):
  * B: a bottleneck strides in its 3x3 conv, not in the first 1x1 (which would
    skip 3/4 of the input);
  * C: the 7x7 stem conv is replaced by three 3x3 convs;
  * D: a downsampling shortcut average-pools 2x2 first and then projects with a
    stride-1 1x1 conv, instead of a stride-2 1x1 conv that drops 3/4 of the input.

For segmentation the last stages trade stride for dilation so the features keep
a higher resolution (output stride 8 or 16) with the same receptive field.

Sub-layer names (`conv1_1`, `bb_<stage>_<block>`, `conv0`, `short`, ...) follow
PaddleSeg 2.8 so that its checkpoints load unchanged.
"""

import paddle.nn.functional as F
from paddle import nn

from ..layers.basic import ConvBN, ConvBNReLU

# Residual blocks in each of the four stages, by network depth.
RESNET_VD_STAGE_DEPTHS = {
    18: (2, 2, 2, 2),
    34: (3, 4, 6, 3),
    50: (3, 4, 6, 3),
    101: (3, 4, 23, 3),
    152: (3, 8, 36, 3),
}

# Dilation of the stages (0-based) that stop striding, by output stride. Each stage
# that keeps the resolution instead of halving it doubles its dilation, so its
# receptive field is what it would have been with the stride.
RESNET_VD_STAGE_DILATIONS = {
    8: {2: 2, 3: 4},
    16: {3: 2},
    None: {},
}


def resnet_vd_conv(in_channels, out_channels, kernel_size, stride=1, dilation=1, relu=True):
    """Bias-free conv + BN (+ ReLU), symmetrically padded.

    Explicit padding rather than "same": Paddle's "same" pads a strided conv only
    on the bottom/right, which shifts the sampling grid.
    """
    block = ConvBNReLU if relu else ConvBN
    return block(
        in_channels,
        out_channels,
        kernel_size,
        padding=dilation * (kernel_size - 1) // 2,
        stride=stride,
        dilation=dilation,
        bias_attr=False,
    )


def resnet_vd_shortcut_pool(stride):
    """The ResNet-D shortcut's 2x2 average pool of a strided block, else None.

    A layer rather than F.avg_pool2d: paddle.flops counts layers only, and the model
    zoo's GFLOPs (PaddleSeg's ResNet-vd has this layer) include the pooling.
    """
    return nn.AvgPool2D(kernel_size=2, stride=2, ceil_mode=True) if stride > 1 else None


def resnet_vd_shortcut(x, short, pool):
    """Residual branch input: identity, or (ResNet-D) 2x2 avg pool then 1x1 projection."""
    if short is None:
        return x
    if pool is not None:
        x = pool(x)
    return short(x)


class ResNetVdBasicBlock(nn.Layer):
    """Two 3x3 convs plus a shortcut (ResNet-18/34)."""

    expansion = 1

    def __init__(self, in_channels, channels, stride=1, dilation=1, project=False):
        super().__init__()
        self.pool = resnet_vd_shortcut_pool(stride)
        self.conv0 = resnet_vd_conv(in_channels, channels, 3, stride, dilation)
        self.conv1 = resnet_vd_conv(channels, channels, 3, dilation=dilation, relu=False)
        self.short = resnet_vd_conv(in_channels, channels, 1, relu=False) if project else None

    def forward(self, x):
        y = self.conv1(self.conv0(x))
        return F.relu(y + resnet_vd_shortcut(x, self.short, self.pool))


class ResNetVdBottleneck(nn.Layer):
    """1x1 reduce, 3x3 (strided / dilated), 1x1 expand x4, plus a shortcut (ResNet-50+)."""

    expansion = 4

    def __init__(self, in_channels, channels, stride=1, dilation=1, project=False):
        super().__init__()
        out_channels = channels * self.expansion
        self.pool = resnet_vd_shortcut_pool(stride)
        self.conv0 = resnet_vd_conv(in_channels, channels, 1)
        self.conv1 = resnet_vd_conv(channels, channels, 3, stride, dilation)
        self.conv2 = resnet_vd_conv(channels, out_channels, 1, relu=False)
        self.short = resnet_vd_conv(in_channels, out_channels, 1, relu=False) if project else None

    def forward(self, x):
        y = self.conv2(self.conv1(self.conv0(x)))
        return F.relu(y + resnet_vd_shortcut(x, self.short, self.pool))


class ResNet_vd(nn.Layer):
    """Dilated ResNet-vd; `forward` returns the output of each of the four stages.

    Args:
        layers: depth, one of RESNET_VD_STAGE_DEPTHS.
        output_stride: 8, 16, or None (no dilation, stride 32).
        multi_grid: per-block dilation multipliers of the last stage.
        in_channels: channels of the input image.
    """

    def __init__(self, layers=50, output_stride=8, multi_grid=(1, 1, 1), in_channels=3):
        super().__init__()
        if layers not in RESNET_VD_STAGE_DEPTHS:
            raise ValueError(
                f"ResNet_vd layers must be one of {sorted(RESNET_VD_STAGE_DEPTHS)}, got {layers}"
            )
        if output_stride not in RESNET_VD_STAGE_DILATIONS:
            raise ValueError(f"ResNet_vd output_stride must be 8, 16 or None, got {output_stride}")
        block_type = ResNetVdBottleneck if layers >= 50 else ResNetVdBasicBlock
        stage_dilations = RESNET_VD_STAGE_DILATIONS[output_stride]

        # Deep stem (ResNet-C): three 3x3 convs, then max pool; stride 4 in total.
        self.conv1_1 = resnet_vd_conv(in_channels, 32, 3, stride=2)
        self.conv1_2 = resnet_vd_conv(32, 32, 3)
        self.conv1_3 = resnet_vd_conv(32, 64, 3)
        self.pool2d_max = nn.MaxPool2D(kernel_size=3, stride=2, padding=1)

        # Blocks are registered flat as `bb_<stage>_<block>` (the checkpoint names);
        # `stages` only groups them for forward.
        self.stages = []
        self.feat_channels = []
        channels = 64
        for stage, depth in enumerate(RESNET_VD_STAGE_DEPTHS[layers]):
            width = 64 * 2**stage
            blocks = []
            for i in range(depth):
                dilation = stage_dilations.get(stage, 1)
                if stage == 3:
                    dilation *= multi_grid[i]
                # Stages 2-4 halve the resolution in their first block, unless dilated.
                stride = 2 if i == 0 and stage > 0 and dilation == 1 else 1
                block = block_type(channels, width, stride, dilation, project=i == 0)
                blocks.append(self.add_sublayer(f"bb_{stage}_{i}", block))
                channels = width * block_type.expansion
            self.stages.append(blocks)
            self.feat_channels.append(channels)

    def forward(self, x):
        return self.forward_with_stem(x)[1]

    def forward_with_stem(self, x):
        """(the deep stem's output before max pooling, at 1/2 resolution; the four
        stages' outputs): GSCNN's shape stream starts from the stem."""
        stem = self.conv1_3(self.conv1_2(self.conv1_1(x)))
        x = self.pool2d_max(stem)
        feats = []
        for blocks in self.stages:
            for block in blocks:
                x = block(x)
            feats.append(x)
        return stem, feats


def ResNet18_vd(**kwargs):
    return ResNet_vd(layers=18, **kwargs)


def ResNet34_vd(**kwargs):
    return ResNet_vd(layers=34, **kwargs)


def ResNet50_vd(**kwargs):
    return ResNet_vd(layers=50, **kwargs)


def ResNet101_vd(**kwargs):
    return ResNet_vd(layers=101, **kwargs)
