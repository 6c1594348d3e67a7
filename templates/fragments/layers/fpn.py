"""Feature pyramid (Lin et al., "Feature Pyramid Networks for Object Detection", CVPR 2017).

Backbone stages are projected to one width by 1x1 "lateral" convs; a top-down pass
upsamples the coarser level and adds it to the next finer one, and a 3x3 conv smooths
each sum. SFNet, PFPNNet and PointRend build their heads on this pathway.

Attribute names (`lateral_convs`, `fpn_out`, and the index layout of their
`nn.Sequential`s) follow PaddleSeg 2.8 so that its checkpoints load unchanged.
"""

import paddle
import paddle.nn.functional as F
from paddle import nn

from .basic import ConvBNReLU


def fpn_lateral_conv(in_channels, out_channels):
    """1x1 conv (with bias), batch norm, ReLU: a backbone stage projected to the pyramid width."""
    return nn.Sequential(
        nn.Conv2D(in_channels, out_channels, 1), nn.BatchNorm2D(out_channels), nn.ReLU()
    )


def fpn_output_conv(channels):
    """The 3x3 ConvBNReLU that smooths a top-down sum (wrapped in a Sequential, as PaddleSeg)."""
    return nn.Sequential(ConvBNReLU(channels, channels, 3, bias_attr=False))


class FPNNeck(nn.Layer):
    """Top-down feature pyramid over backbone stages given finest first.

    forward(feats) returns the pyramid coarsest first: the coarsest stage's lateral
    projection as is, then each finer level's smoothed sum. The coarsest level has
    an `fpn_out` conv too, which the pass never uses (PaddleSeg builds one per level;
    its weights are part of the checkpoint).
    """

    def __init__(self, fpn_inplanes=(256, 512, 1024, 2048), fpn_outplanes=256):
        super().__init__()
        self.lateral_convs = nn.LayerList(
            [fpn_lateral_conv(channels, fpn_outplanes) for channels in fpn_inplanes]
        )
        self.fpn_out = nn.LayerList([fpn_output_conv(fpn_outplanes) for _ in fpn_inplanes])

    def forward(self, feats):
        top = self.lateral_convs[-1](feats[-1])
        pyramid = [top]
        for i in reversed(range(len(feats) - 1)):
            lateral = self.lateral_convs[i](feats[i])
            top = lateral + F.interpolate(
                top, paddle.shape(lateral)[2:], mode="bilinear", align_corners=True
            )
            pyramid.append(self.fpn_out[i](top))
        return pyramid
