"""Joint Pyramid Upsampling: Wu et al., "FastFCN: Rethinking Dilated Convolution in the
Backbone for Semantic Segmentation" (2019).

JPU replaces the backbone's dilated last stages: it brings the last three stage outputs
to the resolution of the first of them, concatenates them and extracts multi-scale
context with four parallel separable convolutions of dilation 1, 2, 4 and 8, which
approximates the features a dilated backbone would have produced. FastFCN and GINet use
it. Attribute names (`conv5`, `dilation1.depthwise_conv`, `piontwise_conv` with
PaddleSeg's spelling, ...) follow PaddleSeg 2.8 so that its checkpoints load unchanged.
"""

import paddle
import paddle.nn.functional as F
from paddle import nn

from .basic import ConvBNReLU, SeparableConvBNReLU

# Dilations of JPU's four parallel separable convolutions.
JPU_DILATIONS = (1, 2, 4, 8)


class JPU(nn.Layer):
    """forward(*feats) returns feats with the last one replaced by the JPU features
    (4 * width channels, at the resolution of feats[-3]).

    Args:
        in_channels: channels of the feature maps; the last three are used.
        width: channels each input is reduced to, and each dilated branch produces.
    """

    def __init__(self, in_channels, width=512):
        super().__init__()
        self.conv5 = ConvBNReLU(in_channels[-1], width, 3, padding=1, bias_attr=False)
        self.conv4 = ConvBNReLU(in_channels[-2], width, 3, padding=1, bias_attr=False)
        self.conv3 = ConvBNReLU(in_channels[-3], width, 3, padding=1, bias_attr=False)
        for i, dilation in enumerate(JPU_DILATIONS, start=1):
            self.add_sublayer(
                f"dilation{i}",
                SeparableConvBNReLU(
                    3 * width,
                    width,
                    3,
                    padding=dilation,
                    dilation=dilation,
                    bias_attr=False,
                    pointwise_bias=False,
                ),
            )
        self.branches = [getattr(self, f"dilation{i}") for i in range(1, 5)]

    def forward(self, *feats):
        finest = self.conv3(feats[-3])
        size = paddle.shape(finest)[2:]
        # The two coarser maps go up to the finest one (PaddleSeg aligns corners here).
        coarser = [
            F.interpolate(conv(feat), size, mode="bilinear", align_corners=True)
            for conv, feat in ((self.conv5, feats[-1]), (self.conv4, feats[-2]))
        ]
        joint = paddle.concat([*coarser, finest], axis=1)
        context = paddle.concat([branch(joint) for branch in self.branches], axis=1)
        return (*feats[:-1], context)
