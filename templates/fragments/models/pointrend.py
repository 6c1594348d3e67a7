"""PointRend: Kirillov et al., "PointRend: Image Segmentation as Rendering" (CVPR 2020).

A Semantic-FPN head predicts coarse logits; a point head then re-predicts single
points from features sampled there (fine-grained pyramid features and the coarse
logits themselves) with a small shared MLP (1x1 Conv1D). Training supervises the
point head at points drawn mostly where the coarse prediction is uncertain; at
inference the coarse logits are upsampled step by step and, at each step, the most
uncertain points are re-predicted, like adaptive subdivision in rendering.

Attribute names (`neck`, `fpnhead.scale_heads`, `pointhead.fcs`, `pointhead.fc_seg`,
...) follow PaddleSeg 2.8 so that its checkpoints load unchanged.
"""

import math

import paddle
import paddle.nn.functional as F
from paddle import nn

from ..layers.basic import Upsample2x, upsample_by
from ..layers.fpn import FPNNeck


def pointrend_point_sample(x, points, align_corners=False, mode="bilinear"):
    """Values of `x` (N x C x H x W) at `points` (N x P x 2, (x, y) in [0, 1]): N x C x P."""
    grid = points.unsqueeze(2) * 2.0 - 1.0  # grid_sample reads [-1, 1] coordinates
    return F.grid_sample(x, grid, mode=mode, align_corners=align_corners).squeeze(3)


def pointrend_uncertainty(logits):
    """Minus the margin between the two highest class logits (axis 1): highest where the
    prediction is least certain. Keeps a singleton class axis."""
    top2 = paddle.topk(logits, k=2, axis=1)[0]
    return (top2[:, 1] - top2[:, 0]).unsqueeze(1)


class PointRendConvReLU(nn.Layer):
    """A convolution (with bias) and ReLU; Conv1D for the point MLP, Conv2D for the FPN head."""

    def __init__(self, in_channels, out_channels, kernel_size, padding=0, conv_type=nn.Conv2D):
        super().__init__()
        self._conv = conv_type(in_channels, out_channels, kernel_size, padding=padding)

    def forward(self, x):
        return F.relu(self._conv(x))


class PointRendFPNHead(nn.Layer):
    """Semantic FPN head: per-level stacks of 3x3 conv + ReLU (+ 2x upsampling), summed at
    the first level's resolution, then a 1x1 classifier.

    The level with stride `feature_strides[i]` gets log2(stride / first stride) conv +
    upsampling steps (at least one conv). As in PaddleSeg, the levels come from the
    neck coarsest first, so level i of the neck meets scale head i; that decides the
    weights' shapes and the model's FLOPs, and is kept for checkpoint compatibility.
    """

    def __init__(
        self,
        num_classes,
        feature_strides=(4, 8, 16, 32),
        in_channels=(256, 256, 256, 256),
        channels=128,
        in_index=(0, 1, 2, 3),
        dropout_ratio=0.0,
        align_corners=False,
    ):
        super().__init__()
        self.in_index = in_index
        self.align_corners = align_corners
        self.scale_heads = nn.LayerList()
        for level, stride in enumerate(feature_strides):
            num_steps = max(1, int(math.log2(stride) - math.log2(feature_strides[0])))
            steps = []
            for step in range(num_steps):
                steps.append(
                    PointRendConvReLU(
                        in_channels[level] if step == 0 else channels, channels, 3, padding=1
                    )
                )
                if stride != feature_strides[0]:
                    steps.append(Upsample2x(align_corners))
            self.scale_heads.append(nn.Sequential(*steps))
        self.dropout = nn.Dropout2D(dropout_ratio) if dropout_ratio else None
        self.conv_seg = nn.Conv2D(channels, num_classes, 1)

    def forward(self, pyramid):
        levels = [pyramid[i] for i in self.in_index]
        out = self.scale_heads[0](levels[0])
        for i in range(1, len(levels)):
            out = out + F.interpolate(
                self.scale_heads[i](levels[i]),
                paddle.shape(out)[2:],
                mode="bilinear",
                align_corners=self.align_corners,
            )
        if self.dropout is not None:
            out = self.dropout(out)
        return self.conv_seg(out)


class PointHead(nn.Layer):
    """Point head: an MLP over [fine-grained features, coarse logits] sampled at points.

    Training: forward(pyramid, coarse) returns (point_logits N x classes x P, points
    N x P x 2), the points drawn by importance sampling. Eval: it returns refined
    logits at `scale_factor ** subdivision_steps` times the coarse resolution.
    """

    def __init__(
        self,
        num_classes,
        in_channels=(256,),
        out_channels=256,
        in_index=(0,),
        num_fcs=3,
        num_points=2048,
        oversample_ratio=3,
        importance_sample_ratio=0.75,
        scale_factor=2,
        subdivision_steps=2,
        subdivision_num_points=8196,
        dropout_ratio=0.0,
        coarse_pred_each_layer=True,
        align_corners=False,
    ):
        super().__init__()
        self.num_classes = num_classes
        self.in_index = in_index
        self.num_points = num_points
        self.oversample_ratio = oversample_ratio
        self.importance_sample_ratio = importance_sample_ratio
        self.scale_factor = scale_factor
        self.subdivision_steps = subdivision_steps
        self.subdivision_num_points = subdivision_num_points
        self.coarse_pred_each_layer = coarse_pred_each_layer
        self.align_corners = align_corners
        fc_in = sum(in_channels) + num_classes
        self.fcs = nn.LayerList()
        for _ in range(num_fcs):
            self.fcs.append(PointRendConvReLU(fc_in, out_channels, 1, conv_type=nn.Conv1D))
            fc_in = out_channels + (num_classes if coarse_pred_each_layer else 0)
        self.fc_seg = nn.Conv1D(fc_in, num_classes, 1)
        self.dropout = nn.Dropout(dropout_ratio) if dropout_ratio > 0 else None

    def point_logits(self, feats, coarse, points):
        """The MLP's class logits at `points` (N x P x 2 in [0, 1]): N x classes x P."""
        fine = [pointrend_point_sample(f, points, self.align_corners) for f in feats]
        coarse_at_points = pointrend_point_sample(coarse, points, self.align_corners)
        x = paddle.concat(fine + [coarse_at_points], axis=1)
        for fc in self.fcs:
            x = fc(x)
            if self.coarse_pred_each_layer:
                x = paddle.concat([x, coarse_at_points], axis=1)
        if self.dropout is not None:
            x = self.dropout(x)
        return self.fc_seg(x)

    def training_points(self, coarse):
        """`num_points` points per image: the most uncertain `importance_sample_ratio` share
        of `oversample_ratio` times as many uniform candidates, the rest uniform."""
        batch = paddle.shape(coarse)[0]
        candidates = paddle.rand([batch, int(self.num_points * self.oversample_ratio), 2])
        # Uncertainty of the interpolated logits at each candidate, not interpolated
        # uncertainty: between a +1 and a -1 logit the point is uncertain, its neighbours not.
        uncertainty = pointrend_uncertainty(pointrend_point_sample(coarse, candidates))
        num_uncertain = int(self.importance_sample_ratio * self.num_points)
        index = paddle.topk(uncertainty[:, 0], k=num_uncertain, axis=1)[1]
        points = paddle.take_along_axis(candidates, index.unsqueeze(2).tile([1, 1, 2]), axis=1)
        num_random = self.num_points - num_uncertain
        if num_random > 0:
            points = paddle.concat([points, paddle.rand([batch, num_random, 2])], axis=1)
        return points

    def refine(self, feats, coarse):
        """Upsample the coarse logits `subdivision_steps` times; after each upsampling,
        re-predict the `subdivision_num_points` most uncertain pixels (all of them when
        the map is smaller)."""
        logits = coarse
        for _ in range(self.subdivision_steps):
            logits = upsample_by(logits, self.scale_factor, self.align_corners)
            shape = paddle.shape(logits)
            height, width = shape[2], shape[3]
            uncertainty = pointrend_uncertainty(logits).flatten(1)  # N x HW
            # Shapes stay tensors so that the exported model takes any input size.
            k = paddle.minimum(
                height * width, paddle.full([], self.subdivision_num_points, height.dtype)
            )
            index = paddle.topk(uncertainty, k=k, axis=1)[1]  # distinct pixels, N x k
            step_x = 1.0 / width
            step_y = 1.0 / height
            points = paddle.stack(
                [
                    step_x / 2.0 + (index % width).astype("float32") * step_x,
                    step_y / 2.0 + (index // width).astype("float32") * step_y,
                ],
                axis=-1,
            )  # pixel centres in [0, 1]
            refined = self.point_logits(feats, coarse, points)
            # Each pixel is written once (topk indices are distinct), so the result does not
            # depend on write order.
            logits = paddle.put_along_axis(
                logits.flatten(2),
                index.unsqueeze(1).tile([1, self.num_classes, 1]),
                refined,
                axis=2,
            ).reshape(shape)
        return logits

    def forward(self, pyramid, coarse):
        feats = [pyramid[i] for i in self.in_index]
        if self.training:
            with paddle.no_grad():
                points = self.training_points(coarse)
            return self.point_logits(feats, coarse, points), points
        return self.refine(feats, coarse)


class PointRend(nn.Layer):
    """PointRend on a Semantic FPN. Training: forward(x) returns [coarse logits at x's
    size, (point logits, points)], the pair for PointCrossEntropyLoss. Eval: [refined
    logits at x's size].

    Args:
        num_classes: number of classes.
        backbone: layer returning a list of feature maps and exposing `feat_channels`.
        backbone_indices: the four backbone feature maps the FPN reads, finest first.
        fpn_inplanes, fpn_outplanes: channels of those maps; width of the pyramid.
        point_*: the point head (in_channels/in_index: pyramid levels it samples; num_fcs,
            out_channels: its MLP; num_points, oversample_ratio, importance_sample_ratio:
            training points; scale_factor, subdivision_steps, subdivision_num_points:
            inference refinement; dropout_ratio; coarse_pred_each_layer: append the
            coarse logits to every MLP layer's output).
        PFN_*: the Semantic FPN head (feature_strides, in_channels and in_index of its
            levels, channels, dropout_ratio).
        align_corners: F.interpolate's and grid_sample's align_corners.
    """

    def __init__(
        self,
        num_classes,
        backbone,
        backbone_indices=(0, 1, 2, 3),
        fpn_inplanes=(256, 512, 1024, 2048),
        fpn_outplanes=256,
        point_in_channels=(256,),
        point_out_channels=256,
        point_in_index=(0,),
        point_num_fcs=3,
        point_num_points=2048,
        point_oversample_ratio=3,
        point_importance_sample_ratio=0.75,
        point_scale_factor=2,
        point_subdivision_steps=2,
        point_subdivision_num_points=8196,
        point_dropout_ratio=0.0,
        point_coarse_pred_each_layer=True,
        PFN_feature_strides=(4, 8, 16, 32),
        PFN_in_channels=(256, 256, 256, 256),
        PFN_channels=128,
        PFN_in_index=(0, 1, 2, 3),
        PFN_dropout_ratio=0.0,
        align_corners=False,
    ):
        super().__init__()
        self.backbone = backbone
        self.backbone_indices = backbone_indices
        self.neck = FPNNeck(fpn_inplanes, fpn_outplanes)
        self.pointhead = PointHead(
            num_classes,
            point_in_channels,
            point_out_channels,
            point_in_index,
            point_num_fcs,
            point_num_points,
            point_oversample_ratio,
            point_importance_sample_ratio,
            point_scale_factor,
            point_subdivision_steps,
            point_subdivision_num_points,
            point_dropout_ratio,
            point_coarse_pred_each_layer,
            align_corners,
        )
        self.fpnhead = PointRendFPNHead(
            num_classes,
            PFN_feature_strides,
            PFN_in_channels,
            PFN_channels,
            PFN_in_index,
            PFN_dropout_ratio,
            align_corners,
        )
        self.align_corners = align_corners

    def forward(self, x):
        feats = self.backbone(x)
        pyramid = self.neck([feats[i] for i in self.backbone_indices])  # coarsest first
        coarse = self.fpnhead(pyramid)
        size = paddle.shape(x)[2:]
        if self.training:
            return [
                F.interpolate(coarse, size, mode="bilinear", align_corners=self.align_corners),
                self.pointhead(pyramid, coarse),
            ]
        return [
            F.interpolate(
                self.pointhead(pyramid, coarse),
                size,
                mode="bilinear",
                align_corners=self.align_corners,
            )
        ]
