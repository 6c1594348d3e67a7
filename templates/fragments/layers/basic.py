"""Building blocks shared by backbones and heads.

Attribute names (`_conv`, `_batch_norm`) follow PaddleSeg 2.8 so that its
checkpoints load without renaming.
"""

import paddle
import paddle.nn.functional as F
from paddle import nn


class ConvBN(nn.Layer):
    """Conv2D followed by batch norm; 'same' padding unless told otherwise."""

    def __init__(self, in_channels, out_channels, kernel_size, padding="same", **conv_kwargs):
        super().__init__()
        self._conv = nn.Conv2D(
            in_channels, out_channels, kernel_size, padding=padding, **conv_kwargs
        )
        self._batch_norm = nn.BatchNorm2D(out_channels)

    def forward(self, x):
        return self._batch_norm(self._conv(x))


class ConvBNReLU(ConvBN):
    """ConvBN followed by ReLU."""

    def forward(self, x):
        return F.relu(self._batch_norm(self._conv(x)))


class AuxLayer(nn.Layer):
    """Auxiliary (deep supervision) classifier: 3x3 ConvBNReLU, dropout, 1x1 conv.

    `conv_kwargs` go to the 3x3 conv (e.g. bias_attr=False, as GINet builds it).
    """

    def __init__(self, in_channels, inter_channels, out_channels, dropout_prob=0.1, **conv_kwargs):
        super().__init__()
        self.conv_bn_relu = ConvBNReLU(in_channels, inter_channels, 3, padding=1, **conv_kwargs)
        self.dropout = nn.Dropout(p=dropout_prob)
        self.conv = nn.Conv2D(inter_channels, out_channels, 1)

    def forward(self, x):
        return self.conv(self.dropout(self.conv_bn_relu(x)))


class SeparableConvBNReLU(nn.Layer):
    """Depthwise conv + BN, then a 1x1 pointwise conv + BN + ReLU: a kxk conv's receptive
    field for about 1/k^2 of its weights and multiply-adds (Xception's factorisation).

    `conv_kwargs` go to the depthwise conv; `pointwise_bias` is the pointwise conv's
    bias_attr (None: a bias, False: none).
    """

    def __init__(
        self,
        in_channels,
        out_channels,
        kernel_size,
        padding="same",
        pointwise_bias=None,
        **conv_kwargs,
    ):
        super().__init__()
        self.depthwise_conv = ConvBN(
            in_channels,
            in_channels,
            kernel_size,
            padding=padding,
            groups=in_channels,
            **conv_kwargs,
        )
        # "piontwise" is PaddleSeg's spelling; its checkpoints use the name.
        self.piontwise_conv = ConvBNReLU(in_channels, out_channels, 1, bias_attr=pointwise_bias)

    def forward(self, x):
        return self.piontwise_conv(self.depthwise_conv(x))


def resize_to_input(logits, x, align_corners, align_mode=0):
    """Each logit bilinearly resized to the height and width of the input `x`: what the
    models return, so that losses and predictions line up with the label."""
    size = paddle.shape(x)[2:]
    return [
        F.interpolate(
            logit, size, mode="bilinear", align_corners=align_corners, align_mode=align_mode
        )
        for logit in logits
    ]


def upsample_by(x, factor, align_corners=False):
    """`x` bilinearly upsampled by an integer `factor`, computed as
    F.interpolate(scale_factor=factor) computes it (source = (target + 0.5) / factor -
    0.5, or the corners aligned) but to an explicit output size: for a scale factor,
    Paddle 3 writes a float64 `scale` attribute into the exported program, which
    paddle2onnx cannot read ("the 0th elementwise MUST be ir::FloatAttribute"), so
    `export.py --onnx` failed on every model that used one."""
    size = paddle.shape(x)[2:] * factor
    return F.interpolate(x, size, mode="bilinear", align_corners=align_corners)


class Upsample2x(nn.Layer):
    """nn.Upsample(scale_factor=2, mode="bilinear") through `upsample_by`. It has no
    parameters, so the names of the layers around it stay PaddleSeg's."""

    def __init__(self, align_corners=False):
        super().__init__()
        self.align_corners = align_corners

    def forward(self, x):
        return upsample_by(x, 2, self.align_corners)
