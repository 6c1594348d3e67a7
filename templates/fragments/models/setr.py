"""SETR (Zheng et al., Rethinking Semantic Segmentation from a Sequence-to-Sequence
Perspective with Transformers, CVPR 2021).

Segmentation as sequence-to-sequence prediction: a plain Vision Transformer encodes the
image as a sequence of 1/16-resolution patch tokens with no convolutional downsampling
stages, so every layer has a global receptive field; a light decoder folds the tokens of
chosen blocks back into 1/16 feature maps and classifies them. Three decoders:

- naive: LayerNorm, a 1x1 ConvBNReLU to 256 channels and a 1x1 classifier on the last
  chosen block, bilinearly upsampled to the input;
- PUP (progressive upsampling): four 3x3 ConvBNReLUs with a 2x bilinear upsampling
  between each, so no single step upsamples more than 2x;
- MLA (multi-level aggregation): four blocks' maps, each reduced to 256 channels, summed
  top-down (deepest first) and refined by 3x3 ConvBNReLUs, then each through two 3x3
  ConvBNReLUs to 128 channels and 4x upsampling, concatenated and classified.

Training supervises other blocks as well (deep supervision): auxiliary heads on the
earlier chosen blocks (naive, PUP) or on each aggregated MLA level. Names and layout
follow PaddleSeg 2.8 (`head.cls_head`, `head.aux_heads`, `head.mla.mla_p2_1x1`...), so that
its checkpoints load. As there, each `aux_heads` / `aux_head_norms` / `norms` /
`feat_convs` list repeats one layer: the entries share their weights. The naive and PUP
heads train at `lr_multiple` times the base learning rate (every parameter's
optimize_attr learning_rate, which Paddle's optimizers apply); PaddleSeg's MLA head takes
`lr_multiple` but never applies it, so MLA trains at 1x, as in PaddleSeg.
"""

import paddle
from paddle import nn

from ..backbones.vision_transformer import tokens_to_map
from ..layers.basic import ConvBNReLU, resize_to_input, upsample_by


class SETRUpsample(nn.Layer):
    """nn.Upsample(scale_factor=factor, mode="bilinear") through `upsample_by` (an
    explicit output size, which paddle2onnx can read); no parameters, so the layer
    numbering of the Sequential around it stays PaddleSeg's."""

    def __init__(self, factor, align_corners=False):
        super().__init__()
        self.factor = factor
        self.align_corners = align_corners

    def forward(self, x):
        return upsample_by(x, self.factor, self.align_corners)


def set_learning_rate_multiple(layer, multiple):
    """Every parameter of `layer` trained at `multiple` times the optimizer's rate."""
    for param in layer.parameters():
        param.optimize_attr["learning_rate"] = multiple


class SETRTokenHead(nn.Layer):
    """What the naive and PUP heads share: `cls_head` on the layer-normed tokens of the
    last chosen block and, in training, the shared auxiliary head on the chosen blocks
    (as many as it has norms: all but the last for the naive head, all for PUP)."""

    def forward(self, features, grid_shape):
        feat = tokens_to_map(self.cls_head_norm(features[self.backbone_indices[-1]]), grid_shape)
        logits = [self.cls_head(feat)]
        if self.training:
            for index, norm, head in zip(
                self.backbone_indices, self.aux_head_norms, self.aux_heads
            ):
                logits.append(head(tokens_to_map(norm(features[index]), grid_shape)))
        return logits


class SETRNaiveHead(SETRTokenHead):
    """LayerNorm, 1x1 ConvBNReLU to 256 channels, 1x1 classifier on the last chosen
    block; in training the same (shared) head on each earlier chosen block."""

    def __init__(self, num_classes, backbone_indices, in_channels, lr_multiple=10):
        super().__init__()
        self.backbone_indices = backbone_indices
        self.cls_head_norm = nn.LayerNorm(in_channels, epsilon=1e-6)
        self.cls_head = nn.Sequential(
            ConvBNReLU(in_channels, 256, 1), nn.Conv2D(256, num_classes, 1)
        )
        num_aux = len(backbone_indices) - 1
        self.aux_head_norms = nn.LayerList([nn.LayerNorm(in_channels, epsilon=1e-6)] * num_aux)
        self.aux_heads = nn.LayerList(
            [nn.Sequential(ConvBNReLU(in_channels, 256, 1), nn.Conv2D(256, num_classes, 1))]
            * num_aux
        )
        set_learning_rate_multiple(self, lr_multiple)


class SETRPUPHead(SETRTokenHead):
    """Progressive upsampling: four 3x3 ConvBNReLUs (256 channels) with 2x bilinear
    upsampling between them, then a 1x1 classifier (1/2 resolution); in training a
    shared auxiliary head (3x3 ConvBNReLU, 4x upsampling, 1x1 classifier) on every
    chosen block. (PaddleSeg hands it the model's align_corners, which its upsamplings do
    not use: they never align corners.)"""

    def __init__(self, num_classes, backbone_indices, in_channels, lr_multiple=10):
        super().__init__()
        inter = 256
        self.backbone_indices = backbone_indices
        self.cls_head_norm = nn.LayerNorm(in_channels, epsilon=1e-6)
        self.cls_head = nn.Sequential(
            ConvBNReLU(in_channels, inter, 3, padding=1),
            SETRUpsample(2),
            ConvBNReLU(inter, inter, 3, padding=1),
            SETRUpsample(2),
            ConvBNReLU(inter, inter, 3, padding=1),
            SETRUpsample(2),
            ConvBNReLU(inter, inter, 3, padding=1),
            nn.Conv2D(inter, num_classes, 1),
        )
        num_aux = len(backbone_indices)
        self.aux_head_norms = nn.LayerList([nn.LayerNorm(in_channels, epsilon=1e-6)] * num_aux)
        self.aux_heads = nn.LayerList(
            [
                nn.Sequential(
                    ConvBNReLU(in_channels, inter, 3, padding=1),
                    SETRUpsample(4),
                    nn.Conv2D(inter, num_classes, 1),
                )
            ]
            * num_aux
        )
        set_learning_rate_multiple(self, lr_multiple)


class SETRConvMLA(nn.Layer):
    """Multi-level aggregation of four maps (shallowest first): each reduced by a 1x1
    ConvBNReLU, summed top-down from the deepest, each sum refined by a 3x3 ConvBNReLU."""

    def __init__(self, in_channels, mla_channels):
        super().__init__()
        for level in (2, 3, 4, 5):
            setattr(self, f"mla_p{level}_1x1", ConvBNReLU(in_channels, mla_channels, 1))
        for level in (2, 3, 4, 5):
            setattr(self, f"mla_p{level}", ConvBNReLU(mla_channels, mla_channels, 3, padding=1))

    def forward(self, feats):
        res2, res3, res4, res5 = feats
        p5 = self.mla_p5_1x1(res5)
        p4 = p5 + self.mla_p4_1x1(res4)
        p3 = p4 + self.mla_p3_1x1(res3)
        p2 = p3 + self.mla_p2_1x1(res2)
        return [self.mla_p2(p2), self.mla_p3(p3), self.mla_p4(p4), self.mla_p5(p5)]


class SETRMLAHead(nn.Layer):
    """MLA decoder on four chosen blocks: aggregation (SETRConvMLA), then on each level a
    shared pair of 3x3 ConvBNReLUs to `mlahead_channels` and 4x upsampling (corners
    aligned), concatenated, 3x3 classifier (1/4 resolution); in training a shared 1x1
    classifier on each aggregated level first. `lr_multiple` is accepted and, as in
    PaddleSeg, not applied."""

    def __init__(
        self,
        num_classes,
        backbone_indices,
        in_channels,
        mla_channels=256,
        mlahead_channels=128,
        lr_multiple=10,
    ):
        super().__init__()
        if len(backbone_indices) != 4:
            raise ValueError(f"SETR's MLA head reads 4 blocks; got {list(backbone_indices)}")
        self.backbone_indices = backbone_indices
        self.norms = nn.LayerList([nn.LayerNorm(in_channels, epsilon=1e-6)] * 4)
        self.mla = SETRConvMLA(in_channels, mla_channels)
        self.aux_heads = nn.LayerList([nn.Conv2D(mla_channels, num_classes, 1)] * 4)
        self.feat_convs = nn.LayerList(
            [
                nn.Sequential(
                    ConvBNReLU(mla_channels, mlahead_channels, 3, padding=1),
                    ConvBNReLU(mlahead_channels, mlahead_channels, 3, padding=1),
                    SETRUpsample(4, align_corners=True),
                )
            ]
            * 4
        )
        self.cls_head = nn.Conv2D(4 * mlahead_channels, num_classes, 3, padding=1)

    def forward(self, features, grid_shape):
        maps = [
            tokens_to_map(norm(features[index]), grid_shape)
            for index, norm in zip(self.backbone_indices, self.norms)
        ]
        levels = self.mla(maps)
        aux = [head(level) for head, level in zip(self.aux_heads, levels)] if self.training else []
        mixed = paddle.concat([conv(level) for conv, level in zip(self.feat_convs, levels)], axis=1)
        return [self.cls_head(mixed)] + aux


class SegmentationTransformer(nn.Layer):
    """SETR: a ViT backbone and the `head` decoder ("naive", "pup" or "mla") on the tokens
    of blocks `backbone_indices` (shallowest first; naive and PUP classify the last).
    Every output is bilinearly resized to the input (`align_corners`, True for the
    odd-sized 769x769 crops)."""

    def __init__(
        self,
        num_classes,
        backbone,
        backbone_indices=(9, 14, 19, 23),
        head="naive",
        align_corners=False,
        lr_multiple=10,
    ):
        super().__init__()
        self.backbone = backbone
        self.align_corners = align_corners
        channels = backbone.embed_dim
        if head == "naive":
            self.head = SETRNaiveHead(num_classes, backbone_indices, channels, lr_multiple)
        elif head == "pup":
            self.head = SETRPUPHead(num_classes, backbone_indices, channels, lr_multiple)
        elif head == "mla":
            self.head = SETRMLAHead(
                num_classes, backbone_indices, channels, lr_multiple=lr_multiple
            )
        else:
            raise ValueError(f"SETR head must be naive, pup or mla; got {head!r}")

    def forward(self, x):
        features, grid_shape = self.backbone(x)
        return resize_to_input(self.head(features, grid_shape), x, self.align_corners)
