"""GSCNN: Takikawa et al., "Gated-SCNN: Gated Shape CNNs for Semantic Segmentation"
(ICCV 2019).

Next to the usual (regular) stream, a thin "shape stream" at full resolution
processes only boundary information: starting from the backbone's stem, it is
refined by residual blocks and gated convolutions whose gates come from deeper
backbone stages (so the high-level features decide which low-level edges matter).
It predicts a boundary map, supervised with the label's edge map; that map, together
with the image's Canny edges, enters the ASPP as one more branch (the fusion module),
and a DeepLabV3+ decoder produces the logits.

Attribute names (`head.dsn1`, `head.res1`, `head.gate1._gate_conv`, `head.cw`,
`head.aspp.edge_conv`, ...) follow PaddleSeg 2.8 so that its checkpoints load unchanged.
"""

import numpy as np
import paddle
import paddle.nn.functional as F
from paddle import nn

from ..backbones.resnet_vd import ResNetVdBasicBlock
from ..layers.aspp import ASPPModule
from ..layers.basic import ConvBNReLU
from .deeplab import Decoder

# 3x3 Sobel derivatives along x and y, as cross-correlation kernels (what conv2d applies).
SOBEL_KERNELS = np.array(
    [
        [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]],
        [[-1, -2, -1], [0, 0, 0], [1, 2, 1]],
    ],
    dtype=np.float32,
)

# OpenCV's fixed-point test of the gradient direction: tan(22.5 deg) * 2^15, rounded.
CANNY_TAN_22_5_Q15 = 13573


def canny_edges(x, low=10, high=100):
    """cv2.Canny(image, low, high) / 255 of each image of a batch normalised with mean and
    std 0.5: an N x 1 x H x W float map of 0 and 1, computed with Paddle operations so
    that it runs on the model's device and is part of the exported graph. The default
    hysteresis thresholds (on the |dx| + |dy| Sobel magnitude of the 0-255 image) are
    those of PaddleSeg's GSCNN.

    The image is recovered as PaddleSeg's GSCNN recovers it: (x * 0.5 + 0.5) * 255 cast
    to uint8, i.e. truncated, and modulo 256 where out of range as numpy's cast gives it.
    Then as OpenCV computes it, bit for bit: 3x3 Sobel derivatives of each channel
    (border replicated); per pixel, the channel with the largest L1 magnitude
    |dx| + |dy| (the first on ties); non-maximum suppression against the two neighbours
    across the gradient direction, quantised to 0, 45, 90 or 135 degrees with OpenCV's
    integer tangent test (outside the image counts as magnitude 0); pixels above `high`
    are edges, and pixels above `low` that survived the suppression join them when
    8-connected to an edge through such pixels (hysteresis).
    """
    value = paddle.trunc((x * 0.5 + 0.5) * 255)
    image = value - 256 * paddle.floor(value / 256)
    channels = x.shape[1]
    kernels = paddle.to_tensor(np.tile(SOBEL_KERNELS, (channels, 1, 1))[:, None])
    # grouped conv: output channels are (dx, dy) of channel 0, then of channel 1, ...
    gradients = F.conv2d(F.pad(image, [1, 1, 1, 1], mode="replicate"), kernels, groups=channels)
    dx, dy = gradients[:, 0::2], gradients[:, 1::2]
    magnitudes = dx.abs() + dy.abs()
    strongest = paddle.argmax(magnitudes, axis=1, keepdim=True)
    magnitude = paddle.take_along_axis(magnitudes, strongest, axis=1)
    dx = paddle.take_along_axis(dx, strongest, axis=1)
    dy = paddle.take_along_axis(dy, strongest, axis=1)

    # Direction: horizontal gradient when |dy| < tan(22.5) |dx|, vertical when
    # |dy| > tan(67.5) |dx| = (tan(22.5) + 2) |dx|, diagonal otherwise (exact integers).
    abs_dx = dx.abs().astype("int32")
    abs_dy_q15 = dy.abs().astype("int32") * 2**15
    tan_22_5_dx = abs_dx * CANNY_TAN_22_5_Q15
    horizontal = abs_dy_q15 < tan_22_5_dx
    vertical = abs_dy_q15 > tan_22_5_dx + abs_dx * 2**16
    same_sign = (dx < 0) == (dy < 0)

    padded = F.pad(magnitude, [1, 1, 1, 1], value=0.0)
    up, down = padded[:, :, :-2, 1:-1], padded[:, :, 2:, 1:-1]
    left, right = padded[:, :, 1:-1, :-2], padded[:, :, 1:-1, 2:]
    up_left, up_right = padded[:, :, :-2, :-2], padded[:, :, :-2, 2:]
    down_left, down_right = padded[:, :, 2:, :-2], padded[:, :, 2:, 2:]
    # OpenCV's tie-breaking: strictly above one neighbour, at least the other (straight)
    peak_across = (magnitude > left) & (magnitude >= right)
    peak_along = (magnitude > up) & (magnitude >= down)
    peak_diagonal = paddle.where(
        same_sign,
        (magnitude > up_left) & (magnitude > down_right),
        (magnitude > up_right) & (magnitude > down_left),
    )
    peak = paddle.where(horizontal, peak_across, paddle.where(vertical, peak_along, peak_diagonal))
    candidate = ((magnitude > low) & peak).astype("float32")
    edges = ((magnitude > high) & peak).astype("float32")

    # Hysteresis: grow the edges through candidate pixels, one 8-neighbourhood a step.
    grown = F.max_pool2d(edges, 3, stride=1, padding=1) * candidate
    while paddle.any(grown != edges):
        edges = grown
        grown = F.max_pool2d(edges, 3, stride=1, padding=1) * candidate
    return edges


class GatedSpatialConv2d(nn.Layer):
    """GSCNN's gated convolution: a gate in [0, 1] computed from the shape-stream
    features and a deeper stage's boundary response re-weights the features (x (1 +
    gate), so nothing is ever switched off completely), then a 1x1 conv."""

    def __init__(self, in_channels, out_channels):
        super().__init__()
        self._gate_conv = nn.Sequential(
            nn.BatchNorm2D(in_channels + 1),
            nn.Conv2D(in_channels + 1, in_channels + 1, 1),
            nn.ReLU(),
            nn.Conv2D(in_channels + 1, 1, 1),
            nn.BatchNorm2D(1),
            nn.Sigmoid(),
        )
        self.conv = nn.Conv2D(in_channels, out_channels, 1, bias_attr=False)

    def forward(self, x, gating):
        gate = self._gate_conv(paddle.concat([x, gating], axis=1))
        return self.conv(x * (gate + 1))


class EdgeASPPModule(ASPPModule):
    """ASPP with image pooling plus one branch more (GSCNN's fusion module): the boundary
    map, resized to the features and embedded by a 1x1 ConvBNReLU."""

    def __init__(self, aspp_ratios, in_channels, out_channels, align_corners):
        super().__init__(
            aspp_ratios,
            in_channels,
            out_channels,
            align_corners,
            image_pooling=True,
            extra_channels=out_channels,
        )
        self.edge_conv = ConvBNReLU(1, out_channels, 1, bias_attr=False)

    def forward(self, x, edge):
        edge = F.interpolate(
            edge, paddle.shape(x)[2:], mode="bilinear", align_corners=self.align_corners
        )
        return self.fuse(self.branches(x) + [self.edge_conv(edge)])


class GSCNNHead(nn.Layer):
    """Shape stream (stem -> 3 x [residual block, 1x1 reduce, gated conv with a deeper
    stage], full resolution) -> boundary probability; fused with Canny edges into an
    attention map that joins the ASPP over feats[backbone_indices[3]]; a DeepLabV3+
    decoder with feats[backbone_indices[0]]. Returns [logits, boundary probability]."""

    def __init__(
        self,
        num_classes,
        backbone_indices,
        backbone_channels,
        aspp_ratios,
        aspp_out_channels,
        align_corners,
    ):
        super().__init__()
        self.backbone_indices = backbone_indices
        self.align_corners = align_corners
        # 1x1 "deep supervision" convs: a one-channel boundary response per stage 1-3
        self.dsn1 = nn.Conv2D(backbone_channels[backbone_indices[1]], 1, 1)
        self.dsn2 = nn.Conv2D(backbone_channels[backbone_indices[2]], 1, 1)
        self.dsn3 = nn.Conv2D(backbone_channels[backbone_indices[3]], 1, 1)
        # the shape stream: 64 -> 32 -> 16 -> 8 channels, then one
        self.res1 = ResNetVdBasicBlock(64, 64)
        self.d1 = nn.Conv2D(64, 32, 1)
        self.gate1 = GatedSpatialConv2d(32, 32)
        self.res2 = ResNetVdBasicBlock(32, 32)
        self.d2 = nn.Conv2D(32, 16, 1)
        self.gate2 = GatedSpatialConv2d(16, 16)
        self.res3 = ResNetVdBasicBlock(16, 16)
        self.d3 = nn.Conv2D(16, 8, 1)
        self.gate3 = GatedSpatialConv2d(8, 8)
        self.fuse = nn.Conv2D(8, 1, 1, bias_attr=False)
        # [boundary probability, Canny edges] -> one attention map for the fusion module
        self.cw = nn.Conv2D(2, 1, 1, bias_attr=False)
        self.aspp = EdgeASPPModule(
            aspp_ratios, backbone_channels[backbone_indices[3]], aspp_out_channels, align_corners
        )
        self.decoder = Decoder(
            num_classes,
            backbone_channels[backbone_indices[0]],
            align_corners,
            aspp_channels=aspp_out_channels,
        )

    def forward(self, x, feats, stem):
        size = paddle.shape(x)[2:]

        def full_size(y):
            return F.interpolate(y, size, mode="bilinear", align_corners=self.align_corners)

        # Everything in the shape stream is at the input's size already after the first
        # upsampling; PaddleSeg's same-size resizes in between are identities, left out.
        l1, l2, l3 = (feats[i] for i in self.backbone_indices[1:])
        shape = self.d1(self.res1(full_size(stem)))
        shape = self.gate1(shape, full_size(self.dsn1(l1)))
        shape = self.gate2(self.d2(self.res2(shape)), full_size(self.dsn2(l2)))
        shape = self.gate3(self.d3(self.res3(shape)), full_size(self.dsn3(l3)))
        edge_prob = F.sigmoid(self.fuse(shape))

        attention = F.sigmoid(self.cw(paddle.concat([edge_prob, canny_edges(x)], axis=1)))
        aspp = self.aspp(l3, attention)
        logit = self.decoder(aspp, feats[self.backbone_indices[0]])
        return [logit, edge_prob]


class GSCNN(nn.Layer):
    """GSCNN. forward(x) returns, at x's height and width, [logits, (logits, boundary
    probability), boundary probability, logits], one entry per loss, in training and in
    eval alike (as PaddleSeg's model does; evaluation and export use entry 0).

    The Canny branch expects images normalised with mean and std 0.5 (PaddleSeg's
    Normalize defaults), as PaddleSeg's GSCNN does.

    Args:
        num_classes: number of classes.
        backbone: ResNet-vd (the shape stream reads its stem) exposing `feat_channels`.
        backbone_indices: (decoder's low-level feature, then the three stages that gate
            the shape stream, the last of which also feeds the ASPP) indices.
        aspp_ratios: dilation rates of the ASPP branches.
        aspp_out_channels: channels of each ASPP branch and of its output.
        align_corners: F.interpolate's align_corners for every upsampling.
    """

    def __init__(
        self,
        num_classes,
        backbone,
        backbone_indices=(0, 1, 2, 3),
        aspp_ratios=(1, 6, 12, 18),
        aspp_out_channels=256,
        align_corners=False,
    ):
        super().__init__()
        self.backbone = backbone
        self.head = GSCNNHead(
            num_classes,
            backbone_indices,
            backbone.feat_channels,
            aspp_ratios,
            aspp_out_channels,
            align_corners,
        )
        self.align_corners = align_corners

    def forward(self, x):
        stem, feats = self.backbone.forward_with_stem(x)
        logit, edge_prob = self.head(x, feats, stem)
        logit = F.interpolate(
            logit, paddle.shape(x)[2:], mode="bilinear", align_corners=self.align_corners
        )
        return [logit, (logit, edge_prob), edge_prob, logit]
