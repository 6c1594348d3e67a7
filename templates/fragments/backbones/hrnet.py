"""HRNet backbone: Wang et al., "Deep High-Resolution Representation Learning for
Visual Recognition" (TPAMI 2020).

A stride-4 stem and four bottlenecks feed a network that keeps its highest-resolution
branch to the end. Each later stage adds a branch at half the resolution and twice
the channels of the previous lowest one; inside a stage, modules of per-branch
residual blocks alternate with fusions in which every branch receives the sum of all
branches resampled to its resolution. The output is all four branches upsampled to
the 1/4-resolution branch and concatenated.

Sub-layer names (`la1`, `tr1`, `st2`, `stage_st2_1`, `branches_func`, `fuse_func`,
`residual_st2_1_layer_2_1_1`, ...) follow PaddleSeg 2.8 so that its checkpoints load
unchanged.
"""

import paddle
import paddle.nn.functional as F
from paddle import nn

from ..layers.basic import ConvBN, ConvBNReLU

# Modules per stage for stages 2, 3 and 4 (stage 1 is four bottlenecks) of the
# standard HRNet-W<width> family; every branch of every module has four basic blocks.
HRNET_STAGE_MODULES = (1, 4, 3)
HRNET_BLOCKS_PER_BRANCH = 4


def hrnet_conv(in_channels, out_channels, kernel_size, stride=1, relu=True, padding_same=True):
    """Bias-free conv + BN (+ ReLU).

    padding_same=True pads as Paddle's "same" does, which for a strided conv pads only
    bottom/right: PaddleSeg's HRNet checkpoints were trained that way. False pads
    symmetrically (kernel_size // 2).
    """
    block = ConvBNReLU if relu else ConvBN
    padding = "same" if padding_same else (kernel_size - 1) // 2
    return block(
        in_channels, out_channels, kernel_size, padding=padding, stride=stride, bias_attr=False
    )


def hrnet_uniform_attr(fan_in):
    """Weights drawn from U(-1/sqrt(fan_in), 1/sqrt(fan_in)), as PaddleSeg's SE layers."""
    bound = 1.0 / fan_in**0.5
    return paddle.ParamAttr(initializer=nn.initializer.Uniform(-bound, bound))


class HRNetSqueezeExcitation(nn.Layer):
    """Channel attention: global average pool, FC down by `reduction`, ReLU, FC, sigmoid,
    rescale the input's channels."""

    def __init__(self, channels, reduction=16):
        super().__init__()
        hidden = int(channels / reduction)
        self.squeeze = nn.Linear(channels, hidden, weight_attr=hrnet_uniform_attr(channels))
        self.excitation = nn.Linear(hidden, channels, weight_attr=hrnet_uniform_attr(hidden))

    def forward(self, x):
        w = F.adaptive_avg_pool2d(x, 1).flatten(1)
        w = F.sigmoid(self.excitation(F.relu(self.squeeze(w))))
        return x * w.unsqueeze([2, 3])


class HRNetBottleneck(nn.Layer):
    """1x1 reduce, 3x3, 1x1 expand x4 (+ SE), plus a shortcut; 1x1 projection when
    `project`. Stage 1 only."""

    expansion = 4

    def __init__(self, in_channels, channels, has_se=False, project=False, padding_same=True):
        super().__init__()
        out_channels = channels * self.expansion
        self.conv1 = hrnet_conv(in_channels, channels, 1)
        self.conv2 = hrnet_conv(channels, channels, 3, padding_same=padding_same)
        self.conv3 = hrnet_conv(channels, out_channels, 1, relu=False)
        self.conv_down = hrnet_conv(in_channels, out_channels, 1, relu=False) if project else None
        self.se = HRNetSqueezeExcitation(out_channels) if has_se else None

    def forward(self, x):
        y = self.conv3(self.conv2(self.conv1(x)))
        if self.se is not None:
            y = self.se(y)
        shortcut = x if self.conv_down is None else self.conv_down(x)
        return F.relu(y + shortcut)


class HRNetBasicBlock(nn.Layer):
    """Two 3x3 convs (+ SE) plus an identity shortcut: the blocks of every branch."""

    def __init__(self, in_channels, channels, has_se=False, padding_same=True):
        super().__init__()
        self.conv1 = hrnet_conv(in_channels, channels, 3, padding_same=padding_same)
        self.conv2 = hrnet_conv(channels, channels, 3, relu=False, padding_same=padding_same)
        self.se = HRNetSqueezeExcitation(channels) if has_se else None

    def forward(self, x):
        y = self.conv2(self.conv1(x))
        if self.se is not None:
            y = self.se(y)
        return F.relu(y + x)


class HRNetTransition(nn.Layer):
    """Between stages: branch i keeps its input (a 3x3 ConvBNReLU if the width changes);
    each new branch is a strided 3x3 ConvBNReLU of the lowest-resolution input."""

    def __init__(self, in_channels, out_channels, name, padding_same=True):
        super().__init__()
        self.convs = []
        for i, channels in enumerate(out_channels):
            conv = None
            if i >= len(in_channels):
                conv = hrnet_conv(in_channels[-1], channels, 3, stride=2, padding_same=padding_same)
            elif in_channels[i] != channels:
                conv = hrnet_conv(in_channels[i], channels, 3, padding_same=padding_same)
            if conv is not None:
                self.add_sublayer(f"transition_{name}_layer_{i + 1}", conv)
            self.convs.append(conv)

    def forward(self, feats):
        outs = []
        for i, conv in enumerate(self.convs):
            x = feats[min(i, len(feats) - 1)]
            outs.append(x if conv is None else conv(x))
        return outs


class HRNetBranches(nn.Layer):
    """Each branch runs its own sequence of basic blocks."""

    def __init__(self, channels, num_blocks, name, has_se=False, padding_same=True):
        super().__init__()
        self.branches = []
        for i, width in enumerate(channels):
            blocks = []
            for j in range(num_blocks):
                block = HRNetBasicBlock(width, width, has_se, padding_same)
                blocks.append(self.add_sublayer(f"bb_{name}_branch_layer_{i + 1}_{j + 1}", block))
            self.branches.append(blocks)

    def forward(self, feats):
        outs = []
        for x, blocks in zip(feats, self.branches):
            for block in blocks:
                x = block(x)
            outs.append(x)
        return outs


class HRNetFuse(nn.Layer):
    """Output i = ReLU(sum over branches j of branch j brought to branch i's resolution):
    j = i as is; a lower-resolution j by 1x1 ConvBN then bilinear upsampling; a
    higher-resolution j by i - j strided 3x3 convs (ConvBNReLU keeping j's width,
    then a last ConvBN to i's width)."""

    def __init__(self, channels, name, align_corners=False, padding_same=True):
        super().__init__()
        self.align_corners = align_corners
        # self.paths[i][j]: the layers taking branch j to branch i (empty for j == i).
        self.paths = []
        for i, out_width in enumerate(channels):
            row = []
            for j, in_width in enumerate(channels):
                path = []
                if j > i:
                    path.append(
                        self.add_sublayer(
                            f"residual_{name}_layer_{i + 1}_{j + 1}",
                            hrnet_conv(in_width, out_width, 1, relu=False),
                        )
                    )
                for k in range(i - j):
                    last = k == i - j - 1
                    conv = hrnet_conv(
                        in_width,
                        out_width if last else in_width,
                        3,
                        stride=2,
                        relu=not last,
                        padding_same=padding_same,
                    )
                    path.append(
                        self.add_sublayer(f"residual_{name}_layer_{i + 1}_{j + 1}_{k + 1}", conv)
                    )
                row.append(path)
            self.paths.append(row)

    def forward(self, feats):
        outs = []
        for i, row in enumerate(self.paths):
            out = feats[i]
            size = paddle.shape(out)[2:]
            for j, path in enumerate(row):
                if j == i:
                    continue
                y = feats[j]
                for conv in path:
                    y = conv(y)
                if j > i:
                    y = F.interpolate(y, size, mode="bilinear", align_corners=self.align_corners)
                out = out + y
            outs.append(F.relu(out))
        return outs


class HRNetModule(nn.Layer):
    """One high-resolution module: per-branch blocks, then the multi-resolution fusion."""

    def __init__(
        self, channels, num_blocks, name, has_se=False, align_corners=False, padding_same=True
    ):
        super().__init__()
        self.branches_func = HRNetBranches(channels, num_blocks, name, has_se, padding_same)
        self.fuse_func = HRNetFuse(channels, name, align_corners, padding_same)

    def forward(self, feats):
        return self.fuse_func(self.branches_func(feats))


class HRNet(nn.Layer):
    """HRNet-W<width>; `forward` returns [all branches upsampled to 1/4 resolution and
    concatenated], one feature map of `feat_channels[0]` = 15 * width channels.

    Args:
        width: channels of the highest-resolution branch; branch b has width * 2**b.
        in_channels: channels of the input image.
        has_se: add squeeze-and-excitation to every residual block.
        align_corners: F.interpolate's align_corners for every upsampling.
        padding_same: Paddle "same" padding (PaddleSeg's default and its checkpoints')
            rather than symmetric padding.
    """

    def __init__(
        self, width=18, in_channels=3, has_se=False, align_corners=False, padding_same=True
    ):
        super().__init__()
        self.align_corners = align_corners

        # Stem: two strided 3x3 convs (stride 4), then four bottlenecks at 64 -> 256 channels.
        self.conv_layer1_1 = hrnet_conv(in_channels, 64, 3, stride=2, padding_same=padding_same)
        self.conv_layer1_2 = hrnet_conv(64, 64, 3, stride=2, padding_same=padding_same)
        self.la1 = nn.Sequential(
            *[
                (
                    f"bb_layer2_{i + 1}",
                    HRNetBottleneck(
                        64 if i == 0 else 256, 64, has_se, project=i == 0, padding_same=padding_same
                    ),
                )
                for i in range(4)
            ]
        )

        # Stages 2-4, each preceded by a transition that adds one lower-resolution branch.
        channels = [256]
        for stage, num_modules in enumerate(HRNET_STAGE_MODULES, start=2):
            widths = [width * 2**b for b in range(stage)]
            transition = HRNetTransition(channels, widths, f"tr{stage - 1}", padding_same)
            self.add_sublayer(f"tr{stage - 1}", transition)
            modules = nn.Sequential(
                *[
                    (
                        f"stage_st{stage}_{m + 1}",
                        HRNetModule(
                            widths,
                            HRNET_BLOCKS_PER_BRANCH,
                            f"st{stage}_{m + 1}",
                            has_se,
                            align_corners,
                            padding_same,
                        ),
                    )
                    for m in range(num_modules)
                ]
            )
            self.add_sublayer(f"st{stage}", modules)
            channels = widths
        self.feat_channels = [sum(channels)]
        self.init_weight()

    def init_weight(self):
        # PaddleSeg's initialisation: conv weights ~ N(0, 0.001^2); BN keeps weight 1, bias 0.
        for layer in self.sublayers():
            if isinstance(layer, nn.Conv2D):
                nn.initializer.Normal(std=0.001)(layer.weight)

    def forward(self, x):
        x = self.la1(self.conv_layer1_2(self.conv_layer1_1(x)))
        feats = self.st2(self.tr1([x]))
        feats = self.st3(self.tr2(feats))
        feats = self.st4(self.tr3(feats))
        size = paddle.shape(feats[0])[2:]
        upsampled = [
            F.interpolate(f, size, mode="bilinear", align_corners=self.align_corners)
            for f in feats[1:]
        ]
        return [paddle.concat([feats[0]] + upsampled, axis=1)]


def HRNet_W18(**kwargs):
    return HRNet(width=18, **kwargs)


def HRNet_W48(**kwargs):
    return HRNet(width=48, **kwargs)
