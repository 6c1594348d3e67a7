"""U-Net++: Zhou et al., "UNet++: A Nested U-Net Architecture for Medical Image
Segmentation" (DLMIA 2018, arXiv:1807.10165).

No separate backbone. The encoder is a U-Net's (double 3x3 convolutions, 32 to 512
channels, halving the resolution four times); the decoder replaces U-Net's single
skip connection per level by a grid of nested nodes: node (i, j) at level i
upsamples node (i+1, j-1) and concatenates it with every earlier node of its own
level, (i, 0) ... (i, j-1) (dense skip pathways), so that encoder features reach
the decoder through a few convolutions instead of directly, closing the semantic gap
between them. The top row gives four full-resolution feature maps, nodes (0, 1) ...
(0, 4), each with its own 1x1 classifier.

`is_ds` (deep supervision, PaddleSeg's name) returns the average of the four
classifiers' logits, otherwise the deepest one's alone; as in PaddleSeg, it is one
output either way (in training too), so one loss, on the average, trains them all.

Attribute names (`conv{i}_0`, `up_cat{i}_{j}`, `out_{j}`, the `conv` and `up`
sequences inside) follow PaddleSeg 2.8 so that its checkpoints load unchanged.
"""

import paddle
from paddle import nn

from ..layers.basic import Upsample2x
from ..layers.sequential_conv import conv_bn_relu_layers, kaiming_normal_conv_weights

# channels of the five levels, full resolution first
UNET_PP_CHANNELS = (32, 64, 128, 256, 512)


class UNetPPDoubleConv(nn.Layer):
    """Two 3x3 conv + BN + ReLU: every node of the U-Net++ grid is one."""

    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.conv = nn.Sequential(
            *conv_bn_relu_layers(in_channels, out_channels),
            *conv_bn_relu_layers(out_channels, out_channels),
        )

    def forward(self, x):
        return self.conv(x)


class UNetPPUpSampling(nn.Layer):
    """A decoder node: upsample the node below by 2 (bilinear then a 1x1 conv, or a 2x2
    transposed conv with `use_deconv`) to the level's channels, concatenate it with the
    `num_inputs - 1` earlier nodes of the level, then a double conv.

    Input sides must be multiples of 16, as in PaddleSeg: the upsampling doubles the
    size instead of matching the skip's.
    """

    def __init__(self, in_channels, out_channels, num_inputs, use_deconv, align_corners):
        super().__init__()
        if use_deconv:
            self.up = nn.Conv2DTranspose(in_channels, out_channels, kernel_size=2, stride=2)
        else:
            self.up = nn.Sequential(
                Upsample2x(align_corners),
                nn.Conv2D(in_channels, out_channels, 1),
            )
        self.conv = UNetPPDoubleConv(num_inputs * out_channels, out_channels)

    def forward(self, below, *same_level):
        return self.conv(paddle.concat([self.up(below), *same_level], axis=1))


class UNetPlusPlus(nn.Layer):
    """U-Net++: a U-Net encoder, nested dense decoder nodes, four 1x1 classifiers.

    Returns [logits] at the input size in training and evaluation alike: the average of
    the four classifiers with `is_ds`, else the deepest node's (all four run either way,
    as in PaddleSeg, whose FLOPs and parameter counts include them).
    """

    def __init__(
        self, num_classes, in_channels=3, use_deconv=False, align_corners=False, is_ds=True
    ):
        super().__init__()
        self.is_ds = is_ds
        depth = len(UNET_PP_CHANNELS) - 1
        self.pool = nn.MaxPool2D(kernel_size=2, stride=2)
        # encoder nodes (i, 0)
        for i, out_channels in enumerate(UNET_PP_CHANNELS):
            previous = UNET_PP_CHANNELS[i - 1] if i else in_channels
            setattr(self, f"conv{i}_0", UNetPPDoubleConv(previous, out_channels))
        # decoder nodes (i, j), column by column: node (i, j) has j inputs of its level
        # and one from below
        for j in range(1, depth + 1):
            for i in range(depth + 1 - j):
                node = UNetPPUpSampling(
                    UNET_PP_CHANNELS[i + 1], UNET_PP_CHANNELS[i], j + 1, use_deconv, align_corners
                )
                setattr(self, f"up_cat{i}_{j}", node)
        # one classifier per full-resolution node (0, j)
        for j in range(1, depth + 1):
            setattr(self, f"out_{j}", nn.Conv2D(UNET_PP_CHANNELS[0], num_classes, 1))
        kaiming_normal_conv_weights(self)

    def forward(self, x):
        depth = len(UNET_PP_CHANNELS) - 1
        # nodes[i] lists level i's nodes (i, 0), (i, 1), ... as they are computed
        nodes = [[self.conv0_0(x)]]
        for i in range(1, depth + 1):
            nodes.append([getattr(self, f"conv{i}_0")(self.pool(nodes[i - 1][0]))])
        for j in range(1, depth + 1):
            for i in range(depth + 1 - j):
                node = getattr(self, f"up_cat{i}_{j}")
                nodes[i].append(node(nodes[i + 1][j - 1], *nodes[i]))
        logits = [getattr(self, f"out_{j}")(nodes[0][j]) for j in range(1, depth + 1)]
        if self.is_ds:
            return [paddle.add_n(logits) / len(logits)]
        return [logits[-1]]
