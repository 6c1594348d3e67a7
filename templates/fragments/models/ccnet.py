"""CCNet: Huang et al., "CCNet: Criss-Cross Attention for Semantic Segmentation"
(ICCV 2019).

Criss-cross attention lets each position attend only to the positions in its own row
and column (H + W - 1 of them instead of H x W). Applied twice with shared weights
(the recurrence), information from any position reaches every other: first along its
row or column, then along the crossing column or row.

Attribute names (`head.conva`, `head.cca.q_conv`, `head.out`, `aux_head`, ...) follow
PaddleSeg 2.8 so that its checkpoints load unchanged.
"""

import paddle
import paddle.nn.functional as F
from paddle import nn

from ..layers.basic import AuxLayer, resize_to_input


class ConvBNLeakyReLU(nn.Layer):
    """Conv2D, batch norm, then leaky ReLU (slope 0.01); 'same' padding unless told
    otherwise. The activation is a layer, as in PaddleSeg, so paddle.flops counts it.

    An exported program computes the leaky ReLU as max(x, 0.01 x) instead, the same
    values bit for bit: Paddle 3 saves leaky_relu's slope as a double, which paddle2onnx
    2.1 reads as a float (its ONNX LeakyRelu got a slope of 2.5e-43, a plain ReLU, and
    onnxruntime's logits were 1% off) and which Paddle 3.3's oneDNN conv fusion misreads.
    """

    def __init__(self, in_channels, out_channels, kernel_size, padding="same", **conv_kwargs):
        super().__init__()
        self._conv = nn.Conv2D(
            in_channels, out_channels, kernel_size, padding=padding, **conv_kwargs
        )
        self._batch_norm = nn.BatchNorm2D(out_channels)
        self._relu = nn.LeakyReLU()

    def forward(self, x):
        x = self._batch_norm(self._conv(x))
        if paddle.in_dynamic_mode():
            return self._relu(x)
        return paddle.maximum(x, x * self._relu._negative_slope)


class CrissCrossAttention(nn.Layer):
    """x + gamma * (values along each position's row and column, weighted by one softmax
    over the query's similarity to all of them). gamma starts at 0."""

    def __init__(self, in_channels):
        super().__init__()
        self.q_conv = nn.Conv2D(in_channels, in_channels // 8, 1)
        self.k_conv = nn.Conv2D(in_channels, in_channels // 8, 1)
        self.v_conv = nn.Conv2D(in_channels, in_channels, 1)
        self.gamma = self.create_parameter(
            shape=[1], dtype="float32", default_initializer=nn.initializer.Constant(0)
        )

    def forward(self, x):
        shape = paddle.shape(x)
        batch, height, width = shape[0], shape[2], shape[3]
        query, key, value = self.q_conv(x), self.k_conv(x), self.v_conv(x)

        def columns(t):  # N x C x H x W -> (N W) x C x H: one sequence per column
            return t.transpose([0, 3, 1, 2]).reshape([batch * width, -1, height])

        def rows(t):  # N x C x H x W -> (N H) x C x W: one sequence per row
            return t.transpose([0, 2, 1, 3]).reshape([batch * height, -1, width])

        # energy_h[n, i, j, k]: query (i, j) . key (k, j); energy_w[n, i, j, k]: query
        # (i, j) . key (i, k)
        energy_h = paddle.bmm(columns(query).transpose([0, 2, 1]), columns(key))
        # The position itself lies on both its row and its column; it is counted in the
        # row only, so the column term masks it out.
        index = paddle.arange(height)
        diagonal = index.unsqueeze(1) == index.unsqueeze(0)
        energy_h = paddle.where(diagonal, paddle.full_like(energy_h, float("-inf")), energy_h)
        energy_h = energy_h.reshape([batch, width, height, height]).transpose([0, 2, 1, 3])
        energy_w = paddle.bmm(rows(query).transpose([0, 2, 1]), rows(key))
        energy_w = energy_w.reshape([batch, height, width, width])
        attention = F.softmax(paddle.concat([energy_h, energy_w], axis=3), axis=3)

        attention_h = (
            attention[:, :, :, :height]
            .transpose([0, 2, 1, 3])
            .reshape([batch * width, height, height])
        )
        attention_w = attention[:, :, :, height:].reshape([batch * height, width, width])
        out_h = paddle.bmm(columns(value), attention_h.transpose([0, 2, 1]))
        out_h = out_h.reshape([batch, width, -1, height]).transpose([0, 2, 3, 1])
        out_w = paddle.bmm(rows(value), attention_w.transpose([0, 2, 1]))
        out_w = out_w.reshape([batch, height, -1, width]).transpose([0, 2, 1, 3])
        return self.gamma * (out_h + out_w) + x


class RCCAModule(nn.Layer):
    """Recurrent criss-cross attention: 3x3 ConvBNLeakyReLU to in_channels / 4, the same
    attention `recurrence` times, 3x3 ConvBNLeakyReLU, then concatenated with the input
    and classified by an AuxLayer-shaped block (3x3 ConvBNReLU, dropout, 1x1 conv)."""

    def __init__(self, in_channels, out_channels, num_classes, dropout_prob=0.1, recurrence=1):
        super().__init__()
        inter_channels = in_channels // 4
        self.recurrence = recurrence
        self.conva = ConvBNLeakyReLU(in_channels, inter_channels, 3, padding=1, bias_attr=False)
        self.cca = CrissCrossAttention(inter_channels)
        self.convb = ConvBNLeakyReLU(inter_channels, inter_channels, 3, padding=1, bias_attr=False)
        self.out = AuxLayer(
            in_channels + inter_channels, out_channels, num_classes, dropout_prob=dropout_prob
        )

    def forward(self, x):
        feat = self.conva(x)
        for _ in range(self.recurrence):
            feat = self.cca(feat)
        return self.out(paddle.concat([x, self.convb(feat)], axis=1))


class CCNet(nn.Layer):
    """CCNet. forward(x) returns logits resized to x's height and width: [main, aux] in
    training with enable_auxiliary_loss, else [main].

    Args:
        num_classes: number of classes.
        backbone: layer returning a list of feature maps and exposing `feat_channels`.
        backbone_indices: (auxiliary feature, main head feature) indices.
        enable_auxiliary_loss: add the auxiliary head (run in training only).
        dropout_prob: dropout before the classifiers.
        recurrence: times the criss-cross attention runs.
        align_corners: F.interpolate's align_corners for the final upsampling.
    """

    def __init__(
        self,
        num_classes,
        backbone,
        backbone_indices=(2, 3),
        enable_auxiliary_loss=True,
        dropout_prob=0.0,
        recurrence=1,
        align_corners=False,
    ):
        super().__init__()
        self.backbone = backbone
        self.backbone_indices = backbone_indices
        self.enable_auxiliary_loss = enable_auxiliary_loss
        self.align_corners = align_corners
        channels = [backbone.feat_channels[i] for i in backbone_indices]
        if enable_auxiliary_loss:
            self.aux_head = AuxLayer(channels[0], 512, num_classes, dropout_prob=dropout_prob)
        self.head = RCCAModule(
            channels[1], 512, num_classes, dropout_prob=dropout_prob, recurrence=recurrence
        )

    def forward(self, x):
        feats = self.backbone(x)
        logits = [self.head(feats[self.backbone_indices[-1]])]
        # The auxiliary head runs in training only, as in PaddleSeg.
        if self.training and self.enable_auxiliary_loss:
            logits.append(self.aux_head(feats[self.backbone_indices[-2]]))
        return resize_to_input(logits, x, self.align_corners)
