"""DDRNet: Hong et al., "Deep Dual-resolution Networks for Real-time and Accurate Semantic
Segmentation of Road Scenes" (2021), https://arxiv.org/abs/2101.06085.

No separate backbone. After a ResNet-style stem and two stages (1/8 resolution) the
network splits in two branches: a high-resolution branch that stays at 1/8 and keeps
spatial detail, and a low-resolution branch that keeps halving (1/16, 1/32, 1/64) to
gather context. After the third and the fourth stage the branches exchange
information both ways ("bilateral fusion"): the high branch is brought down by strided
3x3 convs and added to the low one, the low branch is squeezed by a 1x1 conv,
upsampled and added to the high one. The low branch ends in DAPPM (Deep Aggregation
Pyramid Pooling Module): average pools of growing size (5, 9, 17 and global), each
upsampled, added to the previous scale's result and refined by a 3x3 conv, so that
the scales build on one another; its output, upsampled to 1/8, is added to the high
branch and a small head classifies. Stage outputs leave out their last ReLU: the
fusions add pre-activation features, and each consumer applies the ReLU itself.

DDRNet-23 has two basic residual blocks per stage, 64 base channels (128 on the high
branch), 128-channel DAPPM branches and a 128-channel head; with
`enable_auxiliary_loss`, a second head on the high branch after the third-stage
fusion adds deep supervision (it runs in evaluation too, as in PaddleSeg).

Input size: PaddleSeg's model resizes the fused maps to (H // 8, W // 8) while its
strided convs give ceil(H / 8) x ceil(W / 8), so it needs height and width multiples
of 8. This one resizes to the high branch's actual size instead: the same where
PaddleSeg's runs, and any input size works (every pool in DAPPM is padded to keep at
least one cell, even on the 1x2 map that a 64x128 input leaves at 1/64).

Attribute names (`conv1`, `layer1`...`layer5`, `layer3_`...`layer5_`, `compression3`,
`down3`, `spp.scale0`..., `head.bn1`, `aux_head`) and the layer order inside each
`nn.Sequential` follow PaddleSeg 2.8 so that its checkpoints load unchanged.
"""

import paddle
import paddle.nn.functional as F
from paddle import nn

from ..layers.basic import ConvBN, ConvBNReLU, resize_to_input


class DDRNetBasicBlock(nn.Layer):
    """ResNet basic block: two 3x3 convs and the identity (or a 1x1 projection)."""

    expansion = 1

    def __init__(self, in_channels, channels, stride=1, downsample=None, no_relu=False):
        super().__init__()
        self.conv_bn_relu = ConvBNReLU(
            in_channels, channels, 3, stride=stride, padding=1, bias_attr=False
        )
        self.conv_bn = ConvBN(channels, channels, 3, padding=1, bias_attr=False)
        self.downsample = downsample
        self.no_relu = no_relu

    def forward(self, x):
        shortcut = x if self.downsample is None else self.downsample(x)
        out = self.conv_bn(self.conv_bn_relu(x)) + shortcut
        return out if self.no_relu else F.relu(out)


class DDRNetBottleneck(nn.Layer):
    """ResNet bottleneck: 1x1 reduce, 3x3, 1x1 expand (x2) and the shortcut."""

    expansion = 2

    def __init__(self, in_channels, channels, stride=1, downsample=None, no_relu=True):
        super().__init__()
        self.conv_bn_relu1 = ConvBNReLU(in_channels, channels, 1, bias_attr=False)
        self.conv_bn_relu2 = ConvBNReLU(
            channels, channels, 3, stride=stride, padding=1, bias_attr=False
        )
        self.conv_bn = ConvBN(channels, channels * self.expansion, 1, bias_attr=False)
        self.downsample = downsample
        self.no_relu = no_relu

    def forward(self, x):
        shortcut = x if self.downsample is None else self.downsample(x)
        out = self.conv_bn(self.conv_bn_relu2(self.conv_bn_relu1(x))) + shortcut
        return out if self.no_relu else F.relu(out)


def ddrnet_stage(block, in_channels, channels, num_blocks, stride=1):
    """`num_blocks` residual blocks; the first changes stride and width (with a 1x1
    conv + BN projection on its shortcut when either changes), the last leaves out its
    ReLU (the stage's consumers apply it)."""
    out_channels = channels * block.expansion
    downsample = None
    if stride != 1 or in_channels != out_channels:
        downsample = nn.Sequential(
            nn.Conv2D(in_channels, out_channels, 1, stride=stride, bias_attr=False),
            nn.BatchNorm2D(out_channels),
        )
    blocks = []
    for i in range(num_blocks):
        blocks.append(
            block(
                in_channels if i == 0 else out_channels,
                channels,
                stride=stride if i == 0 else 1,
                downsample=downsample if i == 0 else None,
                no_relu=i == num_blocks - 1,
            )
        )
    return nn.Sequential(*blocks)


def ddrnet_bn_relu_conv(in_channels, out_channels, kernel_size, pool=None):
    """[pool,] BN, ReLU, conv without bias: the pre-activation unit DAPPM is built of."""
    layers = [] if pool is None else [pool]
    layers += [
        nn.BatchNorm2D(in_channels),
        nn.ReLU(),
        nn.Conv2D(
            in_channels, out_channels, kernel_size, padding=kernel_size // 2, bias_attr=False
        ),
    ]
    return nn.Sequential(*layers)


class DAPPM(nn.Layer):
    """Deep Aggregation Pyramid Pooling Module.

    scale0 is the input itself (1x1 conv); scale1-3 average-pool it with kernels 5, 9,
    17 (strides 2, 4, 8, padded to keep the size from dropping below one cell) and
    scale4 globally. Each pooled scale is upsampled, added to the previous scale's
    refined map and refined by a 3x3 conv (process1-4); the five maps are concatenated,
    compressed by a 1x1 conv and added to a 1x1 projection of the input (shortcut).
    """

    def __init__(self, in_channels, branch_channels, out_channels):
        super().__init__()
        self.scale1 = ddrnet_bn_relu_conv(
            in_channels, branch_channels, 1, nn.AvgPool2D(kernel_size=5, stride=2, padding=2)
        )
        self.scale2 = ddrnet_bn_relu_conv(
            in_channels, branch_channels, 1, nn.AvgPool2D(kernel_size=9, stride=4, padding=4)
        )
        self.scale3 = ddrnet_bn_relu_conv(
            in_channels, branch_channels, 1, nn.AvgPool2D(kernel_size=17, stride=8, padding=8)
        )
        self.scale4 = ddrnet_bn_relu_conv(
            in_channels, branch_channels, 1, nn.AdaptiveAvgPool2D((1, 1))
        )
        self.scale0 = ddrnet_bn_relu_conv(in_channels, branch_channels, 1)
        self.process1 = ddrnet_bn_relu_conv(branch_channels, branch_channels, 3)
        self.process2 = ddrnet_bn_relu_conv(branch_channels, branch_channels, 3)
        self.process3 = ddrnet_bn_relu_conv(branch_channels, branch_channels, 3)
        self.process4 = ddrnet_bn_relu_conv(branch_channels, branch_channels, 3)
        self.compression = ddrnet_bn_relu_conv(branch_channels * 5, out_channels, 1)
        self.shortcut = ddrnet_bn_relu_conv(in_channels, out_channels, 1)

    def forward(self, x):
        size = paddle.shape(x)[2:]
        scales = [self.scale0(x)]
        for pool, process in (
            (self.scale1, self.process1),
            (self.scale2, self.process2),
            (self.scale3, self.process3),
            (self.scale4, self.process4),
        ):
            pooled = F.interpolate(pool(x), size, mode="bilinear")
            scales.append(process(pooled + scales[-1]))
        return self.compression(paddle.concat(scales, axis=1)) + self.shortcut(x)


class DDRNetHead(nn.Layer):
    """BN, ReLU, 3x3 ConvBNReLU, 1x1 classifier (with bias)."""

    def __init__(self, in_channels, channels, num_classes):
        super().__init__()
        self.bn1 = nn.BatchNorm2D(in_channels)
        self.conv_bn_relu = ConvBNReLU(in_channels, channels, 3, padding=1, bias_attr=False)
        self.conv = nn.Conv2D(channels, num_classes, 1)

    def forward(self, x):
        return self.conv(self.conv_bn_relu(F.relu(self.bn1(x))))


class DualResNet(nn.Layer):
    """The dual-resolution network. In training and evaluation alike it returns [logits]
    at the input size, then the auxiliary head's logits with `enable_auxiliary_loss`.

    Args:
        num_classes: number of classes.
        in_channels: channels of the input image.
        block_layers: basic blocks in each of the four stages.
        planes: base width (stage widths planes x 1, 2, 4, 8; the high branch planes x 2).
        spp_planes: width of DAPPM's branches.
        head_planes: width of the heads' 3x3 conv.
        enable_auxiliary_loss: add the auxiliary head on the high branch.
    """

    def __init__(
        self,
        num_classes,
        in_channels=3,
        block_layers=(2, 2, 2, 2),
        planes=64,
        spp_planes=128,
        head_planes=128,
        enable_auxiliary_loss=False,
    ):
        super().__init__()
        high = planes * 2  # the high-resolution branch's width
        self.enable_auxiliary_loss = enable_auxiliary_loss
        # stem: two stride-2 3x3 convs, 1/4 resolution
        self.conv1 = nn.Sequential(
            ConvBNReLU(in_channels, planes, 3, stride=2, padding=1),
            ConvBNReLU(planes, planes, 3, stride=2, padding=1),
        )
        self.layer1 = ddrnet_stage(DDRNetBasicBlock, planes, planes, block_layers[0])
        self.layer2 = ddrnet_stage(DDRNetBasicBlock, planes, planes * 2, block_layers[1], 2)
        # low-resolution branch: 1/16, 1/32, then 1/64 before DAPPM
        self.layer3 = ddrnet_stage(DDRNetBasicBlock, planes * 2, planes * 4, block_layers[2], 2)
        self.layer4 = ddrnet_stage(DDRNetBasicBlock, planes * 4, planes * 8, block_layers[3], 2)
        # bilateral fusion: low -> high (1x1 conv, then upsampling), high -> low (strided)
        self.compression3 = ConvBN(planes * 4, high, 1, bias_attr=False)
        self.compression4 = ConvBN(planes * 8, high, 1, bias_attr=False)
        self.down3 = ConvBN(high, planes * 4, 3, stride=2, bias_attr=False)
        self.down4 = nn.Sequential(
            ConvBNReLU(high, planes * 4, 3, stride=2, padding=1, bias_attr=False),
            ConvBN(planes * 4, planes * 8, 3, stride=2, padding=1, bias_attr=False),
        )
        # high-resolution branch, 1/8 throughout
        self.layer3_ = ddrnet_stage(DDRNetBasicBlock, planes * 2, high, 2)
        self.layer4_ = ddrnet_stage(DDRNetBasicBlock, high, high, 2)
        self.layer5_ = ddrnet_stage(DDRNetBottleneck, high, high, 1)
        self.layer5 = ddrnet_stage(DDRNetBottleneck, planes * 8, planes * 8, 1, 2)
        self.spp = DAPPM(planes * 16, spp_planes, planes * 4)
        if enable_auxiliary_loss:
            self.aux_head = DDRNetHead(high, head_planes, num_classes)
        self.head = DDRNetHead(planes * 4, head_planes, num_classes)
        self.init_weight()

    def init_weight(self):
        # PaddleSeg's initialisation: Kaiming-normal conv weights; BN weight 1, bias 0
        # (Paddle's defaults).
        for layer in self.sublayers():
            if isinstance(layer, nn.Conv2D):
                nn.initializer.KaimingNormal()(layer.weight)

    def forward(self, x):
        x1 = self.layer1(self.conv1(x))
        x2 = F.relu(self.layer2(F.relu(x1)))
        low = self.layer3(x2)
        high = self.layer3_(x2)
        size = paddle.shape(high)[2:]  # 1/8 of the input, rounded up
        low, high = (
            low + self.down3(F.relu(high)),
            high + F.interpolate(self.compression3(F.relu(low)), size, mode="bilinear"),
        )
        high_stage3 = high  # what the auxiliary head reads

        low = self.layer4(F.relu(low))
        high = self.layer4_(F.relu(high))
        low, high = (
            low + self.down4(F.relu(high)),
            high + F.interpolate(self.compression4(F.relu(low)), size, mode="bilinear"),
        )

        high = self.layer5_(F.relu(high))
        low = F.interpolate(self.spp(self.layer5(F.relu(low))), size, mode="bilinear")
        logits = [self.head(low + high)]
        if self.enable_auxiliary_loss:
            logits.append(self.aux_head(high_stage3))
        return resize_to_input(logits, x, align_corners=False)


def DDRNet_23(**kwargs):
    """DDRNet-23: two basic blocks per stage, 64 base channels, 128-channel DAPPM and head."""
    return DualResNet(
        block_layers=(2, 2, 2, 2), planes=64, spp_planes=128, head_planes=128, **kwargs
    )
