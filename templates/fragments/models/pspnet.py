"""PSPNet: Zhao et al., "Pyramid Scene Parsing Network" (CVPR 2017).

A dilated backbone feeds a pyramid pooling module that adds global context at
several grid scales; an auxiliary head on an earlier stage gives deep
supervision during training only.

Attribute names (`head.psp_module.stages`, `head.auxlayer`, ...) follow
PaddleSeg 2.8 so that its checkpoints load unchanged.
"""

import paddle
import paddle.nn.functional as F
from paddle import nn

from ..layers.basic import AuxLayer, ConvBNReLU, resize_to_input


class PyramidPoolingModule(nn.Layer):
    """Pyramid pooling: average-pool the input to each bin_size x bin_size grid, reduce
    each with a 1x1 ConvBNReLU, upsample back, concat with the input, fuse with a 3x3
    ConvBNReLU.

    With dim_reduction each branch gets in_channels / len(bin_sizes) channels, as in
    the paper; otherwise in_channels.
    """

    def __init__(
        self,
        in_channels,
        out_channels,
        bin_sizes=(1, 2, 3, 6),
        dim_reduction=True,
        align_corners=False,
    ):
        super().__init__()
        branch_channels = in_channels // len(bin_sizes) if dim_reduction else in_channels
        self.stages = nn.LayerList(
            [
                nn.Sequential(
                    nn.AdaptiveAvgPool2D(size), ConvBNReLU(in_channels, branch_channels, 1)
                )
                for size in bin_sizes
            ]
        )
        self.conv_bn_relu2 = ConvBNReLU(
            in_channels + branch_channels * len(bin_sizes), out_channels, 3, padding=1
        )
        self.align_corners = align_corners

    def forward(self, x):
        size = paddle.shape(x)[2:]
        branches = [
            F.interpolate(stage(x), size, mode="bilinear", align_corners=self.align_corners)
            for stage in self.stages
        ]
        # Branches are concatenated coarsest-last (reverse bin order), as PaddleSeg does;
        # the fusion conv's input channels depend on this order.
        return self.conv_bn_relu2(paddle.concat([x] + branches[::-1], axis=1))


class PSPNetHead(nn.Layer):
    """Pyramid pooling on feats[backbone_indices[1]] -> main logits, plus (optionally) an
    auxiliary classifier on feats[backbone_indices[0]]."""

    def __init__(
        self,
        num_classes,
        backbone_indices,
        backbone_channels,
        pp_out_channels,
        bin_sizes,
        enable_auxiliary_loss,
        align_corners,
    ):
        super().__init__()
        self.backbone_indices = backbone_indices
        self.enable_auxiliary_loss = enable_auxiliary_loss
        self.psp_module = PyramidPoolingModule(
            backbone_channels[1],
            pp_out_channels,
            bin_sizes,
            dim_reduction=True,
            align_corners=align_corners,
        )
        self.dropout = nn.Dropout(p=0.1)
        self.conv = nn.Conv2D(pp_out_channels, num_classes, 1)
        if enable_auxiliary_loss:
            self.auxlayer = AuxLayer(backbone_channels[0], backbone_channels[0] // 4, num_classes)

    def forward(self, feats):
        x = self.psp_module(feats[self.backbone_indices[1]])
        logits = [self.conv(self.dropout(x))]
        # The auxiliary branch only feeds the auxiliary loss. Like PaddleSeg it also runs in
        # eval, so eval-mode FLOPs/params match the model zoo; export keeps output 0 only.
        if self.enable_auxiliary_loss:
            logits.append(self.auxlayer(feats[self.backbone_indices[0]]))
        return logits


class PSPNet(nn.Layer):
    """PSPNet. forward(x) returns logits resized to x's height and width:
    [main, aux] with enable_auxiliary_loss, else [main].

    Args:
        num_classes: number of classes.
        backbone: layer returning a list of feature maps and exposing `feat_channels`.
        backbone_indices: (auxiliary feature, pyramid pooling feature) indices.
        pp_out_channels: channels after the pyramid pooling module.
        bin_sizes: pooled grid sizes of the pyramid.
        enable_auxiliary_loss: add the auxiliary head.
        align_corners: F.interpolate's align_corners for every upsampling.
    """

    def __init__(
        self,
        num_classes,
        backbone,
        backbone_indices=(2, 3),
        pp_out_channels=1024,
        bin_sizes=(1, 2, 3, 6),
        enable_auxiliary_loss=True,
        align_corners=False,
    ):
        super().__init__()
        self.backbone = backbone
        backbone_channels = [backbone.feat_channels[i] for i in backbone_indices]
        self.head = PSPNetHead(
            num_classes,
            backbone_indices,
            backbone_channels,
            pp_out_channels,
            bin_sizes,
            enable_auxiliary_loss,
            align_corners,
        )
        self.align_corners = align_corners

    def forward(self, x):
        logits = self.head(self.backbone(x))
        return resize_to_input(logits, x, self.align_corners)
