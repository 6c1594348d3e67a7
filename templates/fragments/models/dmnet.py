"""DMNet: He et al., "Dynamic Multi-scale Filters for Semantic Segmentation" (ICCV 2019).

Dynamic convolutional modules (DCMs) each pool the last backbone stage to a k x k
grid and turn it into a k x k depthwise filter per channel, different for every
image, then convolve the (reduced) features with it: context at several scales,
adapted to the image. The DCM outputs are concatenated with the features and
classified; an FCN head on the third stage adds deep supervision in training.

Attribute names (`dcm_modules`, `bottleneck`, `cls`, `fcn_head`, ...) follow
PaddleSeg 2.8 so that its checkpoints load unchanged.
"""

import paddle
import paddle.nn.functional as F
from paddle import nn

from ..layers.basic import ConvBNReLU, resize_to_input


class DynamicConvModule(nn.Layer):
    """DCM: a `filter_size` x `filter_size` depthwise convolution whose filters are
    generated from the input itself (adaptive average pooling and a 1x1 conv), applied
    to the input reduced to `channels` by a 1x1 ConvBNReLU; then BN, ReLU and,
    with `fusion`, a 1x1 ConvBNReLU.
    """

    def __init__(self, filter_size, fusion, in_channels, channels):
        super().__init__()
        self.filter_size = filter_size
        self.fusion = fusion
        self.channels = channels
        # 'same' output size; an even filter takes the extra row/column at the top/left
        pad = (filter_size - 1) // 2
        extra = (filter_size - 1) % 2
        self.pad = [pad + extra, pad, pad + extra, pad]  # left, right, top, bottom
        self.avg_pool = nn.AdaptiveAvgPool2D(filter_size)
        self.filter_gen_conv = nn.Conv2D(in_channels, channels, 1)
        self.input_redu_conv = ConvBNReLU(in_channels, channels, 1)
        self.norm = nn.BatchNorm2D(channels)
        self.act = nn.ReLU()
        if fusion:
            self.fusion_conv = ConvBNReLU(channels, channels, 1)

    def forward(self, x):
        filters = self.filter_gen_conv(self.avg_pool(x))  # N x channels x k x k
        x = self.input_redu_conv(x)
        batch = x.shape[0]
        if batch < 0:
            raise ValueError(
                "DMNet's dynamic filters need a fixed batch size: export it with "
                "--input-shape 1 3 H W (or another N >= 1)"
            )
        # One grouped convolution for the whole batch: images are folded into the channel
        # axis, so that every (image, channel) pair is a group with its own filter.
        folded = F.pad(x.reshape([1, -1, 0, 0]), self.pad, mode="constant", value=0.0)
        out = F.conv2d(
            folded,
            filters.reshape([-1, 1, self.filter_size, self.filter_size]),
            groups=batch * self.channels,
        )
        out = self.act(self.norm(out.reshape([-1, self.channels, 0, 0])))
        if self.fusion:
            out = self.fusion_conv(out)
        return out


class DMNet(nn.Layer):
    """DMNet. forward(x) returns logits resized to x's height and width: [main, auxiliary]
    in training, [main] in eval (the FCN head runs in training only, as in PaddleSeg).

    Args:
        num_classes: number of classes.
        backbone: layer returning a list of feature maps and exposing `feat_channels`;
            the DCMs read the last one, the auxiliary FCN head the third.
        mid_channels: channels of each DCM's output and of the bottleneck.
        filter_sizes: one DCM per dynamic filter size.
        fusion: add a 1x1 ConvBNReLU after each DCM.
    """

    def __init__(
        self, num_classes, backbone, mid_channels=512, filter_sizes=(1, 3, 5, 7), fusion=False
    ):
        super().__init__()
        self.backbone = backbone
        in_channels = backbone.feat_channels[-1]
        self.dcm_modules = nn.LayerList(
            [DynamicConvModule(size, fusion, in_channels, mid_channels) for size in filter_sizes]
        )
        self.bottleneck = ConvBNReLU(
            in_channels + len(filter_sizes) * mid_channels, mid_channels, 3, padding=1
        )
        self.cls = nn.Conv2D(mid_channels, num_classes, 1)
        self.fcn_head = nn.Sequential(
            ConvBNReLU(backbone.feat_channels[2], mid_channels, 3, padding=1),
            nn.Conv2D(mid_channels, num_classes, 1),
        )

    def forward(self, x):
        feats = self.backbone(x)
        top = feats[-1]
        context = paddle.concat([top] + [dcm(top) for dcm in self.dcm_modules], axis=1)
        logits = [self.cls(self.bottleneck(context))]
        if self.training:
            logits.append(self.fcn_head(feats[2]))
        # PaddleSeg upsamples 8x with align_corners=True; resizing to the input size is the
        # same whenever that is a multiple of 8, and still fits the label when it is not.
        return resize_to_input(logits, x, align_corners=True)
