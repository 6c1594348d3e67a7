"""U^2-Net: Qin et al., "U^2-Net: Going Deeper with Nested U-Structure for Salient Object
Detection" (Pattern Recognition 2020).

A U-Net whose every stage is itself a small U-Net: the residual U-block (RSU). An
RSU of height L encodes its input with L convolutions (max-pooling between the first
L-1 of them, a dilated one at the bottom), decodes back with skip connections, and
adds the block's input projection, so each stage sees multi-scale context at a cost
that falls with the stage's resolution. The encoder's two deepest stages (1/16 and
1/32 resolution) and the first decoder stage (1/16) are too coarse to pool further, so
their blocks ("RSU-4F") replace pooling by growing dilation. Every decoder stage (and the deepest
encoder stage) gets a 3x3 side classifier; the six side logits, upsampled to the input
size, are fused by a 1x1 convolution into the main output. Training supervises the
fused output and the six side outputs alike (deep supervision).

U2Net and U2Netp (the small model: 16 middle and 64 output channels everywhere) differ
only in their stage widths. Attribute names (`stage1` ... `stage6`, `stage5d` ...
`stage1d`, `side1` ... `side6`, `outconv`; inside a block `rebnconvin`,
`rebnconv<level>`, `rebnconv<level>d`, `conv_s1`, `bn_s1`) follow PaddleSeg 2.8 so
that its checkpoints load unchanged.
"""

import paddle
import paddle.nn.functional as F
from paddle import nn

# One RSU block per stage as (height, dilated, middle channels, output channels); a
# stage's input channels follow from the stages before it. Encoder stages run from the
# full-resolution stage1 down to stage6; decoder stages from stage5d up to stage1d.
U2NET_ENCODER_STAGES = (
    (7, False, 32, 64),
    (6, False, 32, 128),
    (5, False, 64, 256),
    (4, False, 128, 512),
    (4, True, 256, 512),
    (4, True, 256, 512),
)
U2NET_DECODER_STAGES = (
    (4, True, 256, 512),
    (4, False, 128, 256),
    (5, False, 64, 128),
    (6, False, 32, 64),
    (7, False, 16, 64),
)
U2NETP_ENCODER_STAGES = (
    (7, False, 16, 64),
    (6, False, 16, 64),
    (5, False, 16, 64),
    (4, False, 16, 64),
    (4, True, 16, 64),
    (4, True, 16, 64),
)
U2NETP_DECODER_STAGES = (
    (4, True, 16, 64),
    (4, False, 16, 64),
    (5, False, 16, 64),
    (6, False, 16, 64),
    (7, False, 16, 64),
)


def u2net_pool(x):
    """Halve the resolution; an odd side rounds up (ceil_mode), so that upsampling back to
    the skip's size never has to invent a missing row."""
    return F.max_pool2d(x, kernel_size=2, stride=2, ceil_mode=True)


def u2net_upsample_to(x, reference):
    """`x` bilinearly resized to the height and width of `reference`."""
    return F.interpolate(x, paddle.shape(reference)[2:], mode="bilinear", align_corners=False)


class U2NetConvBNReLU(nn.Layer):
    """3x3 convolution (dilated by `dilation`, padded to keep the size), batch norm, ReLU.

    PaddleSeg calls it REBNCONV; its sublayer names are kept for its checkpoints.
    """

    def __init__(self, in_channels, out_channels, dilation=1):
        super().__init__()
        self.conv_s1 = nn.Conv2D(in_channels, out_channels, 3, padding=dilation, dilation=dilation)
        self.bn_s1 = nn.BatchNorm2D(out_channels)

    def forward(self, x):
        return F.relu(self.bn_s1(self.conv_s1(x)))


class ResidualUBlock(nn.Layer):
    """The residual U-block RSU-`height` (RSU-4F with `dilated`).

    `rebnconvin` projects the input to `out_channels` (the residual); encoder levels
    1..height reduce it to `mid_channels`, max-pooling before levels 2..height-1 and
    dilating the last level by 2. A dilated block never pools: level i is dilated by
    2^(i-1) instead. Decoder levels height-1..1 each take the deeper result (upsampled
    to the level's size where the encoder had pooled) concatenated with the encoder's
    output at that level; level 1 returns to `out_channels`, and the residual is added.
    """

    def __init__(self, height, in_channels, mid_channels, out_channels, dilated=False):
        super().__init__()
        self.height = height
        self.dilated = dilated
        self.rebnconvin = U2NetConvBNReLU(in_channels, out_channels)
        for level in range(1, height + 1):
            if dilated:
                dilation = 2 ** (level - 1)
            else:
                dilation = 2 if level == height else 1
            block_in = out_channels if level == 1 else mid_channels
            self.add_sublayer(f"rebnconv{level}", U2NetConvBNReLU(block_in, mid_channels, dilation))
        for level in range(height - 1, 0, -1):
            dilation = 2 ** (level - 1) if dilated else 1
            block_out = out_channels if level == 1 else mid_channels
            self.add_sublayer(
                f"rebnconv{level}d", U2NetConvBNReLU(2 * mid_channels, block_out, dilation)
            )

    def forward(self, x):
        residual = self.rebnconvin(x)
        encoded = []  # encoder output of each level, level 1 first
        h = residual
        for level in range(1, self.height + 1):
            if not self.dilated and 1 < level < self.height:
                h = u2net_pool(h)
            h = getattr(self, f"rebnconv{level}")(h)
            encoded.append(h)
        h = encoded[-1]
        for level in range(self.height - 1, 0, -1):
            skip = encoded[level - 1]
            # the encoder pooled between this level and the next one down
            if not self.dilated and level < self.height - 1:
                h = u2net_upsample_to(h, skip)
            h = getattr(self, f"rebnconv{level}d")(paddle.concat([h, skip], axis=1))
        return h + residual


class U2NetBase(nn.Layer):
    """The U^2-Net layout for given stage widths: six encoder stages (max-pooling between
    them), five decoder stages fed by the upsampled deeper stage concatenated with the
    encoder stage of the same resolution, six side classifiers and their 1x1 fusion.

    Returns, in training and evaluation alike (as PaddleSeg does), seven logits at the
    input size: the fused main output, then the side outputs of stage1d, stage2d ...
    stage5d and stage6 (side1 ... side6). The fused output reads all six side outputs,
    so they cost nothing extra.
    """

    def __init__(self, num_classes, encoder_stages, decoder_stages, in_channels=3):
        super().__init__()
        channels = in_channels
        encoder_out = []
        for index, (height, dilated, mid, out) in enumerate(encoder_stages, start=1):
            self.add_sublayer(f"stage{index}", ResidualUBlock(height, channels, mid, out, dilated))
            encoder_out.append(out)
            channels = out
        self.num_stages = len(encoder_stages)
        # decoder stage k (from the deepest up) reads the deeper output and encoder stage k
        side_in = [channels]
        for index, (height, dilated, mid, out) in zip(
            range(self.num_stages - 1, 0, -1), decoder_stages
        ):
            self.add_sublayer(
                f"stage{index}d",
                ResidualUBlock(height, channels + encoder_out[index - 1], mid, out, dilated),
            )
            side_in.append(out)
            channels = out
        # side k classifies decoder stage k (side6: the deepest encoder stage)
        for index, side_channels in enumerate(reversed(side_in), start=1):
            self.add_sublayer(f"side{index}", nn.Conv2D(side_channels, num_classes, 3, padding=1))
        self.outconv = nn.Conv2D(self.num_stages * num_classes, num_classes, 1)

    def forward(self, x):
        encoded = []
        h = x
        for index in range(1, self.num_stages + 1):
            if index > 1:
                h = u2net_pool(h)
            h = getattr(self, f"stage{index}")(h)
            encoded.append(h)
        decoded = [h]  # the deepest stage first, then each decoder stage going up
        for index in range(self.num_stages - 1, 0, -1):
            skip = encoded[index - 1]
            h = getattr(self, f"stage{index}d")(
                paddle.concat([u2net_upsample_to(h, skip), skip], axis=1)
            )
            decoded.append(h)
        # side k reads decoder stage k (side6: the deepest encoder stage), decoded[-k]
        sides = []
        for index in range(1, self.num_stages + 1):
            sides.append(getattr(self, f"side{index}")(decoded[-index]))
        # side1 is at the input size already (stage1d runs at full resolution)
        sides = sides[:1] + [u2net_upsample_to(side, sides[0]) for side in sides[1:]]
        fused = self.outconv(paddle.concat(sides, axis=1))
        return [fused] + sides


class U2Net(U2NetBase):
    """U^2-Net: 44.3 M parameters with 19 classes."""

    def __init__(self, num_classes, in_channels=3):
        super().__init__(num_classes, U2NET_ENCODER_STAGES, U2NET_DECODER_STAGES, in_channels)


class U2Netp(U2NetBase):
    """U^2-Net-P, the small U^2-Net: the same layout, 1.2 M parameters with 19 classes."""

    def __init__(self, num_classes, in_channels=3):
        super().__init__(num_classes, U2NETP_ENCODER_STAGES, U2NETP_DECODER_STAGES, in_channels)
