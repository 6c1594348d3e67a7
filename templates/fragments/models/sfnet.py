"""SFNet: Li et al., "Semantic Flow for Fast and Accurate Scene Parsing" (ECCV 2020).

A feature pyramid whose top-down pass does not just upsample the coarser level: a
flow alignment module (FAM) predicts a 2-D offset field ("semantic flow") between
two adjacent levels and warps the coarser features onto the finer grid with it, so
that the sum does not mix misaligned features. The coarsest level is the last stage
after pyramid pooling; all levels are concatenated at the finest resolution and
classified.

Attribute names (`head.ppm`, `head.fpn_in`, `head.fpn_out_align`, `head.conv_last`,
...) follow PaddleSeg 2.8 so that its checkpoints load unchanged.
"""

import paddle
import paddle.nn.functional as F
from paddle import nn

from ..layers.basic import AuxLayer, ConvBNReLU, resize_to_input
from ..layers.fpn import fpn_lateral_conv, fpn_output_conv
from .pspnet import PyramidPoolingModule


def sfnet_flow_warp(x, flow, size):
    """Bilinearly sample `x` on a regular (h, w) = `size` grid displaced by `flow`.

    flow: N x 2 x h x w, (x, y) offsets. As in the original SFNet, an offset is divided
    by the grid's width (height) before it is added to the [-1, 1] sampling
    coordinates; sampling outside `x` reads zeros.
    """
    height, width = size[0], size[1]
    grid_y, grid_x = paddle.meshgrid(
        paddle.linspace(-1.0, 1.0, height), paddle.linspace(-1.0, 1.0, width)
    )
    grid = paddle.stack([grid_x, grid_y], axis=-1)  # h x w x 2, (x, y) as grid_sample reads
    scale = paddle.stack([width, height]).astype(flow.dtype)
    grid = grid + flow.transpose([0, 2, 3, 1]) / scale
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=True)


class FlowAlignmentModule(nn.Layer):
    """FAM: predict the flow between a fine and a coarse level from both (reduced to
    `channels` by 1x1 convs, the coarse one upsampled), then warp the coarse features
    onto the fine level's grid."""

    def __init__(self, in_channels, channels):
        super().__init__()
        self.down_h = nn.Conv2D(in_channels, channels, 1, bias_attr=False)
        self.down_l = nn.Conv2D(in_channels, channels, 1, bias_attr=False)
        self.flow_make = nn.Conv2D(channels * 2, 2, 3, padding=1, bias_attr=False)

    def forward(self, fine, coarse):
        size = paddle.shape(fine)[2:]
        coarse_reduced = F.interpolate(
            self.down_h(coarse), size, mode="bilinear", align_corners=True
        )
        flow = self.flow_make(paddle.concat([coarse_reduced, self.down_l(fine)], axis=1))
        return sfnet_flow_warp(coarse, flow, size)


class SFNetHead(nn.Layer):
    """Pyramid pooling on the coarsest map, flow-aligned top-down pyramid, fusion of all
    levels at the finest resolution, classifier.

    With enable_auxiliary_loss a deep-supervision classifier reads each aligned sum
    (coarse to fine); forward returns [main, aux...].
    """

    def __init__(self, num_classes, in_channels, fpn_dim, enable_auxiliary_loss=False):
        super().__init__()
        self.enable_auxiliary_loss = enable_auxiliary_loss
        self.ppm = PyramidPoolingModule(
            in_channels[-1], fpn_dim, (1, 2, 3, 6), dim_reduction=True, align_corners=True
        )
        finer = in_channels[:-1]
        self.fpn_in = nn.LayerList([fpn_lateral_conv(c, fpn_dim) for c in finer])
        self.fpn_out = nn.LayerList([fpn_output_conv(fpn_dim) for _ in finer])
        self.fpn_out_align = nn.LayerList(
            [FlowAlignmentModule(fpn_dim, fpn_dim // 2) for _ in finer]
        )
        if enable_auxiliary_loss:
            self.dsn = nn.LayerList(
                [nn.Sequential(AuxLayer(fpn_dim, fpn_dim, num_classes)) for _ in finer]
            )
        self.conv_last = nn.Sequential(
            ConvBNReLU(len(in_channels) * fpn_dim, fpn_dim, 3, bias_attr=False),
            nn.Conv2D(fpn_dim, num_classes, 1),
        )

    def forward(self, feats):
        top = self.ppm(feats[-1])
        pyramid = [top]
        aux_logits = []
        for i in reversed(range(len(feats) - 1)):
            lateral = self.fpn_in[i](feats[i])
            top = lateral + self.fpn_out_align[i](lateral, top)
            pyramid.append(self.fpn_out[i](top))
            if self.enable_auxiliary_loss:
                aux_logits.append(self.dsn[i](top))
        finest = pyramid[-1]
        size = paddle.shape(finest)[2:]
        # finest first, the coarser levels upsampled onto it
        fused = [finest] + [
            F.interpolate(level, size, mode="bilinear", align_corners=True)
            for level in reversed(pyramid[:-1])
        ]
        return [self.conv_last(paddle.concat(fused, axis=1))] + aux_logits


class SFNet(nn.Layer):
    """SFNet. forward(x) returns logits resized to x's height and width: [main], then
    with enable_auxiliary_loss one deep-supervision output per aligned level (coarse to
    fine; PaddleSeg returns these first and the main logits last).

    Args:
        num_classes: number of classes.
        backbone: layer returning a list of feature maps and exposing `feat_channels`.
        backbone_indices: the four backbone feature maps the pyramid reads, finest first.
        enable_auxiliary_loss: add the deep-supervision classifiers.
        align_corners: F.interpolate's align_corners for the final upsampling.
    """

    def __init__(
        self,
        num_classes,
        backbone,
        backbone_indices=(0, 1, 2, 3),
        enable_auxiliary_loss=False,
        align_corners=False,
    ):
        super().__init__()
        self.backbone = backbone
        self.backbone_indices = backbone_indices
        in_channels = [backbone.feat_channels[i] for i in backbone_indices]
        # PaddleSeg's widths: a 128-channel pyramid on ResNet18 (512-channel last stage),
        # 256 on the bottleneck ResNets (2048).
        fpn_dim = 128 if in_channels[-1] <= 512 else 256
        self.head = SFNetHead(num_classes, in_channels, fpn_dim, enable_auxiliary_loss)
        self.align_corners = align_corners

    def forward(self, x):
        feats = self.backbone(x)
        logits = self.head([feats[i] for i in self.backbone_indices])
        return resize_to_input(logits, x, self.align_corners)
