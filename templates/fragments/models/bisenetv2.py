"""BiSeNet V2: Yu et al., "BiSeNet V2: Bilateral Network with Guided Aggregation for
Real-time Semantic Segmentation" (IJCV 2021).

No separate backbone. A detail branch (wide channels, few layers, 1/8 resolution)
keeps spatial detail; a semantic branch (narrow channels, deep, 1/32 resolution) of
gather-and-expansion layers, closed by a context embedding block, gathers context.
Bilateral guided aggregation fuses the two, each branch gating the other at its own
resolution, and a segmentation head classifies the result. In training four auxiliary
heads on the semantic branch's stages add deep supervision (the booster); they do not
run in evaluation.

Attribute names (`db`, `sb`, `bga`, `aux_head1`..`aux_head4`, `head`, `stage5_4`,
`db_branch_keep`, `branch_1`, ...) follow PaddleSeg 2.8's `BiSeNetV2` so that its
checkpoints load unchanged.
"""

import paddle
import paddle.nn.functional as F
from paddle import nn

from ..layers.basic import ConvBN, ConvBNReLU, resize_to_input

# Channels of the detail branch's three stages.
BISENETV2_DETAIL_CHANNELS = (64, 64, 128)
# Channels the fused features and the main head work with.
BISENETV2_MID_CHANNELS = 128
# How many times a gather-and-expansion layer widens its input in the depthwise part.
BISENETV2_EXPANSION = 6


class BiSeNetV2DepthwiseConvBN(nn.Layer):
    """A depthwise conv (one group per input channel, out_channels a multiple of
    in_channels) followed by batch norm."""

    def __init__(self, in_channels, out_channels, kernel_size, **conv_kwargs):
        super().__init__()
        self.depthwise_conv = ConvBN(
            in_channels, out_channels, kernel_size, groups=in_channels, **conv_kwargs
        )

    def forward(self, x):
        return self.depthwise_conv(x)


class BiSeNetV2StemBlock(nn.Layer):
    """The semantic branch's stem, to 1/4 resolution: a strided 3x3 conv, then a
    strided conv path and a max-pool path side by side, concatenated and fused."""

    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.conv = ConvBNReLU(in_channels, out_channels, 3, stride=2)
        self.left = nn.Sequential(
            ConvBNReLU(out_channels, out_channels // 2, 1),
            ConvBNReLU(out_channels // 2, out_channels, 3, stride=2),
        )
        self.right = nn.MaxPool2D(kernel_size=3, stride=2, padding=1)
        self.fuse = ConvBNReLU(out_channels * 2, out_channels, 3)

    def forward(self, x):
        x = self.conv(x)
        return self.fuse(paddle.concat([self.left(x), self.right(x)], axis=1))


class BiSeNetV2ContextEmbedding(nn.Layer):
    """Context embedding block: the globally pooled, normalised features, projected by
    a 1x1 conv, are added to every position (a residual of global context), then a 3x3
    conv. Needs in_channels == out_channels for the addition."""

    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.gap = nn.AdaptiveAvgPool2D(1)
        self.bn = nn.BatchNorm2D(in_channels)
        self.conv_1x1 = ConvBNReLU(in_channels, out_channels, 1)
        self.conv_3x3 = nn.Conv2D(out_channels, out_channels, 3, 1, 1)

    def forward(self, x):
        context = self.conv_1x1(self.bn(self.gap(x)))
        return self.conv_3x3(context + x)


class BiSeNetV2GatherExpand(nn.Layer):
    """Gather-and-expansion layer, stride 1: a 3x3 conv gathers, a depthwise 3x3 conv
    expands to BISENETV2_EXPANSION times the channels, a 1x1 conv projects back; a
    residual connection around it all."""

    def __init__(self, in_channels, out_channels, expansion=BISENETV2_EXPANSION):
        super().__init__()
        expanded = in_channels * expansion
        self.conv = nn.Sequential(
            ConvBNReLU(in_channels, in_channels, 3),
            BiSeNetV2DepthwiseConvBN(in_channels, expanded, 3),
            ConvBN(expanded, out_channels, 1),
        )

    def forward(self, x):
        return F.relu(self.conv(x) + x)


class BiSeNetV2GatherExpandDown(nn.Layer):
    """Gather-and-expansion layer, stride 2: as BiSeNetV2GatherExpand, with the
    expanding depthwise conv strided and a second depthwise conv after it; the shortcut
    is a strided depthwise conv and a 1x1 projection."""

    def __init__(self, in_channels, out_channels, expansion=BISENETV2_EXPANSION):
        super().__init__()
        expanded = in_channels * expansion
        self.branch_1 = nn.Sequential(
            ConvBNReLU(in_channels, in_channels, 3),
            BiSeNetV2DepthwiseConvBN(in_channels, expanded, 3, stride=2),
            BiSeNetV2DepthwiseConvBN(expanded, expanded, 3),
            ConvBN(expanded, out_channels, 1),
        )
        self.branch_2 = nn.Sequential(
            BiSeNetV2DepthwiseConvBN(in_channels, in_channels, 3, stride=2),
            ConvBN(in_channels, out_channels, 1),
        )

    def forward(self, x):
        return F.relu(self.branch_1(x) + self.branch_2(x))


class BiSeNetV2DetailBranch(nn.Layer):
    """Detail branch: eight 3x3 ConvBNReLU in three stages, each opened by a stride-2
    conv, to 1/8 resolution."""

    def __init__(self, in_channels, stage_channels):
        super().__init__()
        convs = []
        for channels, depth in zip(stage_channels, (2, 3, 3)):
            convs.append(ConvBNReLU(in_channels, channels, 3, stride=2))
            convs += [ConvBNReLU(channels, channels, 3) for _ in range(depth - 1)]
            in_channels = channels
        self.convs = nn.Sequential(*convs)

    def forward(self, x):
        return self.convs(x)


class BiSeNetV2SemanticBranch(nn.Layer):
    """Semantic branch: the stem (1/4), three stages of gather-and-expansion layers
    (1/8, 1/16, 1/32) and the context embedding block. Returns each stage's output (for
    the auxiliary heads) and the embedded context."""

    def __init__(self, in_channels, stage_channels):
        super().__init__()
        stem_channels, stage3_channels, stage4_channels, stage5_channels = stage_channels
        self.stem = BiSeNetV2StemBlock(in_channels, stem_channels)
        self.stage3 = nn.Sequential(
            BiSeNetV2GatherExpandDown(stem_channels, stage3_channels),
            BiSeNetV2GatherExpand(stage3_channels, stage3_channels),
        )
        self.stage4 = nn.Sequential(
            BiSeNetV2GatherExpandDown(stage3_channels, stage4_channels),
            BiSeNetV2GatherExpand(stage4_channels, stage4_channels),
        )
        self.stage5_4 = nn.Sequential(
            BiSeNetV2GatherExpandDown(stage4_channels, stage5_channels),
            *[BiSeNetV2GatherExpand(stage5_channels, stage5_channels) for _ in range(3)],
        )
        self.ce = BiSeNetV2ContextEmbedding(stage5_channels, stage5_channels)

    def forward(self, x):
        stem = self.stem(x)
        stage3 = self.stage3(stem)
        stage4 = self.stage4(stage3)
        stage5 = self.stage5_4(stage4)
        return stem, stage3, stage4, stage5, self.ce(stage5)


class BiSeNetV2Aggregation(nn.Layer):
    """Bilateral guided aggregation: the semantic features, upsampled and through a
    sigmoid, gate the detail features at 1/8; the detail features, downsampled to 1/32,
    are gated by the semantic ones there and upsampled; the sum goes through a 3x3
    ConvBN. Each branch thus guides the other instead of a plain sum or concat."""

    def __init__(self, channels, align_corners):
        super().__init__()
        self.align_corners = align_corners
        self.db_branch_keep = nn.Sequential(
            BiSeNetV2DepthwiseConvBN(channels, channels, 3), nn.Conv2D(channels, channels, 1)
        )
        self.db_branch_down = nn.Sequential(
            ConvBN(channels, channels, 3, stride=2),
            nn.AvgPool2D(kernel_size=3, stride=2, padding=1),
        )
        self.sb_branch_keep = nn.Sequential(
            BiSeNetV2DepthwiseConvBN(channels, channels, 3),
            nn.Conv2D(channels, channels, 1),
            nn.Sigmoid(),
        )
        self.sb_branch_up = ConvBN(channels, channels, 3)
        self.conv = ConvBN(channels, channels, 3)

    def upsample(self, x, size):
        return F.interpolate(x, size, mode="bilinear", align_corners=self.align_corners)

    def forward(self, detail, semantic):
        detail_keep = self.db_branch_keep(detail)
        detail_down = self.db_branch_down(detail)
        semantic_gate = self.sb_branch_keep(semantic)
        semantic_up = self.upsample(self.sb_branch_up(semantic), paddle.shape(detail_keep)[2:])
        guided_detail = detail_keep * F.sigmoid(semantic_up)
        guided_semantic = self.upsample(
            detail_down * semantic_gate, paddle.shape(guided_detail)[2:]
        )
        return self.conv(guided_detail + guided_semantic)


class BiSeNetV2SegHead(nn.Layer):
    """3x3 ConvBNReLU, dropout, 1x1 classifier: the main head and the auxiliary ones."""

    def __init__(self, in_channels, mid_channels, num_classes):
        super().__init__()
        self.conv_3x3 = nn.Sequential(ConvBNReLU(in_channels, mid_channels, 3), nn.Dropout(0.1))
        self.conv_1x1 = nn.Conv2D(mid_channels, num_classes, 1, 1)

    def forward(self, x):
        return self.conv_1x1(self.conv_3x3(x))


class BiSeNetV2(nn.Layer):
    """BiSeNet V2. forward(x) returns logits resized to x's height and width: [main] in
    eval; [main, then the auxiliary heads on the stem, stage 3, stage 4 and stage 5] in
    training.

    Args:
        num_classes: number of classes.
        lambd: width of the semantic branch's first two stages relative to the detail
            branch's (the paper's lambda).
        align_corners: F.interpolate's align_corners for every upsampling.
        in_channels: channels of the input image.
    """

    def __init__(self, num_classes, lambd=0.25, align_corners=False, in_channels=3):
        super().__init__()
        detail_channels = BISENETV2_DETAIL_CHANNELS
        semantic_channels = (
            int(detail_channels[0] * lambd),
            int(detail_channels[2] * lambd),
            64,
            128,
        )
        self.db = BiSeNetV2DetailBranch(in_channels, detail_channels)
        self.sb = BiSeNetV2SemanticBranch(in_channels, semantic_channels)
        self.bga = BiSeNetV2Aggregation(BISENETV2_MID_CHANNELS, align_corners)
        # One auxiliary head per semantic stage, as wide as the stage.
        stem_channels, stage3_channels, stage4_channels, stage5_channels = semantic_channels
        self.aux_head1 = BiSeNetV2SegHead(stem_channels, stem_channels, num_classes)
        self.aux_head2 = BiSeNetV2SegHead(stage3_channels, stage3_channels, num_classes)
        self.aux_head3 = BiSeNetV2SegHead(stage4_channels, stage4_channels, num_classes)
        self.aux_head4 = BiSeNetV2SegHead(stage5_channels, stage5_channels, num_classes)
        self.head = BiSeNetV2SegHead(BISENETV2_MID_CHANNELS, BISENETV2_MID_CHANNELS, num_classes)
        self.align_corners = align_corners
        # He-normal conv weights with the fan-in of each conv's own group, as PaddleSeg
        # initialises BiSeNetV2 (Paddle's default fan-in counts every input channel,
        # which would start the depthwise convs far too small).
        for layer in self.sublayers():
            if isinstance(layer, nn.Conv2D):
                nn.initializer.KaimingNormal()(layer.weight)

    def forward(self, x):
        *stages, context = self.sb(x)
        logits = [self.head(self.bga(self.db(x), context))]
        if self.training:
            aux_heads = (self.aux_head1, self.aux_head2, self.aux_head3, self.aux_head4)
            logits += [head(stage) for head, stage in zip(aux_heads, stages)]
        return resize_to_input(logits, x, self.align_corners)
