"""DecoupledSegNet: Li et al., "Improving Semantic Segmentation via Decoupled Body and
Edge Supervision" (ECCV 2020).

ASPP features are split into a smooth "body" (each pixel resampled from a learned
position inside its object, which makes the object's features consistent) and the
residual "edge" (features minus body: what the smoothing removed, the boundaries).
The edge part is refined with low-level backbone features and supervised with the
label's edge map, the body with a boundary-relaxed loss; the final classifier sees
both, added back together, next to the ASPP features.

Attribute names (`head.squeeze_body_edge.flow_make`, `head.bot_fine`, ...) follow
PaddleSeg 2.8 so that its checkpoints load unchanged.
"""

import paddle
import paddle.nn.functional as F
from paddle import nn

from ..layers.aspp import ASPPModule
from ..layers.basic import ConvBNReLU, resize_to_input


def flow_warp(x, flow):
    """x resampled (bilinearly, zeros outside) at each pixel's position moved by `flow`
    (N x 2 x H x W, x then y offsets), on the [-1, 1] grid of F.grid_sample with
    align_corners. As PaddleSeg does, offsets are divided by the width and height
    (not half of them), so one unit of flow moves half a pixel."""
    size = paddle.shape(x)[2:]
    grid_y, grid_x = paddle.meshgrid(
        paddle.linspace(-1.0, 1.0, size[0]), paddle.linspace(-1.0, 1.0, size[1])
    )
    grid = paddle.stack([grid_x, grid_y], axis=-1).unsqueeze(0)  # 1 x H x W x (x, y)
    scale = paddle.stack([size[1], size[0]]).astype(flow.dtype)
    grid = grid + flow.transpose([0, 2, 3, 1]) / scale
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=True)


class SqueezeBodyEdge(nn.Layer):
    """Split features into body and edge. Two strided depthwise ConvBNReLUs squeeze the
    map to 1/4 size (a coarse, object-level view); a 3x3 conv over [features, upsampled
    coarse view] predicts a flow field; the body is the features warped along it, the
    edge what is left: features - body."""

    def __init__(self, inplane, align_corners=False):
        super().__init__()
        self.align_corners = align_corners
        self.down = nn.Sequential(
            ConvBNReLU(inplane, inplane, 3, groups=inplane, stride=2),
            ConvBNReLU(inplane, inplane, 3, groups=inplane, stride=2),
        )
        self.flow_make = nn.Conv2D(inplane * 2, 2, 3, padding="same", bias_attr=False)

    def forward(self, x):
        seg_down = F.interpolate(
            self.down(x), paddle.shape(x)[2:], mode="bilinear", align_corners=self.align_corners
        )
        flow = self.flow_make(paddle.concat([x, seg_down], axis=1))
        body = flow_warp(x, flow)
        return body, x - body


class DecoupledSegNetHead(nn.Layer):
    """ASPP on feats[backbone_indices[1]], split into body and edge; the edge is fused
    with feats[backbone_indices[0]] at its (stride-4) size. Returns [final logits, body
    logits, edge probability]."""

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
        channels = aspp_out_channels
        self.aspp = ASPPModule(
            aspp_ratios,
            backbone_channels[backbone_indices[1]],
            channels,
            align_corners,
            image_pooling=True,
        )
        self.bot_fine = nn.Conv2D(backbone_channels[backbone_indices[0]], 48, 1, bias_attr=False)
        self.squeeze_body_edge = SqueezeBodyEdge(channels, align_corners=align_corners)
        self.edge_fusion = nn.Conv2D(channels + 48, channels, 1, bias_attr=False)
        self.edge_out = nn.Sequential(
            ConvBNReLU(channels, 48, 3, bias_attr=False), nn.Conv2D(48, 1, 1, bias_attr=False)
        )
        self.dsn_seg_body = nn.Sequential(
            ConvBNReLU(channels, 256, 3, bias_attr=False),
            nn.Conv2D(256, num_classes, 1, bias_attr=False),
        )
        self.final_seg = nn.Sequential(
            ConvBNReLU(channels * 2, 256, 3, bias_attr=False),
            ConvBNReLU(256, 256, 3, bias_attr=False),
            nn.Conv2D(256, num_classes, 1, bias_attr=False),
        )

    def forward(self, feats):
        fine = feats[self.backbone_indices[0]]
        fine_size = paddle.shape(fine)[2:]
        aspp = self.aspp(feats[self.backbone_indices[1]])
        body, edge = self.squeeze_body_edge(aspp)

        def upsample(x):
            return F.interpolate(x, fine_size, mode="bilinear", align_corners=self.align_corners)

        edge = self.edge_fusion(paddle.concat([upsample(edge), self.bot_fine(fine)], axis=1))
        edge_prob = F.sigmoid(self.edge_out(edge))
        body_logit = self.dsn_seg_body(body)
        # body + refined edge ~ the features again, now with sharp boundaries
        final = self.final_seg(paddle.concat([upsample(aspp), edge + upsample(body)], axis=1))
        return [final, body_logit, edge_prob]


class DecoupledSegNet(nn.Layer):
    """DecoupledSegNet. forward(x) returns, resized to x's height and width, [logits] in
    eval mode and [logits, body logits, edge probability, (logits, edge probability)]
    in training, one entry per loss. The body and edge branches run in eval too, as in
    PaddleSeg (its model zoo's FLOPs count them).

    Args:
        num_classes: number of classes.
        backbone: layer returning a list of feature maps and exposing `feat_channels`.
        backbone_indices: (low-level feature for the edge branch, ASPP input) indices.
        aspp_ratios: dilation rates of the ASPP branches.
        aspp_out_channels: channels of each ASPP branch and of its output.
        align_corners: F.interpolate's align_corners for every upsampling.
    """

    def __init__(
        self,
        num_classes,
        backbone,
        backbone_indices=(0, 3),
        aspp_ratios=(1, 6, 12, 18),
        aspp_out_channels=256,
        align_corners=False,
    ):
        super().__init__()
        self.backbone = backbone
        self.head = DecoupledSegNetHead(
            num_classes,
            backbone_indices,
            backbone.feat_channels,
            aspp_ratios,
            aspp_out_channels,
            align_corners,
        )
        self.align_corners = align_corners

    def forward(self, x):
        logit, body_logit, edge_prob = resize_to_input(
            self.head(self.backbone(x)), x, self.align_corners
        )
        if not self.training:
            return [logit]
        return [logit, body_logit, edge_prob, (logit, edge_prob)]
