"""ANN: Zhu et al., "Asymmetric Non-local Neural Networks for Semantic Segmentation"
(ICCV 2019).

A non-local block compares every query position with every key position, which costs
(HW)^2 at 1/8 resolution. ANN samples keys and values by pyramid pooling instead (1x1,
3x3, 6x6 and 8x8 bins: 110 positions), so attention costs HW x 110 and still sees the
whole image. The fusion block (AFNB) queries the last stage against keys and values
from the third; the pyramid block (APNB) then refines the result against itself.

Attribute names (`head.fusion.stages`, `head.context`, `f_key`, `W`, ...) follow
PaddleSeg 2.8 so that its checkpoints load unchanged.
"""

import paddle
import paddle.nn.functional as F
from paddle import nn

from ..layers.basic import AuxLayer, ConvBN, ConvBNReLU, resize_to_input


def pyramid_pooled_positions(x, sizes):
    """N x C x H x W -> N x C x sum(s*s): x average-pooled to each s x s grid, flattened."""
    # flatten(2), not reshape([0, C, -1]): Paddle 3.3's oneDNN inference computed wrong
    # attention from the reshape of a conv output (tests/test_attention_heads.py).
    return paddle.concat([F.adaptive_avg_pool2d(x, size).flatten(2) for size in sizes], axis=-1)


class AsymmetricAttention(nn.Layer):
    """Attention of every query position over pyramid-pooled key/value positions.

    Queries are a 1x1 ConvBNReLU of `query_feats`; keys (1x1 ConvBNReLU) and values (1x1
    conv) come from `key_feats`, pooled to the `psp_size` grids; the attended values are
    projected by the 1x1 conv `W`. With share_key_query (APNB, one input) queries and
    keys use the same projection, as in PaddleSeg.
    """

    def __init__(
        self,
        key_in_channels,
        query_in_channels,
        key_channels,
        value_channels,
        out_channels,
        psp_size,
        share_key_query=False,
    ):
        super().__init__()
        self.key_channels = key_channels
        self.value_channels = value_channels
        self.psp_size = psp_size
        # PaddleSeg builds a max pool of size `scale` (always 1, so never applied); it has
        # no parameters and ours skips it.
        self.f_key = ConvBNReLU(key_in_channels, key_channels, 1)
        self.f_query = (
            self.f_key if share_key_query else ConvBNReLU(query_in_channels, key_channels, 1)
        )
        self.f_value = nn.Conv2D(key_in_channels, value_channels, 1)
        self.W = nn.Conv2D(value_channels, out_channels, 1)

    def forward(self, query_feats, key_feats):
        size = paddle.shape(query_feats)[2:]
        # query: N x HW x Ck; key: N x Ck x S; value: N x S x Cv (S pooled positions)
        query = self.f_query(query_feats).flatten(2).transpose([0, 2, 1])
        key = pyramid_pooled_positions(self.f_key(key_feats), self.psp_size)
        value = pyramid_pooled_positions(self.f_value(key_feats), self.psp_size).transpose(
            [0, 2, 1]
        )
        attention = F.softmax(paddle.matmul(query, key) * self.key_channels**-0.5, axis=-1)
        context = paddle.matmul(attention, value).transpose([0, 2, 1])
        context = context.reshape([0, self.value_channels, size[0], size[1]])
        return self.W(context)


class AFNB(nn.Layer):
    """Asymmetric Fusion Non-local Block: high-level queries attend to low-level keys and
    values; the context is concatenated with the high-level input and fused by a 1x1
    ConvBN (no ReLU, as in PaddleSeg) and dropout."""

    def __init__(
        self,
        low_in_channels,
        high_in_channels,
        out_channels,
        key_channels,
        value_channels,
        dropout_prob,
        psp_size,
    ):
        super().__init__()
        # A list of one attention stage: PaddleSeg's layout (it could sum several).
        self.stages = nn.LayerList(
            [
                AsymmetricAttention(
                    low_in_channels,
                    high_in_channels,
                    key_channels,
                    value_channels,
                    out_channels,
                    psp_size,
                )
            ]
        )
        self.conv_bn = ConvBN(out_channels + high_in_channels, out_channels, 1)
        self.dropout = nn.Dropout(p=dropout_prob)

    def forward(self, low_feats, high_feats):
        context = self.stages[0](high_feats, low_feats)
        return self.dropout(self.conv_bn(paddle.concat([context, high_feats], axis=1)))


class APNB(nn.Layer):
    """Asymmetric Pyramid Non-local Block: self-attention over pyramid-pooled keys and
    values, concatenated with the input and fused by a 1x1 ConvBNReLU and dropout."""

    def __init__(
        self, in_channels, out_channels, key_channels, value_channels, dropout_prob, psp_size
    ):
        super().__init__()
        self.stages = nn.LayerList(
            [
                AsymmetricAttention(
                    in_channels,
                    in_channels,
                    key_channels,
                    value_channels,
                    out_channels,
                    psp_size,
                    share_key_query=True,
                )
            ]
        )
        self.conv_bn = ConvBNReLU(in_channels * 2, out_channels, 1)
        self.dropout = nn.Dropout(p=dropout_prob)

    def forward(self, x):
        context = self.stages[0](x, x)
        return self.dropout(self.conv_bn(paddle.concat([context, x], axis=1)))


class ANNHead(nn.Layer):
    """AFNB(low, high) -> 3x3 ConvBNReLU -> APNB -> 1x1 classifier, plus an auxiliary
    classifier on the low-level feature map."""

    def __init__(
        self,
        num_classes,
        backbone_indices,
        backbone_channels,
        key_value_channels,
        inter_channels,
        psp_size,
        enable_auxiliary_loss,
    ):
        super().__init__()
        low_channels, high_channels = backbone_channels
        self.backbone_indices = backbone_indices
        self.enable_auxiliary_loss = enable_auxiliary_loss
        self.fusion = AFNB(
            low_channels,
            high_channels,
            high_channels,
            key_value_channels,
            key_value_channels,
            0.05,
            psp_size,
        )
        self.context = nn.Sequential(
            ConvBNReLU(high_channels, inter_channels, 3, padding=1),
            APNB(
                inter_channels,
                inter_channels,
                key_value_channels,
                key_value_channels,
                0.05,
                psp_size,
            ),
        )
        self.cls = nn.Conv2D(inter_channels, num_classes, 1)
        # Built even without the auxiliary loss, as in PaddleSeg, so checkpoints match.
        self.auxlayer = AuxLayer(low_channels, low_channels // 2, num_classes, 0.05)

    def forward(self, feats):
        low = feats[self.backbone_indices[0]]
        high = feats[self.backbone_indices[1]]
        logits = [self.cls(self.context(self.fusion(low, high)))]
        # Like PaddleSeg the auxiliary head also runs in eval (the model zoo's FLOPs and
        # parameter counts include it); export keeps output 0 only.
        if self.enable_auxiliary_loss:
            logits.append(self.auxlayer(low))
        return logits


class ANN(nn.Layer):
    """ANN. forward(x) returns logits resized to x's height and width: [main, aux] with
    enable_auxiliary_loss, else [main].

    Args:
        num_classes: number of classes.
        backbone: layer returning a list of feature maps and exposing `feat_channels`.
        backbone_indices: (low-level, high-level) feature map indices.
        key_value_channels: key and value channels of AFNB's and APNB's attention.
        inter_channels: input and output channels of APNB.
        psp_size: pooled grid sizes that sample keys and values.
        enable_auxiliary_loss: run the auxiliary head.
        align_corners: F.interpolate's align_corners for the final upsampling.
    """

    def __init__(
        self,
        num_classes,
        backbone,
        backbone_indices=(2, 3),
        key_value_channels=256,
        inter_channels=512,
        psp_size=(1, 3, 6, 8),
        enable_auxiliary_loss=True,
        align_corners=False,
    ):
        super().__init__()
        self.backbone = backbone
        backbone_channels = [backbone.feat_channels[i] for i in backbone_indices]
        self.head = ANNHead(
            num_classes,
            backbone_indices,
            backbone_channels,
            key_value_channels,
            inter_channels,
            psp_size,
            enable_auxiliary_loss,
        )
        self.align_corners = align_corners

    def forward(self, x):
        logits = self.head(self.backbone(x))
        return resize_to_input(logits, x, self.align_corners)
