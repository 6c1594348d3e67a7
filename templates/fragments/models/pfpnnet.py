"""PFPNNet: Kirillov et al., "Panoptic Feature Pyramid Networks" (CVPR 2019), semantic branch.

A feature pyramid over all four backbone stages; each level is brought to 1/4 of the
input resolution by a stack of 3x3 ConvBNReLU + 2x upsampling steps, the levels are
summed and classified.

Attribute names (`head.lateral_convs`, `head.scale_heads`, `head.conv_seg`, ...) follow
PaddleSeg 2.8 so that its checkpoints load unchanged.
"""

import math

import paddle
import paddle.nn.functional as F
from paddle import nn

from ..layers.basic import ConvBNReLU, Upsample2x, resize_to_input
from ..layers.fpn import FPNNeck


def pfpn_scale_head(in_channels, channels, num_steps, upsample):
    """`num_steps` x (3x3 ConvBNReLU, then 2x bilinear upsampling when `upsample`)."""
    steps = []
    for step in range(num_steps):
        steps.append(ConvBNReLU(in_channels if step == 0 else channels, channels, 3, padding=1))
        if upsample:
            steps.append(Upsample2x())
    return nn.Sequential(*steps)


class PFPNHead(FPNNeck):
    """The pyramid (inherited) plus per-level scale heads, their sum and a 1x1 classifier.

    PaddleSeg's layout, kept for checkpoint compatibility and identical outputs:
    scale head i is sized for the i-th finest stage (i doublings), but reads the i-th
    level of the pyramid counted from the coarsest; the finest level goes through
    scale head 0, and neither the coarsest level nor the last scale head is used.
    `conv_last` is never run either (it is in PaddleSeg's checkpoints).
    """

    def __init__(
        self,
        num_classes,
        fpn_inplanes,
        channels,
        dropout_ratio=0.1,
        fpn_dim=256,
        enable_auxiliary_loss=False,
    ):
        super().__init__(fpn_inplanes, fpn_dim)
        self.enable_auxiliary_loss = enable_auxiliary_loss
        self.scale_heads = nn.LayerList()
        for planes in fpn_inplanes:
            num_steps = max(1, int(math.log2(planes) - math.log2(fpn_inplanes[0])))
            self.scale_heads.append(
                pfpn_scale_head(fpn_dim, channels, num_steps, planes != fpn_inplanes[0])
            )

        self.dropout = nn.Dropout2D(dropout_ratio) if dropout_ratio else None
        if enable_auxiliary_loss:
            aux_channels = fpn_inplanes[2]
            aux = [ConvBNReLU(aux_channels, aux_channels, 3, padding=1)]
            if dropout_ratio:
                aux.append(nn.Dropout2D(dropout_ratio))
            aux.append(nn.Conv2D(aux_channels, num_classes, 1))
            self.dsn = nn.Sequential(*aux)
        self.conv_last = nn.Sequential(
            ConvBNReLU(len(fpn_inplanes) * fpn_dim, fpn_dim, 3, bias_attr=False),
            nn.Conv2D(fpn_dim, num_classes, 1),
        )
        self.conv_seg = nn.Conv2D(channels, num_classes, 1)

    def forward(self, feats):
        pyramid = super().forward(feats)  # coarsest first
        finest = pyramid[-1]
        size = paddle.shape(finest)[2:]
        x = self.scale_heads[0](finest)
        for i in range(len(self.scale_heads) - 2, 0, -1):
            x = x + F.interpolate(
                self.scale_heads[i](pyramid[i]), size, mode="bilinear", align_corners=False
            )
        if self.dropout is not None:
            x = self.dropout(x)
        logits = [self.conv_seg(x)]
        # Like PaddleSeg, the auxiliary classifier (on the third stage) also runs in eval.
        if self.enable_auxiliary_loss:
            logits.append(self.dsn(feats[2]))
        return logits


class PFPNNet(nn.Layer):
    """PFPNNet. forward(x) returns logits resized to x's height and width: [main], plus
    the auxiliary logits with enable_auxiliary_loss.

    Args:
        num_classes: number of classes.
        backbone: layer returning a list of feature maps and exposing `feat_channels`.
        backbone_indices: the four backbone feature maps the pyramid reads, finest first.
        channels: width of the pyramid and of the scale heads.
        enable_auxiliary_loss: add an auxiliary classifier on the third feature map.
        align_corners: F.interpolate's align_corners for the final upsampling (the head
            resizes with align_corners=False regardless, as in PaddleSeg).
        dropout_ratio: channel dropout before the classifier(s); 0 disables it.
        fpn_inplanes: channels of the four feature maps.
    """

    def __init__(
        self,
        num_classes,
        backbone,
        backbone_indices=(0, 1, 2, 3),
        channels=256,
        enable_auxiliary_loss=False,
        align_corners=False,
        dropout_ratio=0.1,
        fpn_inplanes=(256, 512, 1024, 2048),
    ):
        super().__init__()
        self.backbone = backbone
        self.backbone_indices = backbone_indices
        self.head = PFPNHead(
            num_classes,
            fpn_inplanes,
            channels,
            dropout_ratio,
            fpn_dim=channels,
            enable_auxiliary_loss=enable_auxiliary_loss,
        )
        self.align_corners = align_corners

    def forward(self, x):
        feats = self.backbone(x)
        logits = self.head([feats[i] for i in self.backbone_indices])
        return resize_to_input(logits, x, self.align_corners)
