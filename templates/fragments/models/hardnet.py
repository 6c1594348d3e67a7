"""HarDNet: Chao et al., "HarDNet: A Low Memory Traffic Network" (ICCV 2019),
https://arxiv.org/abs/1909.00948; the segmentation network is the paper's FC-HarDNet-70.

No separate backbone. The unit is the Harmonic Dense Block: where DenseNet feeds every
layer all earlier outputs, layer k of a HarDBlock reads only the layers k - 2^j that
2^j divides (layer 0 is the block's input), so most connections are short and a few
reach far back; the layers that many others read (more links) are made wider by the
factor `grmul`, the others keep the growth rate `gr`. This keeps DenseNet's feature
reuse at much less memory traffic, which is what bounds the speed of such networks.
The block returns the concatenation of its odd-numbered layers and its last one.

A 4-conv stem (stride 2) feeds five HarDBlocks, each followed by a 1x1 ConvBNReLU and,
but for the last, a 2x2 average pool; the decoder walks back up, each step upsampling
bilinearly to the skip's size, concatenating the encoder block's output, halving the
channels with a 1x1 ConvBNReLU and running another HarDBlock; a 1x1 conv classifies
at 1/4 resolution, and the logits are resized to the input.

Average pooling floors odd sizes (and Paddle's keeps a 1x1 map at 1x1), and the
decoder resizes to each skip's actual size, so any input size works, as in PaddleSeg.

Attribute names (`stem`, `encoder.blks`, `decoder.conv1x1_up`,
`decoder.dense_blocks_up`, `cls_head`) and the order of `encoder.blks` follow
PaddleSeg 2.8 so that its checkpoints load unchanged.
"""

import paddle
import paddle.nn.functional as F
from paddle import nn

from ..layers.basic import ConvBNReLU, resize_to_input


def hardnet_layer_links(layer, base_channels, growth_rate, grmul):
    """(output channels, input channels, linked layers) of layer `layer` (1-based; 0 is
    the block's input, of `base_channels`) of a HarDBlock.

    Layer k reads layers k - 2^j for every 2^j that divides k, in ascending order (the
    order they are concatenated in). Its width is the growth rate times `grmul` once per
    link after the first, rounded to an even number as PaddleSeg rounds it.
    """
    if layer == 0:
        return base_channels, 0, []
    links = []
    out_channels = growth_rate
    step = 1
    while layer % step == 0:
        links.insert(0, layer - step)
        if step > 1:
            out_channels *= grmul
        step *= 2
    out_channels = int(int(out_channels + 1) / 2) * 2
    in_channels = sum(
        hardnet_layer_links(link, base_channels, growth_rate, grmul)[0] for link in links
    )
    return out_channels, in_channels, links


class HarDBlock(nn.Layer):
    """Harmonic Dense Block of `n_layers` 3x3 ConvBNReLU; returns the concatenation of its
    odd-numbered layers' outputs and its last one's (`out_channels` channels)."""

    def __init__(self, base_channels, growth_rate, grmul, n_layers):
        super().__init__()
        self.links = []
        convs = []
        self.out_channels = 0
        for layer in range(1, n_layers + 1):
            out_channels, in_channels, links = hardnet_layer_links(
                layer, base_channels, growth_rate, grmul
            )
            self.links.append(links)
            convs.append(ConvBNReLU(in_channels, out_channels, 3, bias_attr=False))
            if layer % 2 == 1 or layer == n_layers:
                self.out_channels += out_channels
        self.layers = nn.LayerList(convs)

    def forward(self, x):
        outputs = [x]  # outputs[k]: layer k's output, outputs[0] the block's input
        for conv, links in zip(self.layers, self.links):
            inputs = [outputs[k] for k in links]
            outputs.append(conv(paddle.concat(inputs, axis=1) if len(inputs) > 1 else inputs[0]))
        last = len(outputs) - 1
        kept = [out for k, out in enumerate(outputs) if k % 2 == 1 or k == last]
        return paddle.concat(kept, axis=1)


class HarDNetEncoder(nn.Layer):
    """HarDBlocks, each followed by a 1x1 ConvBNReLU to `ch_list[i]` channels and, but
    for the last, a 2x2 average pool. Returns the last feature map and the outputs of
    the HarDBlocks before each pool (the skips, shallowest first).

    `blks` holds all three kinds of layer in one list, in running order, as PaddleSeg's
    checkpoints number them.
    """

    def __init__(self, in_channels, ch_list, gr, grmul, n_layers):
        super().__init__()
        self.blks = nn.LayerList()
        self.skip_indices = []  # positions in `blks` of the HarDBlocks that feed skips
        self.skip_channels = []
        channels = in_channels
        for i, (width, growth, depth) in enumerate(zip(ch_list, gr, n_layers)):
            block = HarDBlock(channels, growth, grmul, depth)
            self.blks.append(block)
            self.skip_channels.append(block.out_channels)
            self.blks.append(ConvBNReLU(block.out_channels, width, 1, bias_attr=False))
            if i < len(n_layers) - 1:
                self.skip_indices.append(len(self.blks) - 2)
                self.blks.append(nn.AvgPool2D(kernel_size=2, stride=2))
            channels = width
        self.out_channels = channels

    def forward(self, x):
        skips = []
        for i, layer in enumerate(self.blks):
            x = layer(x)
            if i in self.skip_indices:
                skips.append(x)
        return x, skips


class HarDNetDecoder(nn.Layer):
    """One step per skip, deepest first: upsample to the skip's size, concatenate it,
    halve the channels with a 1x1 ConvBNReLU, then a HarDBlock with the growth rate and
    depth of the encoder block the skip came from."""

    def __init__(self, in_channels, skip_channels, gr, grmul, n_layers, align_corners):
        super().__init__()
        self.align_corners = align_corners
        self.conv1x1_up = nn.LayerList()
        self.dense_blocks_up = nn.LayerList()
        channels = in_channels
        for i in reversed(range(len(skip_channels))):
            concat_channels = channels + skip_channels[i]
            self.conv1x1_up.append(
                ConvBNReLU(concat_channels, concat_channels // 2, 1, bias_attr=False)
            )
            block = HarDBlock(concat_channels // 2, gr[i], grmul, n_layers[i])
            self.dense_blocks_up.append(block)
            channels = block.out_channels
        self.out_channels = channels

    def forward(self, x, skips):
        for conv1x1, block, skip in zip(self.conv1x1_up, self.dense_blocks_up, reversed(skips)):
            x = F.interpolate(
                x, paddle.shape(skip)[2:], mode="bilinear", align_corners=self.align_corners
            )
            x = block(conv1x1(paddle.concat([x, skip], axis=1)))
        return x


class HarDNet(nn.Layer):
    """FC-HarDNet: stem, HarDNet encoder, decoder with skips, 1x1 classifier at 1/4
    resolution; returns [logits] at the input size in training and evaluation alike.

    Args:
        num_classes: number of classes.
        in_channels: channels of the input image.
        stem_channels: the four stem convs' widths (the third has stride 2).
        ch_list: width of the 1x1 conv after each encoder HarDBlock.
        grmul: width multiplier of the HarDBlock layers with several links.
        gr: growth rate of each encoder HarDBlock (the decoder reuses all but the last).
        n_layers: layers of each encoder HarDBlock (likewise).
        align_corners: align_corners of every bilinear resize.
    """

    def __init__(
        self,
        num_classes,
        in_channels=3,
        stem_channels=(16, 24, 32, 48),
        ch_list=(64, 96, 160, 224, 320),
        grmul=1.7,
        gr=(10, 16, 18, 24, 32),
        n_layers=(4, 4, 8, 8, 8),
        align_corners=False,
    ):
        super().__init__()
        self.align_corners = align_corners
        widths = [in_channels, *stem_channels]
        self.stem = nn.Sequential(
            *[
                ConvBNReLU(widths[i], widths[i + 1], 3, stride=2 if i == 2 else 1, bias_attr=False)
                for i in range(4)
            ]
        )
        self.encoder = HarDNetEncoder(stem_channels[3], ch_list, gr, grmul, n_layers)
        self.decoder = HarDNetDecoder(
            self.encoder.out_channels,
            self.encoder.skip_channels[:-1],
            gr,
            grmul,
            n_layers,
            align_corners,
        )
        self.cls_head = nn.Conv2D(self.decoder.out_channels, num_classes, 1)

    def forward(self, x):
        features, skips = self.encoder(self.stem(x))
        logits = self.cls_head(self.decoder(features, skips))
        return resize_to_input([logits], x, self.align_corners)
