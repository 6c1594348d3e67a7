"""ENet: Paszke et al., "ENet: A Deep Neural Network Architecture for Real-Time Semantic
Segmentation" (arXiv:1606.02147, 2016).

No separate backbone, and very small (0.36 M parameters). An initial block halves the
resolution by a stride-2 conv beside a max pooling of the image; two downsampling
bottlenecks take it to 1/8, where two stages of bottlenecks (regular, dilated and
asymmetric 5x1 + 1x5 convs) compute the features. The decoder is deliberately small:
two upsampling bottlenecks undo the downsampling by max unpooling with the indices the
encoder's max pooling recorded (so that object boundaries land where the maxima were),
and a stride-2 transposed conv gives full-resolution logits. Every bottleneck is a
residual unit: a cheap shortcut plus a 1x1 projection, a conv and a 1x1 expansion,
regularised by spatial dropout. The encoder uses PReLU, the decoder ReLU.

Attribute names (`initial_block`, `downsample1_0`, `regular1_1`, ..., `ext_conv1`,
`main_max1`, `ext_tconv1`, `transposed_conv`) follow PaddleSeg 2.8's `ENet` so that its
checkpoints load unchanged.

Max unpooling has no ONNX conversion in paddle2onnx, so this model exports to Paddle
Inference only.
"""

import paddle
import paddle.nn.functional as F
from paddle import nn

# Channels of the stages: the initial block's output, then after each downsampling.
ENET_CHANNELS = (16, 64, 128)
# Bottleneck blocks project to channels // ENET_INTERNAL_RATIO for their middle conv.
ENET_INTERNAL_RATIO = 4
# Spatial dropout rates: stage 1, then every later bottleneck (as the paper sets them).
ENET_DROPOUT_STAGE1 = 0.01
ENET_DROPOUT = 0.1
# The layout of stages 2 and 3 (after stage 2's downsampling), as (name suffix, kind,
# dilation): "regular" 3x3, "dilated" 3x3 with that dilation, "asymmetric" 5x1 then 1x5.
# Stage 3 repeats stage 2 without its downsampling; the names follow PaddleSeg's.
ENET_STAGE2_LAYOUT = (
    ("regular2_1", "regular", 1),
    ("dilated2_2", "dilated", 2),
    ("asymmetric2_3", "asymmetric", 1),
    ("dilated2_4", "dilated", 4),
    ("regular2_5", "regular", 1),
    ("dilated2_6", "dilated", 8),
    ("asymmetric2_7", "asymmetric", 1),
    ("dilated2_8", "dilated", 16),
)
ENET_STAGE3_LAYOUT = (
    ("regular3_0", "regular", 1),
    ("dilated3_1", "dilated", 2),
    ("asymmetric3_2", "asymmetric", 1),
    ("dilated3_3", "dilated", 4),
    ("regular3_4", "regular", 1),
    ("dilated3_5", "dilated", 8),
    ("asymmetric3_6", "asymmetric", 1),
    ("dilated3_7", "dilated", 16),
)


def enet_activation(relu):
    """ReLU, or PReLU (one learned slope per layer) when `relu` is false."""
    return nn.ReLU() if relu else nn.PReLU()


def enet_conv_bn_act(in_channels, out_channels, relu, activate=True, **conv_kwargs):
    """Conv (no bias: batch norm follows), batch norm and, with `activate`, the
    activation, as one Sequential (PaddleSeg's layout: indices 0, 1, 2)."""
    layers = [
        nn.Conv2D(in_channels, out_channels, bias_attr=False, **conv_kwargs),
        nn.BatchNorm2D(out_channels),
    ]
    if activate:
        layers.append(enet_activation(relu))
    return nn.Sequential(*layers)


def enet_size(x):
    """[height, width] of `x` as a list, which unpooling and transposed convs take as an
    output size (with dynamic sizes under export, a list of scalar tensors)."""
    shape = paddle.shape(x)
    return [shape[2], shape[3]]


class ENetInitialBlock(nn.Layer):
    """Halve the resolution two ways at once: a 3x3 stride-2 conv to 13 channels beside
    a 3x3 stride-2 max pooling of the 3 image channels, concatenated to 16. (PaddleSeg
    gives the conv 13 channels for any image channel count, and then fails for other
    than 3; here the conv takes up the rest, the same for RGB.)"""

    def __init__(self, in_channels, out_channels, relu):
        super().__init__()
        self.main_branch = nn.Conv2D(
            in_channels, out_channels - in_channels, 3, stride=2, padding=1, bias_attr=False
        )
        self.ext_branch = nn.MaxPool2D(3, stride=2, padding=1)
        self.batch_norm = nn.BatchNorm2D(out_channels)
        self.out_activation = enet_activation(relu)

    def forward(self, x):
        out = paddle.concat([self.main_branch(x), self.ext_branch(x)], axis=1)
        return self.out_activation(self.batch_norm(out))


class ENetRegularBottleneck(nn.Layer):
    """Residual bottleneck at constant resolution: x + 1x1 projection -> middle conv ->
    1x1 expansion -> spatial dropout. The middle conv is a 3x3 (`dilation` > 1 makes it
    a dilated one) or, with `asymmetric`, a kx1 then a 1xk conv (a kxk receptive field
    for 2/k of its weights)."""

    def __init__(self, channels, dropout_prob, relu, kernel_size=3, dilation=1, asymmetric=False):
        super().__init__()
        internal = channels // ENET_INTERNAL_RATIO
        padding = dilation * (kernel_size - 1) // 2
        self.ext_conv1 = enet_conv_bn_act(channels, internal, relu, kernel_size=1)
        if asymmetric:
            self.ext_conv2 = nn.Sequential(
                *enet_conv_bn_act(
                    internal,
                    internal,
                    relu,
                    kernel_size=(kernel_size, 1),
                    padding=(padding, 0),
                    dilation=dilation,
                ),
                *enet_conv_bn_act(
                    internal,
                    internal,
                    relu,
                    kernel_size=(1, kernel_size),
                    padding=(0, padding),
                    dilation=dilation,
                ),
            )
        else:
            self.ext_conv2 = enet_conv_bn_act(
                internal,
                internal,
                relu,
                kernel_size=kernel_size,
                padding=padding,
                dilation=dilation,
            )
        self.ext_conv3 = enet_conv_bn_act(internal, channels, relu, kernel_size=1)
        self.ext_regul = nn.Dropout2D(p=dropout_prob)
        self.out_activation = enet_activation(relu)

    def forward(self, x):
        ext = self.ext_regul(self.ext_conv3(self.ext_conv2(self.ext_conv1(x))))
        return self.out_activation(x + ext)


class ENetDownsamplingBottleneck(nn.Layer):
    """Halve the resolution and widen: a 2x2 max pooling (whose indices are returned for
    the decoder's unpooling) is the shortcut, zero-padded to the new width; the residual
    branch is a 2x2 stride-2 projection, a 3x3 conv and a 1x1 expansion.

    forward(x) returns (features, pooling indices).
    """

    def __init__(self, in_channels, out_channels, dropout_prob, relu):
        super().__init__()
        internal = in_channels // ENET_INTERNAL_RATIO
        self.main_max1 = nn.MaxPool2D(2, stride=2, return_mask=True)
        self.ext_conv1 = enet_conv_bn_act(in_channels, internal, relu, kernel_size=2, stride=2)
        self.ext_conv2 = enet_conv_bn_act(internal, internal, relu, kernel_size=3, padding=1)
        self.ext_conv3 = enet_conv_bn_act(internal, out_channels, relu, kernel_size=1)
        self.ext_regul = nn.Dropout2D(p=dropout_prob)
        self.out_activation = enet_activation(relu)

    def forward(self, x):
        main, indices = self.main_max1(x)
        ext = self.ext_regul(self.ext_conv3(self.ext_conv2(self.ext_conv1(x))))
        # The shortcut padded with zero channels up to ext's width, added: the same as
        # adding the pooled features to ext's first channels and keeping the rest as is.
        pooled_channels = main.shape[1]
        out = paddle.concat([ext[:, :pooled_channels] + main, ext[:, pooled_channels:]], axis=1)
        return self.out_activation(out), indices


class ENetUpsamplingBottleneck(nn.Layer):
    """Double the resolution and narrow: the shortcut is a 1x1 conv + BN max-unpooled
    with the indices of the matching downsampling; the residual branch a 1x1
    projection, a 2x2 stride-2 transposed conv and a 1x1 expansion."""

    def __init__(self, in_channels, out_channels, dropout_prob, relu):
        super().__init__()
        internal = in_channels // ENET_INTERNAL_RATIO
        self.main_conv1 = enet_conv_bn_act(
            in_channels, out_channels, relu, activate=False, kernel_size=1
        )
        self.ext_conv1 = enet_conv_bn_act(in_channels, internal, relu, kernel_size=1)
        self.ext_tconv1 = nn.Conv2DTranspose(internal, internal, 2, stride=2, bias_attr=False)
        self.ext_tconv1_bnorm = nn.BatchNorm2D(internal)
        self.ext_tconv1_activation = enet_activation(relu)
        self.ext_conv2 = enet_conv_bn_act(
            internal, out_channels, relu, activate=False, kernel_size=1
        )
        self.ext_regul = nn.Dropout2D(p=dropout_prob)
        self.out_activation = enet_activation(relu)

    def forward(self, x, indices, size):
        """`size`: [height, width] before the matching downsampling, as a list (of
        scalar tensors under export; an odd size rounds down in the pooling, which
        unpooling and the transposed conv undo)."""
        main = F.max_unpool2d(self.main_conv1(x), indices, kernel_size=2, output_size=size)
        ext = self.ext_tconv1(self.ext_conv1(x), output_size=size)
        ext = self.ext_tconv1_activation(self.ext_tconv1_bnorm(ext))
        ext = self.ext_regul(self.ext_conv2(ext))
        return self.out_activation(main + ext)


class ENet(nn.Layer):
    """ENet. forward(x) returns [logits] at x's height and width, in training and
    evaluation alike (there is no auxiliary output).

    `encoder_relu` / `decoder_relu`: ReLU instead of PReLU in the encoder (initial block,
    stages 1 to 3) / decoder (stages 4 and 5); PaddleSeg's defaults, PReLU then ReLU,
    are the paper's.
    """

    def __init__(self, num_classes, in_channels=3, encoder_relu=False, decoder_relu=True):
        super().__init__()
        initial, stage1, stage2 = ENET_CHANNELS
        self.initial_block = ENetInitialBlock(in_channels, initial, encoder_relu)

        self.downsample1_0 = ENetDownsamplingBottleneck(
            initial, stage1, ENET_DROPOUT_STAGE1, encoder_relu
        )
        for i in range(1, 5):
            block = ENetRegularBottleneck(stage1, ENET_DROPOUT_STAGE1, encoder_relu)
            setattr(self, f"regular1_{i}", block)

        self.downsample2_0 = ENetDownsamplingBottleneck(stage1, stage2, ENET_DROPOUT, encoder_relu)
        self.stage2_3_names = []
        for name, kind, dilation in ENET_STAGE2_LAYOUT + ENET_STAGE3_LAYOUT:
            block = ENetRegularBottleneck(
                stage2,
                ENET_DROPOUT,
                encoder_relu,
                kernel_size=5 if kind == "asymmetric" else 3,
                dilation=dilation,
                asymmetric=kind == "asymmetric",
            )
            setattr(self, name, block)
            self.stage2_3_names.append(name)

        self.upsample4_0 = ENetUpsamplingBottleneck(stage2, stage1, ENET_DROPOUT, decoder_relu)
        self.regular4_1 = ENetRegularBottleneck(stage1, ENET_DROPOUT, decoder_relu)
        self.regular4_2 = ENetRegularBottleneck(stage1, ENET_DROPOUT, decoder_relu)
        self.upsample5_0 = ENetUpsamplingBottleneck(stage1, initial, ENET_DROPOUT, decoder_relu)
        self.regular5_1 = ENetRegularBottleneck(initial, ENET_DROPOUT, decoder_relu)
        # 3x3 stride 2, padding 1: doubles the size (the output size fixes the rounding).
        self.transposed_conv = nn.Conv2DTranspose(
            initial, num_classes, 3, stride=2, padding=1, bias_attr=False
        )

    def forward(self, x):
        input_size = enet_size(x)
        x = self.initial_block(x)

        stage1_size = enet_size(x)
        x, indices1 = self.downsample1_0(x)
        x = self.regular1_4(self.regular1_3(self.regular1_2(self.regular1_1(x))))

        stage2_size = enet_size(x)
        x, indices2 = self.downsample2_0(x)
        for name in self.stage2_3_names:
            x = getattr(self, name)(x)

        x = self.upsample4_0(x, indices2, stage2_size)
        x = self.regular4_2(self.regular4_1(x))
        x = self.upsample5_0(x, indices1, stage1_size)
        x = self.regular5_1(x)
        return [self.transposed_conv(x, output_size=input_size)]
