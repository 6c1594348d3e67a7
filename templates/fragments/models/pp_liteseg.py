"""PP-LiteSeg: Peng et al., "PP-LiteSeg: A Superior Real-Time Semantic Segmentation
Model" (2022), https://arxiv.org/abs/2204.02681.

A light decoder over an STDC backbone. A simple pyramid pooling module (SPPM) pools the
deepest map at a few grid sizes, adds the upsampled branches and fuses them: cheap
global context. The decoder then goes from coarse to fine through Unified Attention
Fusion Modules (UAFM): each upsamples the coarser result and mixes it with the
backbone's map of that resolution under a spatial attention map, computed from the
channel mean and max of both inputs: out = low * a + high * (1 - a). Its channels
shrink towards the finer levels (the "flexible and lightweight decoder").

The finest fused map is classified; in training every level's map is, as deep
supervision. Attribute names (`ppseg_head.cm`, `ppseg_head.arm_list`, `seg_heads`,
`conv_xy_atten`, `_scale`) follow PaddleSeg 2.8 so that its checkpoints load unchanged;
the fusion is PaddleSeg's `UAFM_SpAtten`, the paper's default.
"""

import paddle
import paddle.nn.functional as F
from paddle import nn

from ..layers.basic import ConvBN, ConvBNReLU, resize_to_input


class LiteSegPyramidPooling(nn.Layer):
    """SPPM: average-pool to each bin size, 1x1 ConvBNReLU, upsample back, sum the
    branches (no concatenation with the input) and fuse them with a 3x3 ConvBNReLU."""

    def __init__(self, in_channels, inter_channels, out_channels, bin_sizes):
        super().__init__()
        self.stages = nn.LayerList(
            [
                nn.Sequential(
                    nn.AdaptiveAvgPool2D(size), ConvBNReLU(in_channels, inter_channels, 1)
                )
                for size in bin_sizes
            ]
        )
        self.conv_out = ConvBNReLU(inter_channels, out_channels, 3, padding=1)

    def forward(self, x):
        size = paddle.shape(x)[2:]
        total = None
        for stage in self.stages:
            branch = F.interpolate(stage(x), size, mode="bilinear", align_corners=False)
            total = branch if total is None else total + branch
        return self.conv_out(total)


class LiteSegFusion(nn.Layer):
    """UAFM with spatial attention: `low` (backbone map, 3x3 ConvBNReLU to the coarse
    input's channels) and `high` (the coarser decoder output, upsampled) are mixed as
    low * a + high * (1 - a), with a = sigmoid(two 3x3 convs over the per-pixel channel
    mean and max of both); a 3x3 ConvBNReLU gives `out_channels`."""

    def __init__(self, low_channels, high_channels, out_channels, ksize=3, resize_mode="bilinear"):
        super().__init__()
        self.conv_x = ConvBNReLU(
            low_channels, high_channels, ksize, padding=ksize // 2, bias_attr=False
        )
        self.conv_out = ConvBNReLU(high_channels, out_channels, 3, padding=1, bias_attr=False)
        self.conv_xy_atten = nn.Sequential(
            ConvBNReLU(4, 2, 3, padding=1, bias_attr=False),
            ConvBN(2, 1, 3, padding=1, bias_attr=False),
        )
        # The "1" of (1 - a): a frozen parameter in PaddleSeg, so its checkpoints carry it.
        self._scale = self.create_parameter(
            shape=[1], dtype="float32", default_initializer=nn.initializer.Constant(1.0)
        )
        self._scale.stop_gradient = True
        self.resize_mode = resize_mode

    def forward(self, low, high):
        low = self.conv_x(low)
        high = F.interpolate(high, paddle.shape(low)[2:], mode=self.resize_mode)
        stats = paddle.concat(
            [
                paddle.mean(low, axis=1, keepdim=True),
                paddle.max(low, axis=1, keepdim=True),
                paddle.mean(high, axis=1, keepdim=True),
                paddle.max(high, axis=1, keepdim=True),
            ],
            axis=1,
        )
        attention = F.sigmoid(self.conv_xy_atten(stats))
        return self.conv_out(low * attention + high * (self._scale - attention))


class LiteSegHead(nn.Layer):
    """The decoder: SPPM on the deepest selected map, then one fusion module per
    selected map from coarse to fine; returns the fused maps finest first."""

    def __init__(self, backbone_channels, arm_channels, cm_bin_sizes, cm_out_ch, resize_mode):
        super().__init__()
        self.cm = LiteSegPyramidPooling(backbone_channels[-1], cm_out_ch, cm_out_ch, cm_bin_sizes)
        # Level i mixes backbone map i with level i+1's output (the SPPM's at the top).
        coarser = list(arm_channels[1:]) + [cm_out_ch]
        self.arm_list = nn.LayerList(
            [
                LiteSegFusion(low, high, out, resize_mode=resize_mode)
                for low, high, out in zip(backbone_channels, coarser, arm_channels)
            ]
        )

    def forward(self, feats):
        high = self.cm(feats[-1])
        fused = []
        for i in reversed(range(len(feats))):
            high = self.arm_list[i](feats[i], high)
            fused.insert(0, high)
        return fused


class LiteSegClassifier(nn.Layer):
    """Bias-free 3x3 ConvBNReLU to `mid_channels`, then a bias-free 1x1 conv to scores."""

    def __init__(self, in_channels, mid_channels, num_classes):
        super().__init__()
        self.conv = ConvBNReLU(in_channels, mid_channels, 3, padding=1, bias_attr=False)
        self.conv_out = nn.Conv2D(mid_channels, num_classes, 1, bias_attr=False)

    def forward(self, x):
        return self.conv_out(self.conv(x))


class PPLiteSeg(nn.Layer):
    """PP-LiteSeg. forward(x) returns logits resized to x's height and width: [main]
    in eval, one per decoder level (finest first) in training.

    Args:
        num_classes: number of classes.
        backbone: layer returning a list of feature maps and exposing `feat_channels`.
        backbone_indices: the feature maps the decoder fuses, finest first.
        cm_bin_sizes: pooled grid sizes of the SPPM.
        cm_out_ch: channels of the SPPM.
        arm_out_chs: output channels of each fusion module, finest first (one value:
            the same for all).
        seg_head_inter_chs: hidden channels of each level's classifier (one value: the
            same for all).
        resize_mode: F.interpolate mode of the decoder's upsampling.
    """

    def __init__(
        self,
        num_classes,
        backbone,
        backbone_indices=(2, 3, 4),
        cm_bin_sizes=(1, 2, 4),
        cm_out_ch=128,
        arm_out_chs=(64, 96, 128),
        seg_head_inter_chs=(64, 64, 64),
        resize_mode="bilinear",
    ):
        super().__init__()
        levels = len(backbone_indices)
        # a single value stands for every level, as in PaddleSeg
        if len(arm_out_chs) == 1:
            arm_out_chs = list(arm_out_chs) * levels
        if len(seg_head_inter_chs) == 1:
            seg_head_inter_chs = list(seg_head_inter_chs) * levels
        if levels < 2 or not len(arm_out_chs) == len(seg_head_inter_chs) == levels:
            raise ValueError(
                "PPLiteSeg needs two or more backbone_indices and one arm_out_chs and "
                f"seg_head_inter_chs value per index (or a single one); got {backbone_indices}, "
                f"{arm_out_chs}, {seg_head_inter_chs}"
            )
        self.backbone = backbone
        self.backbone_indices = list(backbone_indices)
        backbone_channels = [backbone.feat_channels[i] for i in self.backbone_indices]
        self.ppseg_head = LiteSegHead(
            backbone_channels, arm_out_chs, cm_bin_sizes, cm_out_ch, resize_mode
        )
        self.seg_heads = nn.LayerList(
            [
                LiteSegClassifier(in_ch, mid_ch, num_classes)
                for in_ch, mid_ch in zip(arm_out_chs, seg_head_inter_chs)
            ]
        )

    def forward(self, x):
        feats = self.backbone(x)
        fused = self.ppseg_head([feats[i] for i in self.backbone_indices])
        if self.training:
            logits = [head(f) for head, f in zip(self.seg_heads, fused)]
        else:
            logits = [self.seg_heads[0](fused[0])]
        return resize_to_input(logits, x, align_corners=False)
