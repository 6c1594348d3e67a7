"""HRNet-W48 with pixel contrast: Wang, Zhou, Yu, Dai, Konukoglu and Van Gool, "Exploring
Cross-Image Pixel Contrast for Semantic Segmentation" (ICCV 2021).

A plain segmentation head (3x3 ConvBNReLU, dropout, 1x1 classifier) on HRNet's
concatenated 1/4-resolution features, trained with cross-entropy plus a supervised
contrastive loss on pixel embeddings: a projection head maps every pixel's features to
a unit-length embedding, and the loss pulls embeddings of one class together and pushes
other classes' away, across the whole batch (losses/pixel_contrast). The projection
head runs in training only; inference is the segmentation head alone, so the exported
model and its FLOPs do not include it.

Attribute names (`cls_head`, `proj_head.proj`) follow PaddleSeg 2.8's HRNetW48Contrast
so that its checkpoints load unchanged.
"""

import paddle.nn.functional as F
from paddle import nn

from ..layers.basic import ConvBNReLU, resize_to_input


class PixelEmbeddingHead(nn.Layer):
    """Per-pixel projection to the contrastive embedding: 1x1 ConvBNReLU, 1x1 conv to
    `proj_dim` channels, L2-normalised along the channels (PaddleSeg's 'convmlp'
    ProjectionHead)."""

    def __init__(self, in_channels, proj_dim):
        super().__init__()
        self.proj = nn.Sequential(
            ConvBNReLU(in_channels, in_channels, 1), nn.Conv2D(in_channels, proj_dim, 1)
        )

    def forward(self, x):
        return F.normalize(self.proj(x), p=2, axis=1)


class HRNetW48Contrast(nn.Layer):
    """Segmentation head plus a training-only pixel embedding head on one HRNet.

    forward(x) returns [logits resized to x's height and width]; in training it adds
    (embedding, logits) at feature resolution (1/4) for PixelContrastCrossEntropyLoss:
    the unit-length N x proj_dim x H/4 x W/4 embedding, and the logits whose argmax
    tells the loss which pixels are hard (misclassified).

    Args:
        num_classes: number of classes.
        backbone: an HRNet (one feature map, exposing `feat_channels`).
        bb_channels: channels of the backbone's feature map (720 for HRNet-W48); None
            reads them from the backbone. PaddleSeg requires the value.
        drop_prob: channel dropout before the classifier.
        proj_dim: channels of the pixel embedding.
        align_corners: F.interpolate's align_corners for the final upsampling.
    """

    def __init__(
        self,
        num_classes,
        backbone,
        bb_channels=None,
        drop_prob=0.1,
        proj_dim=256,
        align_corners=False,
    ):
        super().__init__()
        channels = backbone.feat_channels[0]
        if bb_channels is not None and bb_channels != channels:
            raise ValueError(
                f"bb_channels is {bb_channels}, but the backbone returns {channels} channels"
            )
        self.backbone = backbone
        self.align_corners = align_corners
        self.cls_head = nn.Sequential(
            ConvBNReLU(channels, channels, 3, padding=1),
            nn.Dropout2D(drop_prob),
            nn.Conv2D(channels, num_classes, 1, bias_attr=False),
        )
        self.proj_head = PixelEmbeddingHead(channels, proj_dim)

    def forward(self, x):
        feats = self.backbone(x)[0]
        logits = self.cls_head(feats)
        outputs = resize_to_input([logits], x, self.align_corners)
        if self.training:
            outputs.append((self.proj_head(feats), logits))
        return outputs
