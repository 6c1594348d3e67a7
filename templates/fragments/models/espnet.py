"""ESPNet and ESPNetv2: efficient spatial pyramids of dilated convolutions.

ESPNet (V1): Mehta et al., "ESPNet: Efficient Spatial Pyramid of Dilated Convolutions
for Semantic Segmentation" (ECCV 2018). Its unit, the ESP module, reduces the channels
with a 1x1 conv, splits the result into five parallel 3x3 convs of dilation 1, 2, 4, 8
and 16 (a large receptive field for few weights) and merges them by concatenation. The
dilated outputs are added up hierarchically (2, 2+4, 2+4+8, ...) before merging, which
removes the gridding artefacts that summing widely dilated convs otherwise leaves. The
encoder (ESPNet-C) works at 1/2, 1/4 and 1/8, re-injecting the downsampled image at
each level; a light decoder projects each level to class scores and upsamples them
with transposed convs.

ESPNetv2: Mehta et al., "ESPNetv2: A Light-weight, Power Efficient, and General Purpose
Convolutional Neural Network" (CVPR 2019). The EESP unit replaces the 1x1 reduction and
the merge by group convs and the dilated 3x3 convs by depthwise dilated ones, again with
hierarchical addition; strided EESP units beside an average pooling downsample, with a
shortcut from the (repeatedly pooled) input image. The segmentation head fuses 1/16 and
1/8 through an EESP unit and a pyramid of pooled depthwise convs, then refines at 1/4
and 1/2; training adds the 1/8 class scores, upsampled, as a second output.

Attribute names (`encoder`, `level2_0`, `br1`, `proj1`, `d_conv1`, ..., `backbone`,
`eesp_psp`, `spp_modules`, `group_conv_in`, `shortcut_layer`, `project_l3`, ...) follow
PaddleSeg 2.8's `ESPNetV1` and `ESPNetV2` so that its checkpoints load unchanged; the
ConvBN layers reuse `layers/basic.py`'s, which have PaddleSeg's names.
"""

import math

import paddle
import paddle.nn.functional as F
from paddle import nn

from ..layers.basic import ConvBN, resize_to_input

# ESP (V1) modules: dilations of the five parallel 3x3 convs; the first gets the
# channels left over when the output does not divide by five.
ESP_DILATIONS = (1, 2, 4, 8, 16)
# ESPNet V1's channels: level 1's conv, levels 2 and 3's ESP modules.
ESPNETV1_CHANNELS = (16, 64, 128)

# EESP (V2) units: dilation of the depthwise 3x3 conv that stands in for a kxk one.
EESP_DILATION_OF_KERNEL = {3: 1, 5: 2, 7: 3, 9: 4, 11: 5, 13: 6, 15: 7, 17: 8}
EESP_BRANCHES = 4
# ESPNetV2's backbone: width of level 1 (before scaling), EESP units after the
# downsampling of levels 3 and 4, and the largest receptive field an EESP unit of each
# level may use (level 1 to 4; level 1's applies to level 2's downsampling).
ESPNETV2_BASE_CHANNELS = 32
ESPNETV2_LEVEL3_UNITS = 3
ESPNETV2_LEVEL4_UNITS = 7
ESPNETV2_KERNEL_LIMITS = (13, 11, 9, 7)
# Depthwise convs of the head's pooling pyramid.
ESPNETV2_PYRAMID_LEVELS = 4


class PReLUActivation(nn.Layer):
    """nn.PReLU (one learned slope) under the attribute `act_func`: PaddleSeg's
    activation wrapper, whose name its checkpoints use (`..._prelu.act_func._weight`)."""

    def __init__(self):
        super().__init__()
        self.act_func = nn.PReLU()

    def forward(self, x):
        return self.act_func(x)


class ConvBNPReLU(ConvBN):
    """ConvBN followed by PReLU with one learned slope ('same' padding unless told)."""

    def __init__(self, in_channels, out_channels, kernel_size, padding="same", **conv_kwargs):
        super().__init__(in_channels, out_channels, kernel_size, padding=padding, **conv_kwargs)
        self._prelu = PReLUActivation()

    def forward(self, x):
        return self._prelu(self._batch_norm(self._conv(x)))


# ---- ESPNet (V1) ----


class ESPNetV1BNPReLU(nn.Layer):
    """Batch norm and PReLU with one slope per channel (V1's choice)."""

    def __init__(self, channels):
        super().__init__()
        self.bn = nn.BatchNorm2D(channels)
        self.act = nn.PReLU(channels)

    def forward(self, x):
        return self.act(self.bn(x))


class ESPModule(nn.Layer):
    """The ESP module: reduce (`conv1`, a 1x1 conv, or a 3x3 stride-2 one to
    downsample), split into five dilated 3x3 convs, add them up hierarchically, merge by
    concatenation, then BN + PReLU. With `residual` (same width, no downsampling) the
    input is added before the BN."""

    def __init__(self, in_channels, out_channels, downsample=False, residual=False):
        super().__init__()
        self.residual = residual
        branch = out_channels // len(ESP_DILATIONS)
        first = out_channels - branch * (len(ESP_DILATIONS) - 1)
        if downsample:
            self.conv1 = nn.Conv2D(in_channels, branch, 3, stride=2, padding=1, bias_attr=False)
        else:
            self.conv1 = nn.Conv2D(in_channels, branch, 1, bias_attr=False)
        for dilation in ESP_DILATIONS:
            setattr(
                self,
                f"d_conv{dilation}",
                nn.Conv2D(
                    branch,
                    first if dilation == 1 else branch,
                    3,
                    padding=dilation,
                    dilation=dilation,
                    bias_attr=False,
                ),
            )

    def spatial_pyramid(self, x):
        """The five branches of the reduced `x`, the dilated ones summed hierarchically,
        concatenated (dilation 1 first)."""
        reduced = self.conv1(x)
        merged = [self.d_conv1(reduced)]
        total = None
        for dilation in ESP_DILATIONS[1:]:
            out = getattr(self, f"d_conv{dilation}")(reduced)
            total = out if total is None else total + out
            merged.append(total)
        return paddle.concat(merged, axis=1)


class ESPNetV1DownSampler(ESPModule):
    """The strided ESP module that starts levels 2 and 3 (BN + PReLU as `bn`, `act`)."""

    def __init__(self, in_channels, out_channels):
        super().__init__(in_channels, out_channels, downsample=True)
        self.bn = nn.BatchNorm2D(out_channels)
        self.act = nn.PReLU(out_channels)

    def forward(self, x):
        return self.act(self.bn(self.spatial_pyramid(x)))


class ESPNetV1Block(ESPModule):
    """An ESP module at constant resolution (PaddleSeg's DilatedResidualBlock), its
    BN + PReLU as `bn`; residual unless told otherwise."""

    def __init__(self, in_channels, out_channels, residual=True):
        super().__init__(in_channels, out_channels, residual=residual)
        self.bn = ESPNetV1BNPReLU(out_channels)

    def forward(self, x):
        out = self.spatial_pyramid(x)
        if self.residual:
            out = out + x
        return self.bn(out)


class ESPNetV1Encoder(nn.Layer):
    """ESPNet-C: three levels at 1/2, 1/4 and 1/8. Each level's features are
    concatenated with the image average-pooled to their size (levels 1 and 2) and with
    the level's first, downsampled output, then normalised (`br*`) and projected to
    class scores (`proj*`). forward(x) returns the three score maps, finest first."""

    def __init__(self, num_classes, in_channels=3, level2_depth=5, level3_depth=3):
        super().__init__()
        level1, level2, level3 = ESPNETV1_CHANNELS
        self.level1 = ConvBNPReLU(in_channels, level1, 3, stride=2)
        self.br1 = ESPNetV1BNPReLU(in_channels + level1)
        self.proj1 = ConvBNPReLU(in_channels + level1, num_classes, 1)

        self.level2_0 = ESPNetV1DownSampler(in_channels + level1, level2)
        self.level2 = nn.Sequential(*[ESPNetV1Block(level2, level2) for _ in range(level2_depth)])
        self.br2 = ESPNetV1BNPReLU(in_channels + 2 * level2)
        self.proj2 = ConvBNPReLU(in_channels + 2 * level2, num_classes, 1)

        self.level3_0 = ESPNetV1DownSampler(in_channels + 2 * level2, level3)
        self.level3 = nn.Sequential(*[ESPNetV1Block(level3, level3) for _ in range(level3_depth)])
        self.br3 = ESPNetV1BNPReLU(2 * level3)
        self.proj3 = ConvBNPReLU(2 * level3, num_classes, 1)

    def forward(self, x):
        f1 = self.level1(x)
        image1 = F.adaptive_avg_pool2d(x, paddle.shape(f1)[2:])
        feat1 = self.br1(paddle.concat([f1, image1], axis=1))

        f2_first = self.level2_0(feat1)
        f2 = self.level2(f2_first)
        image2 = F.adaptive_avg_pool2d(x, paddle.shape(f2)[2:])
        feat2 = self.br2(paddle.concat([f2, f2_first, image2], axis=1))

        f3_first = self.level3_0(feat2)
        f3 = self.level3(f3_first)
        feat3 = self.br3(paddle.concat([f3, f3_first], axis=1))
        return self.proj1(feat1), self.proj2(feat2), self.proj3(feat3)


class ESPNetV1(nn.Layer):
    """ESPNet. forward(x) returns [logits] at x's height and width (a multiple of 8)
    in training and evaluation alike.

    The decoder upsamples the 1/8 scores by a 2x2 transposed conv, fuses them with the
    1/4 scores (BN + PReLU, then a non-residual ESP module), upsamples again, fuses with
    the 1/2 scores by a 3x3 ConvBNPReLU, and a last transposed conv gives full
    resolution. `level2_depth` / `level3_depth`: ESP modules at 1/4 / 1/8.
    """

    def __init__(self, num_classes, in_channels=3, level2_depth=2, level3_depth=3):
        super().__init__()
        if num_classes < len(ESP_DILATIONS):
            # the decoder's ESP module splits num_classes output channels five ways
            raise ValueError(f"ESPNetV1 needs at least 5 classes, not {num_classes}")
        self.encoder = ESPNetV1Encoder(num_classes, in_channels, level2_depth, level3_depth)
        self.level3_up = nn.Conv2DTranspose(num_classes, num_classes, 2, stride=2, bias_attr=False)
        # `br3` and `level2_proj` are built but never used, as in PaddleSeg (the original
        # ESPNet's decoder used them): kept so that PaddleSeg's checkpoints load strictly.
        self.br3 = nn.BatchNorm2D(num_classes)
        self.level2_proj = nn.Conv2D(
            in_channels + 2 * ESPNETV1_CHANNELS[1], num_classes, 1, bias_attr=False
        )
        self.combine_l2_l3 = nn.Sequential(
            ESPNetV1BNPReLU(2 * num_classes),
            ESPNetV1Block(2 * num_classes, num_classes, residual=False),
        )
        self.level2_up = nn.Sequential(
            nn.Conv2DTranspose(num_classes, num_classes, 2, stride=2, bias_attr=False),
            ESPNetV1BNPReLU(num_classes),
        )
        # The 1/2-resolution fusion reads the upsampled scores and the level-1 scores,
        # 2 * num_classes channels. PaddleSeg sizes this conv for
        # ESPNETV1_CHANNELS[0] + in_channels + num_classes inputs, the same number for
        # Cityscapes' 19 classes and RGB input (so its checkpoints load), but its model
        # fails for any other class count.
        self.out_proj = ConvBNPReLU(2 * num_classes, num_classes, 3)
        self.out_up = nn.Conv2DTranspose(num_classes, num_classes, 2, stride=2, bias_attr=False)

    def forward(self, x):
        scores1, scores2, scores3 = self.encoder(x)
        fused = self.combine_l2_l3(paddle.concat([self.level3_up(scores3), scores2], axis=1))
        fused = self.out_proj(paddle.concat([self.level2_up(fused), scores1], axis=1))
        return [self.out_up(fused)]


# ---- ESPNetV2 ----


class ESPNetV2BNPReLU(nn.Layer):
    """Batch norm and PReLU with one slope (V2's choice), under PaddleSeg's names."""

    def __init__(self, channels):
        super().__init__()
        self._batch_norm = nn.BatchNorm2D(channels)
        self._prelu = PReLUActivation()

    def forward(self, x):
        return self._prelu(self._batch_norm(x))


class EESP(nn.Layer):
    """The EESP unit: a grouped 1x1 reduction to out_channels / branches channels, one
    depthwise dilated 3x3 conv per branch (each standing in for a kxk conv, k = 3, 5,
    7, ... up to `kernel_size_maximum`, beyond which 3), added up hierarchically,
    concatenated, BN + PReLU, and a grouped 1x1 ConvBN merge.

    At stride 1 the input is added when the widths match, then PReLU (`_act`); at
    stride 2 (inside the downsampler) the merge is returned as it is.
    """

    def __init__(
        self,
        in_channels,
        out_channels,
        stride=1,
        branches=EESP_BRANCHES,
        kernel_size_maximum=7,
    ):
        super().__init__()
        if out_channels % branches:
            raise ValueError(
                f"EESP: {out_channels} output channels do not split into {branches} branches"
            )
        self.stride = stride
        self.residual = stride == 1 and in_channels == out_channels
        branch_channels = out_channels // branches
        self.group_conv_in = ConvBNPReLU(
            in_channels, branch_channels, 1, groups=branches, bias_attr=False
        )
        kernel_sizes = sorted(
            k if k <= kernel_size_maximum else 3 for k in range(3, 3 + 2 * branches, 2)
        )
        self.spp_modules = nn.LayerList(
            [
                nn.Conv2D(
                    branch_channels,
                    branch_channels,
                    3,
                    padding="same",
                    stride=stride,
                    dilation=EESP_DILATION_OF_KERNEL[k],
                    groups=branch_channels,
                    bias_attr=False,
                )
                for k in kernel_sizes
            ]
        )
        self.group_conv_out = ConvBN(
            out_channels, out_channels, 1, groups=branches, bias_attr=False
        )
        self.bn_act = ESPNetV2BNPReLU(out_channels)
        self._act = nn.PReLU()  # used at stride 1 only; every unit has it, as in PaddleSeg

    def forward(self, x):
        reduced = self.group_conv_in(x)
        outputs = [self.spp_modules[0](reduced)]
        for conv in self.spp_modules[1:]:
            outputs.append(conv(reduced) + outputs[-1])
        merged = self.group_conv_out(self.bn_act(paddle.concat(outputs, axis=1)))
        if self.stride == 2:
            return merged
        if self.residual:
            merged = merged + x
        return self._act(merged)


class ESPNetV2DownSampler(nn.Layer):
    """Halve the resolution: a 3x3 stride-2 average pooling of x beside a strided EESP
    unit that adds the missing channels, concatenated; plus a shortcut from the input
    image, average-pooled `image_poolings` times down to this size, through a 3x3
    ConvBNPReLU and a 1x1 ConvBN (PaddleSeg pools the image until its height matches,
    which is as many times as the downsamplings before this output); then PReLU."""

    def __init__(
        self, in_channels, out_channels, kernel_size_maximum, image_poolings, image_channels=3
    ):
        super().__init__()
        if out_channels <= in_channels:
            raise ValueError(f"ESPNetV2 downsampler: {out_channels} <= {in_channels} channels")
        self.image_poolings = image_poolings
        self.eesp = EESP(
            in_channels,
            out_channels - in_channels,
            stride=2,
            kernel_size_maximum=kernel_size_maximum,
        )
        self.avg = nn.AvgPool2D(kernel_size=3, padding=1, stride=2)
        # PaddleSeg builds this for 3 image channels whatever the model's in_channels
        # (and then fails for another count); the same layers for an RGB image.
        self.shortcut_layer = nn.Sequential(
            ConvBNPReLU(image_channels, image_channels, 3, bias_attr=False),
            ConvBN(image_channels, out_channels, 1, bias_attr=False),
        )
        self._act = nn.PReLU()

    def forward(self, x, image):
        out = paddle.concat([self.avg(x), self.eesp(x)], axis=1)
        for _ in range(self.image_poolings):
            image = F.avg_pool2d(image, kernel_size=3, padding=1, stride=2)
        return self._act(out + self.shortcut_layer(image))


def espnetv2_channels(scale):
    """Widths of ESPNetV2's four levels for a width `scale` (PaddleSeg's rule: level 1
    is the scaled base width rounded up to a multiple of the branches, at most the base
    width; level i has the unclamped level-1 width times 2**i)."""
    scaled = math.ceil(int(ESPNETV2_BASE_CHANNELS * scale) / EESP_BRANCHES) * EESP_BRANCHES
    return [min(scaled, ESPNETV2_BASE_CHANNELS)] + [scaled * 2**i for i in range(1, 4)]


class EESPNetBackbone(nn.Layer):
    """ESPNetv2's feature extractor: a 3x3 stride-2 ConvBNPReLU (1/2), a downsampler
    (1/4), a downsampler and 3 EESP units (1/8), a downsampler and 7 EESP units (1/16).
    forward(x) returns the four levels' features, finest first."""

    def __init__(self, in_channels=3, scale=1.0):
        super().__init__()
        c1, c2, c3, c4 = self.out_channels = espnetv2_channels(scale)
        limits = ESPNETV2_KERNEL_LIMITS
        self.level1 = ConvBNPReLU(in_channels, c1, 3, stride=2, bias_attr=False)
        self.level2 = ESPNetV2DownSampler(c1, c2, limits[0], 2, in_channels)
        self.level3_0 = ESPNetV2DownSampler(c2, c3, limits[1], 3, in_channels)
        self.level3 = nn.LayerList(
            [EESP(c3, c3, kernel_size_maximum=limits[2]) for _ in range(ESPNETV2_LEVEL3_UNITS)]
        )
        self.level4_0 = ESPNetV2DownSampler(c3, c4, limits[2], 4, in_channels)
        self.level4 = nn.LayerList(
            [EESP(c4, c4, kernel_size_maximum=limits[3]) for _ in range(ESPNETV2_LEVEL4_UNITS)]
        )
        # PaddleSeg's initialisation of the backbone: Kaiming-normal conv weights (BN
        # weight 1, bias 0 are Paddle's defaults).
        for layer in self.sublayers():
            if isinstance(layer, nn.Conv2D):
                nn.initializer.KaimingNormal()(layer.weight)

    def forward(self, x):
        out1 = self.level1(x)
        out2 = self.level2(out1, x)
        out3 = self.level3_0(out2, x)
        for unit in self.level3:
            out3 = unit(out3)
        out4 = self.level4_0(out3, x)
        for unit in self.level4:
            out4 = unit(out4)
        return out1, out2, out3, out4


class ESPNetV2PyramidPooling(nn.Layer):
    """Context at several scales, cheaply: the features average-pooled by 2, 4, 8 and
    16 (3x3 stride-2 poolings in a row), each through a depthwise 3x3 conv and upsampled
    back, concatenated with the features and fused by a 1x1 ConvBNPReLU."""

    def __init__(self, in_channels, out_channels, levels=ESPNETV2_PYRAMID_LEVELS):
        super().__init__()
        self.stages = nn.LayerList(
            [
                nn.Conv2D(
                    in_channels,
                    in_channels,
                    3,
                    padding="same",
                    groups=in_channels,
                    bias_attr=False,
                )
                for _ in range(levels)
            ]
        )
        self.project = ConvBNPReLU(in_channels * (levels + 1), out_channels, 1, bias_attr=False)

    def forward(self, x):
        size = paddle.shape(x)[2:]
        out = [x]
        pooled = x
        for stage in self.stages:
            pooled = F.avg_pool2d(pooled, kernel_size=3, stride=2, padding="same")
            out.append(F.interpolate(stage(pooled), size, mode="bilinear", align_corners=True))
        return self.project(paddle.concat(out, axis=1))


def espnetv2_upsample2(x):
    """Bilinear x2 upsampling with align_corners (every upsampling of ESPNetV2's head)."""
    return F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=True)


class ESPNetV2(nn.Layer):
    """ESPNetv2. forward(x) returns [logits] at x's height and width (a multiple of
    16); training adds the 1/8 class scores upsampled to that size, for a second loss.

    `scale`: width multiplier of the backbone (PaddleSeg supports up to 1.5, and 2);
    `drop_prob`: spatial dropout before the head's 1x1 classifiers.
    """

    def __init__(self, num_classes, in_channels=3, scale=1.0, drop_prob=0.1):
        super().__init__()
        self.backbone = EESPNetBackbone(in_channels, scale)
        c1, c2, c3, c4 = self.backbone.out_channels
        self.proj_l4_c = ConvBNPReLU(c4, c3, 1, bias_attr=False)
        fused = 2 * c3  # level 3 and the upsampled level 4
        self.eesp_psp = nn.Sequential(
            EESP(fused, fused // 2, kernel_size_maximum=7),
            ESPNetV2PyramidPooling(fused // 2, fused // 2),
        )
        self.project_l3 = nn.Sequential(
            nn.Dropout2D(p=drop_prob), nn.Conv2D(fused // 2, num_classes, 1, bias_attr=False)
        )
        self.act_l3 = ESPNetV2BNPReLU(num_classes)
        self.project_l2 = ConvBNPReLU(c2 + num_classes, num_classes, 1, bias_attr=False)
        self.project_l1 = nn.Sequential(
            nn.Dropout2D(p=drop_prob), nn.Conv2D(c1 + num_classes, num_classes, 1, bias_attr=False)
        )

    def forward(self, x):
        out1, out2, out3, out4 = self.backbone(x)
        l4_to_l3 = espnetv2_upsample2(self.proj_l4_c(out4))
        merged3 = self.eesp_psp(paddle.concat([out3, l4_to_l3], axis=1))
        scores3 = self.act_l3(self.project_l3(merged3))
        merged2 = self.project_l2(paddle.concat([out2, espnetv2_upsample2(scores3)], axis=1))
        merged1 = self.project_l1(paddle.concat([out1, espnetv2_upsample2(merged2)], axis=1))
        # Half resolution to full: with an even input size, resizing to the input with
        # align_corners is PaddleSeg's x2 upsampling.
        logits = resize_to_input([merged1], x, align_corners=True)
        if not self.training:
            return logits
        # The 1/8 scores by three x2 steps, as PaddleSeg upsamples them (not one x8).
        for _ in range(3):
            scores3 = espnetv2_upsample2(scores3)
        return logits + [scores3]
