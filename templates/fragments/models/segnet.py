"""SegNet: Badrinarayanan et al., "SegNet: A Deep Convolutional Encoder-Decoder
Architecture for Image Segmentation" (TPAMI 2017, arXiv:1511.00561).

No separate backbone. The encoder is VGG16's thirteen 3x3 convolutions (with batch
norm) in five blocks, each followed by a 2x2 max pooling that also records where each
maximum came from. The decoder mirrors it: each block first max-unpools with the
indices of the matching pooling, putting every value back where its maximum was
(zeros elsewhere), so boundaries land in the right place without learning an
upsampling or keeping the encoder's feature maps; 3x3 convolutions then densify
the sparse map. A 3x3 classifier gives full-resolution logits.

Attribute names (`enco1` ... `enco5`, `deco1` ... `deco5`) follow PaddleSeg 2.8 so that
its checkpoints load unchanged. The unpooling exports to Paddle Inference; paddle2onnx
has no conversion for it (ONNX export fails).
"""

import itertools

import paddle
import paddle.nn.functional as F
from paddle import nn

from ..layers.basic import ConvBNReLU

# encoder blocks: (output channels, 3x3 convs), VGG16's
SEGNET_ENCODER = ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3))
# decoder blocks deco1 ... deco4, deepest first: (input channels, output channels, 3x3
# convs); only a block's last conv changes the channels. deco5, the last block, is one
# ConvBNReLU and the classifier.
SEGNET_DECODER = ((512, 512, 3), (512, 256, 3), (256, 128, 3), (128, 64, 3))


def segnet_block(channels):
    """A 3x3 ConvBNReLU from each entry of `channels` to the next."""
    return nn.Sequential(
        *[ConvBNReLU(cin, cout, 3, padding=1) for cin, cout in itertools.pairwise(channels)]
    )


class SegNet(nn.Layer):
    """SegNet: VGG16-style encoder whose pooling indices drive the decoder's unpooling.

    Returns [logits] at the input size in training and evaluation alike; each unpooling
    restores the size its pooling had, odd sides included.
    """

    def __init__(self, num_classes, in_channels=3):
        super().__init__()
        for k, (channels, convs) in enumerate(SEGNET_ENCODER, start=1):
            setattr(self, f"enco{k}", segnet_block([in_channels] + [channels] * convs))
            in_channels = channels
        for k, (cin, cout, convs) in enumerate(SEGNET_DECODER, start=1):
            setattr(self, f"deco{k}", segnet_block([cin] * convs + [cout]))
        last = SEGNET_DECODER[-1][1]
        self.deco5 = nn.Sequential(
            ConvBNReLU(last, last, 3, padding=1),
            nn.Conv2D(last, num_classes, kernel_size=3, padding=1),
        )

    def forward(self, x):
        encoders = (self.enco1, self.enco2, self.enco3, self.enco4, self.enco5)
        decoders = (self.deco1, self.deco2, self.deco3, self.deco4, self.deco5)
        # each pooling's input size and argmax indices, shallowest first
        pooled = []
        for encode in encoders:
            x = encode(x)
            size = paddle.shape(x)[2:]
            x, indices = F.max_pool2d(x, kernel_size=2, stride=2, return_mask=True)
            pooled.append((size, indices))
        # unpool to the size the pooling saw (a tensor, so that the exported graph keeps
        # dynamic sizes); an odd side, halved and rounded down, comes back whole
        for decode, (size, indices) in zip(decoders, reversed(pooled)):
            x = F.max_unpool2d(x, indices, kernel_size=2, stride=2, output_size=[size[0], size[1]])
            x = decode(x)
        return [x]
