"""STDC backbone: Fan et al., "Rethinking BiSeNet For Real-time Semantic Segmentation"
(CVPR 2021), https://arxiv.org/abs/2104.13188.

A Short-Term Dense Concatenate (STDC) block runs a chain of convolutions whose widths
halve one after the other (out/2, out/4, out/8, out/8 with four of them) and
concatenates every link's output: the block sees several receptive fields at once
for few parameters, since the deep links are the narrow ones. A block that halves
the resolution does it with a depthwise 3x3 conv after its first link, and
average-pools that first link's output for the concatenation.

The network is two strided 3x3 convs (1/2, 1/4) and three stages of STDC blocks
(1/8, 1/16, 1/32); it returns all five feature maps. STDC1 has 2, 2, 2 blocks per
stage, STDC2 4, 5, 3. STDCSeg and PP-LiteSeg both read it.

Sub-layer names (`features`, `conv_list`, `avd_layer`, `conv`, `bn`) follow
PaddleSeg 2.8's STDCNet so that its checkpoints load unchanged; only the "cat" fusion
of STDC blocks is provided (the one every PaddleSeg config uses).
"""

import paddle
from paddle import nn

# STDC blocks in each of the three stages, by variant.
STDC_STAGE_BLOCKS = {
    1: (2, 2, 2),
    2: (4, 5, 3),
}


class STDCConvBNReLU(nn.Layer):
    """Bias-free conv, BN and ReLU with symmetric padding (`conv`, `bn`: PaddleSeg's
    STDCNet names, which differ from layers/basic.py's ConvBNReLU)."""

    def __init__(self, in_channels, out_channels, kernel_size=3, stride=1):
        super().__init__()
        self.conv = nn.Conv2D(
            in_channels,
            out_channels,
            kernel_size,
            stride=stride,
            padding=kernel_size // 2,
            bias_attr=False,
        )
        self.bn = nn.BatchNorm2D(out_channels)
        self.relu = nn.ReLU()

    def forward(self, x):
        return self.relu(self.bn(self.conv(x)))


def stdc_link_channels(out_channels, num_links):
    """Output widths of an STDC block's links: out/2, out/4, ... halving, the last link
    as wide as the one before it, so that they add up to `out_channels`."""
    if num_links == 2:
        return [out_channels // 2, out_channels // 2]
    widths = [out_channels // 2 ** (i + 1) for i in range(num_links - 1)]
    return widths + [widths[-1]]


class STDCBlock(nn.Layer):
    """One STDC block ("cat" fusion): a 1x1 link, then 3x3 links each fed by the
    previous one, all outputs concatenated.

    With stride 2 the block downsamples between its first and second link (depthwise
    3x3 conv + BN, `avd_layer`), and the first link's own output is average-pooled
    (`skip`) to the new resolution before the concatenation.
    """

    def __init__(self, in_channels, out_channels, num_links=4, stride=1):
        super().__init__()
        if num_links < 2:
            raise ValueError(f"an STDC block needs at least 2 links, got {num_links}")
        self.stride = stride
        widths = stdc_link_channels(out_channels, num_links)
        if stride == 2:
            self.avd_layer = nn.Sequential(
                nn.Conv2D(
                    widths[0],
                    widths[0],
                    3,
                    stride=2,
                    padding=1,
                    groups=widths[0],
                    bias_attr=False,
                ),
                nn.BatchNorm2D(widths[0]),
            )
            self.skip = nn.AvgPool2D(kernel_size=3, stride=2, padding=1)
        inputs = [in_channels] + widths[:-1]
        self.conv_list = nn.LayerList(
            [
                STDCConvBNReLU(c_in, c_out, kernel_size=1 if i == 0 else 3)
                for i, (c_in, c_out) in enumerate(zip(inputs, widths))
            ]
        )

    def forward(self, x):
        first = self.conv_list[0](x)
        out = self.avd_layer(first) if self.stride == 2 else first
        outputs = []
        for link in self.conv_list[1:]:
            out = link(out)
            outputs.append(out)
        if self.stride == 2:
            first = self.skip(first)
        return paddle.concat([first] + outputs, axis=1)


class STDCNet(nn.Layer):
    """STDC network; forward(x) returns the feature maps at 1/2, 1/4, 1/8, 1/16, 1/32.

    Args:
        stage_blocks: STDC blocks in each of the three stages.
        base: channels at 1/4 resolution; the five outputs have base/2, base, 4 base,
            8 base, 16 base channels (`feat_channels`).
        block_num: links per STDC block.
        in_channels: channels of the input image.
    """

    def __init__(self, stage_blocks, base=64, block_num=4, in_channels=3):
        super().__init__()
        self.stage_blocks = list(stage_blocks)
        self.feat_channels = [base // 2, base, base * 4, base * 8, base * 16]
        # One flat Sequential, as PaddleSeg numbers it: two stem convs, then the blocks.
        layers = [
            STDCConvBNReLU(in_channels, base // 2, 3, stride=2),
            STDCConvBNReLU(base // 2, base, 3, stride=2),
        ]
        for stage, blocks in enumerate(self.stage_blocks):
            stage_in, stage_out = self.feat_channels[stage + 1], self.feat_channels[stage + 2]
            for b in range(blocks):
                layers.append(
                    STDCBlock(
                        stage_in if b == 0 else stage_out,
                        stage_out,
                        block_num,
                        stride=2 if b == 0 else 1,
                    )
                )
        self.features = nn.Sequential(*layers)
        # PaddleSeg's initialisation: conv weights ~ N(0, 0.001^2); BN keeps weight 1, bias 0.
        for layer in self.sublayers():
            if isinstance(layer, nn.Conv2D):
                nn.initializer.Normal(std=0.001)(layer.weight)

    def forward(self, x):
        feats = []
        x = self.features[0](x)
        feats.append(x)
        x = self.features[1](x)
        feats.append(x)
        start = 2
        for blocks in self.stage_blocks:
            for i in range(start, start + blocks):
                x = self.features[i](x)
            feats.append(x)
            start += blocks
        return feats


def STDC1(**kwargs):
    return STDCNet(STDC_STAGE_BLOCKS[1], **kwargs)


def STDC2(**kwargs):
    return STDCNet(STDC_STAGE_BLOCKS[2], **kwargs)
