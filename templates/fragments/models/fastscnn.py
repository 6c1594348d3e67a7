"""Fast-SCNN: Poudel et al., "Fast-SCNN: Fast Semantic Segmentation Network" (BMVC 2019).

No separate backbone. A shared "learning to downsample" module (a conv and two
depthwise-separable convs) takes the image to 1/8 resolution; from there a skip
connection keeps the 1/8 features while a global feature extractor (MobileNetV2-style
inverted bottlenecks down to 1/32, then pyramid pooling) computes context. A feature
fusion module adds the upsampled context to the skip, and a classifier of two
separable convs and a 1x1 conv gives the logits. With `enable_auxiliary_loss` an
auxiliary head on the 1/8 features adds deep supervision; like PaddleSeg's it runs in
evaluation too (which the model zoo's parameter count includes).

Attribute names (`learning_to_downsample`, `global_feature_extractor`,
`feature_fusion`, `classifier`, `auxlayer`, `bottleneck1`, `ppm`, `dsconv_bn_relu1`,
...) follow PaddleSeg 2.8's `FastSCNN` so that its checkpoints load unchanged.
"""

import paddle
import paddle.nn.functional as F
from paddle import nn

from ..layers.basic import AuxLayer, ConvBN, ConvBNReLU, SeparableConvBNReLU, resize_to_input
from .pspnet import PyramidPoolingModule

# Channels after each step of learning to downsample: conv, separable conv, separable conv.
FASTSCNN_DOWNSAMPLE_CHANNELS = (32, 48, 64)
# The global feature extractor's three bottleneck stages: (output channels, blocks, stride).
FASTSCNN_BOTTLENECK_STAGES = ((64, 3, 2), (96, 3, 2), (128, 3, 1))
FASTSCNN_EXPANSION = 6
# Channels of the fused features the classifier reads.
FASTSCNN_FUSED_CHANNELS = 128


class FastSCNNLearningToDownsample(nn.Layer):
    """Three stride-2 steps to 1/8 resolution: a 3x3 ConvBNReLU, then two depthwise-
    separable convs (cheap at the high resolutions where they run)."""

    def __init__(self, in_channels, channels=FASTSCNN_DOWNSAMPLE_CHANNELS):
        super().__init__()
        conv_channels, separable1_channels, out_channels = channels
        self.conv_bn_relu = ConvBNReLU(in_channels, conv_channels, 3, stride=2)
        self.dsconv_bn_relu1 = SeparableConvBNReLU(
            conv_channels, separable1_channels, 3, stride=2, padding=1
        )
        self.dsconv_bn_relu2 = SeparableConvBNReLU(
            separable1_channels, out_channels, 3, stride=2, padding=1
        )

    def forward(self, x):
        return self.dsconv_bn_relu2(self.dsconv_bn_relu1(self.conv_bn_relu(x)))


class FastSCNNInvertedBottleneck(nn.Layer):
    """MobileNetV2's inverted residual: 1x1 expansion, depthwise 3x3 (strided or not),
    linear 1x1 projection; a residual connection when the shape is unchanged."""

    def __init__(self, in_channels, out_channels, expansion=FASTSCNN_EXPANSION, stride=2):
        super().__init__()
        self.use_shortcut = stride == 1 and in_channels == out_channels
        expanded = in_channels * expansion
        self.block = nn.Sequential(
            ConvBNReLU(in_channels, expanded, 1, bias_attr=False),
            ConvBNReLU(
                expanded,
                expanded,
                3,
                stride=stride,
                padding=1,
                groups=expanded,
                bias_attr=False,
            ),
            # no ReLU after the projection: it would destroy information in so few channels
            ConvBN(expanded, out_channels, 1, bias_attr=False),
        )

    def forward(self, x):
        out = self.block(x)
        return x + out if self.use_shortcut else out


def fastscnn_bottleneck_stage(in_channels, out_channels, blocks, stride):
    """`blocks` inverted bottlenecks; only the first one changes channels and strides."""
    return nn.Sequential(
        FastSCNNInvertedBottleneck(in_channels, out_channels, stride=stride),
        *[
            FastSCNNInvertedBottleneck(out_channels, out_channels, stride=1)
            for _ in range(blocks - 1)
        ],
    )


class FastSCNNGlobalFeatureExtractor(nn.Layer):
    """Three stages of inverted bottlenecks (1/16, 1/32, 1/32), then pyramid pooling
    (PSPNet's) over the last one."""

    def __init__(self, in_channels, out_channels):
        super().__init__()
        stages = []
        for channels, blocks, stride in FASTSCNN_BOTTLENECK_STAGES:
            stages.append(fastscnn_bottleneck_stage(in_channels, channels, blocks, stride))
            in_channels = channels
        self.bottleneck1, self.bottleneck2, self.bottleneck3 = stages
        # PaddleSeg's pyramid pooling here always upsamples with align_corners=True,
        # whatever the model's align_corners.
        self.ppm = PyramidPoolingModule(
            in_channels, out_channels, (1, 2, 3, 6), dim_reduction=True, align_corners=True
        )

    def forward(self, x):
        return self.ppm(self.bottleneck3(self.bottleneck2(self.bottleneck1(x))))


class FastSCNNFeatureFusion(nn.Layer):
    """Feature fusion: the context, upsampled to the skip's 1/8 grid, goes through a
    depthwise 3x3 ConvBNReLU and a 1x1 ConvBN; the skip through a 1x1 ConvBN; their sum
    through a ReLU."""

    def __init__(self, high_res_channels, low_res_channels, out_channels, align_corners):
        super().__init__()
        self.align_corners = align_corners
        # groups=128 as PaddleSeg has it: depthwise for its 128-channel context
        self.dwconv = ConvBNReLU(
            low_res_channels, out_channels, 3, padding=1, groups=128, bias_attr=False
        )
        self.conv_low_res = ConvBN(out_channels, out_channels, 1)
        self.conv_high_res = ConvBN(high_res_channels, out_channels, 1)

    def forward(self, high_res, low_res):
        low_res = F.interpolate(
            low_res, paddle.shape(high_res)[2:], mode="bilinear", align_corners=self.align_corners
        )
        low_res = self.conv_low_res(self.dwconv(low_res))
        return F.relu(self.conv_high_res(high_res) + low_res)


class FastSCNNClassifier(nn.Layer):
    """Two depthwise-separable 3x3 convs, dropout, and a 1x1 conv to class logits."""

    def __init__(self, channels, num_classes):
        super().__init__()
        self.dsconv1 = SeparableConvBNReLU(channels, channels, 3, padding=1)
        self.dsconv2 = SeparableConvBNReLU(channels, channels, 3, padding=1)
        self.conv = nn.Conv2D(channels, num_classes, 1)
        self.dropout = nn.Dropout(p=0.1)

    def forward(self, x):
        return self.conv(self.dropout(self.dsconv2(self.dsconv1(x))))


class FastSCNN(nn.Layer):
    """Fast-SCNN. forward(x) returns logits resized to x's height and width: [main, aux]
    with enable_auxiliary_loss (in training and evaluation alike), else [main].

    Args:
        num_classes: number of classes.
        in_channels: channels of the input image.
        enable_auxiliary_loss: add the auxiliary head on the 1/8 features.
        align_corners: F.interpolate's align_corners of the fusion's and the logits'
            upsampling.
    """

    def __init__(self, num_classes, in_channels=3, enable_auxiliary_loss=True, align_corners=False):
        super().__init__()
        skip_channels = FASTSCNN_DOWNSAMPLE_CHANNELS[-1]
        self.learning_to_downsample = FastSCNNLearningToDownsample(in_channels)
        self.global_feature_extractor = FastSCNNGlobalFeatureExtractor(
            skip_channels, FASTSCNN_FUSED_CHANNELS
        )
        self.feature_fusion = FastSCNNFeatureFusion(
            skip_channels, FASTSCNN_FUSED_CHANNELS, FASTSCNN_FUSED_CHANNELS, align_corners
        )
        self.classifier = FastSCNNClassifier(FASTSCNN_FUSED_CHANNELS, num_classes)
        if enable_auxiliary_loss:
            self.auxlayer = AuxLayer(skip_channels, skip_channels // 2, num_classes)
        self.enable_auxiliary_loss = enable_auxiliary_loss
        self.align_corners = align_corners

    def forward(self, x):
        skip = self.learning_to_downsample(x)
        context = self.global_feature_extractor(skip)
        logits = [self.classifier(self.feature_fusion(skip, context))]
        # Like PaddleSeg, the auxiliary head also runs in eval (export keeps output 0 only).
        if self.enable_auxiliary_loss:
            logits.append(self.auxlayer(skip))
        return resize_to_input(logits, x, self.align_corners)
