"""Atrous spatial pyramid pooling (Chen et al., "Rethinking Atrous Convolution for
Semantic Image Segmentation", 2017), optionally built from separable convolutions as
DeepLabV3+ does; shared by the DeepLabV3, DeepLabV3+, GSCNN and DecoupledSegNet heads.

Attribute names (`aspp_blocks`, `global_avg_pool`, `piontwise_conv` with PaddleSeg's
spelling, ...) follow PaddleSeg 2.8 so that its checkpoints load unchanged.
"""

import paddle
import paddle.nn.functional as F
from paddle import nn

from .basic import ConvBNReLU, SeparableConvBNReLU


class ASPPModule(nn.Layer):
    """Parallel atrous convolutions at several rates (a 1x1 conv for rate 1), optionally
    an image-level branch (global average pool, 1x1 conv, broadcast back), concatenated
    and fused by a 1x1 ConvBNReLU, then dropout.

    Each rate sees the same feature map with a different field of view, so objects of
    several scales are covered without downsampling it; the image branch adds global
    context that very dilated 3x3 convs (whose taps fall mostly in padding) cannot.

    Args:
        aspp_ratios: dilation rate of each branch; 1 makes a 1x1 branch.
        in_channels, out_channels: channels in; channels of every branch and of the output.
        align_corners: F.interpolate's align_corners for the image-level branch.
        use_sep_conv: separable instead of plain 3x3 convs for rates above 1 (DeepLabV3+).
        image_pooling: add the image-level branch.
        extra_channels: channels of branches a subclass concatenates after these
            (GSCNN's edge branch), so that the fusing conv takes them too.
    """

    def __init__(
        self,
        aspp_ratios,
        in_channels,
        out_channels,
        align_corners,
        use_sep_conv=False,
        image_pooling=False,
        extra_channels=0,
    ):
        super().__init__()
        self.align_corners = align_corners
        self.aspp_blocks = nn.LayerList()
        for ratio in aspp_ratios:
            if ratio == 1:
                block = ConvBNReLU(in_channels, out_channels, 1, padding=0)
            elif use_sep_conv:
                block = SeparableConvBNReLU(
                    in_channels, out_channels, 3, padding=ratio, dilation=ratio
                )
            else:
                block = ConvBNReLU(in_channels, out_channels, 3, padding=ratio, dilation=ratio)
            self.aspp_blocks.append(block)
        self.image_pooling = image_pooling
        if image_pooling:
            self.global_avg_pool = nn.Sequential(
                nn.AdaptiveAvgPool2D(output_size=(1, 1)),
                ConvBNReLU(in_channels, out_channels, 1, bias_attr=False),
            )
        branches = len(aspp_ratios) + int(image_pooling)
        self.conv_bn_relu = ConvBNReLU(out_channels * branches + extra_channels, out_channels, 1)
        self.dropout = nn.Dropout(p=0.1)

    def branches(self, x):
        """The outputs of the atrous branches and the image-level one, at x's size."""
        outputs = [block(x) for block in self.aspp_blocks]
        if self.image_pooling:
            outputs.append(
                F.interpolate(
                    self.global_avg_pool(x),
                    paddle.shape(x)[2:],
                    mode="bilinear",
                    align_corners=self.align_corners,
                )
            )
        return outputs

    def fuse(self, outputs):
        return self.dropout(self.conv_bn_relu(paddle.concat(outputs, axis=1)))

    def forward(self, x):
        return self.fuse(self.branches(x))
