"""OCRNet: Yuan, Chen and Wang, "Object-Contextual Representations for Semantic
Segmentation" (ECCV 2020).

A pixel's class is easier to tell from the object it belongs to than from its own
neighbourhood. OCR first predicts coarse class maps (the "soft object regions") with
an auxiliary classifier, then summarises the pixel features inside each region as one
vector per class (a softmax-weighted average over all positions). Every pixel then
attends over those K region vectors; the attention-weighted context is concatenated
with the pixel's own feature and classified. The soft regions are supervised too
(the recipe's second loss, weight 0.4), so they keep meaning "class k is here".

Attribute names (`head.conv3x3_ocr`, `head.aux_head`, `head.spatial_ocr.attention_block
.f_pixel`, `f_object`, `f_down`, `f_up`, `head.spatial_ocr.conv1x1`, `head.cls_head`)
follow PaddleSeg 2.8 so that its checkpoints load unchanged.
"""

import paddle
import paddle.nn.functional as F
from paddle import nn

from ..layers.basic import ConvBNReLU, resize_to_input


def ocr_region_features(pixels, regions):
    """One feature vector per object region: the pixel features averaged with each
    region's softmax-over-positions weights.

    pixels: N x C x H x W; regions: N x K x H x W (class scores). Returns N x C x K x 1,
    so that 1x1 convs treat the K regions as K positions of a one-column image.
    """
    weights = F.softmax(regions.flatten(2), axis=2)  # N x K x HW, each row sums to 1
    features = paddle.matmul(weights, pixels.flatten(2).transpose([0, 2, 1]))  # N x K x C
    return features.transpose([0, 2, 1]).unsqueeze(-1)


class OCRObjectAttention(nn.Layer):
    """Pixel-to-region attention: queries from the pixels, keys and values from the
    region features, scaled dot products softmaxed over the K regions; the context is
    projected back to the pixels' channels.

    The two-layer `f_pixel` / `f_object` projections, the one-layer `f_down` (value) and
    `f_up` (output) are 1x1 ConvBNReLUs, PaddleSeg's ObjectAttentionBlock.
    """

    def __init__(self, in_channels, key_channels):
        super().__init__()
        self.key_channels = key_channels
        self.f_pixel = nn.Sequential(
            ConvBNReLU(in_channels, key_channels, 1), ConvBNReLU(key_channels, key_channels, 1)
        )
        self.f_object = nn.Sequential(
            ConvBNReLU(in_channels, key_channels, 1), ConvBNReLU(key_channels, key_channels, 1)
        )
        self.f_down = ConvBNReLU(in_channels, key_channels, 1)
        self.f_up = ConvBNReLU(key_channels, in_channels, 1)

    def forward(self, pixels, region_features):
        size = paddle.shape(pixels)[2:]
        # flatten(2) rather than reshape([0, C, -1]): the latter, on a conv output, gave
        # wrong attention under Paddle 3.3's oneDNN inference (see models/isanet).
        query = self.f_pixel(pixels).flatten(2).transpose([0, 2, 1])  # N x HW x Ck
        key = self.f_object(region_features).flatten(2)  # N x Ck x K
        value = self.f_down(region_features).flatten(2).transpose([0, 2, 1])  # N x K x Ck
        attention = F.softmax(paddle.matmul(query, key) * self.key_channels**-0.5, axis=-1)
        context = paddle.matmul(attention, value).transpose([0, 2, 1])  # N x Ck x HW
        context = context.reshape([0, self.key_channels, size[0], size[1]])
        return self.f_up(context)


class OCRContextModule(nn.Layer):
    """The object-contextual representation: attention context concatenated with the
    pixel features, fused by a 1x1 ConvBNReLU, then channel dropout."""

    def __init__(self, in_channels, key_channels, out_channels, dropout_prob=0.1):
        super().__init__()
        self.attention_block = OCRObjectAttention(in_channels, key_channels)
        self.conv1x1 = nn.Sequential(
            ConvBNReLU(2 * in_channels, out_channels, 1), nn.Dropout2D(dropout_prob)
        )

    def forward(self, pixels, region_features):
        context = self.attention_block(pixels, region_features)
        return self.conv1x1(paddle.concat([context, pixels], axis=1))


class OCRHead(nn.Layer):
    """Soft object regions from the shallower feature map (1x1 ConvBNReLU, 1x1 classifier),
    pixel features from the deeper one (3x3 ConvBNReLU to `mid_channels`), the OCR module,
    a 1x1 classifier. Returns [logits, soft object region logits]; with one feature map
    both read it.
    """

    def __init__(self, num_classes, in_channels, mid_channels=512, key_channels=256):
        super().__init__()
        # With one feature map, both the regions and the pixel features read it.
        shallow_channels = in_channels[-2] if len(in_channels) > 1 else in_channels[-1]
        deep_channels = in_channels[-1]
        self.conv3x3_ocr = ConvBNReLU(deep_channels, mid_channels, 3, padding=1)
        self.aux_head = nn.Sequential(
            ConvBNReLU(shallow_channels, shallow_channels, 1),
            nn.Conv2D(shallow_channels, num_classes, 1),
        )
        self.spatial_ocr = OCRContextModule(mid_channels, key_channels, mid_channels)
        self.cls_head = nn.Conv2D(mid_channels, num_classes, 1)
        # PaddleSeg's initialisation: conv weights ~ N(0, 0.001^2), zero biases; BN weight
        # 1, bias 0 (Paddle's defaults).
        for layer in self.sublayers():
            if isinstance(layer, nn.Conv2D):
                nn.initializer.Normal(std=0.001)(layer.weight)

    def forward(self, feats):
        shallow = feats[-2] if len(feats) > 1 else feats[-1]
        deep = feats[-1]
        soft_regions = self.aux_head(shallow)
        pixels = self.conv3x3_ocr(deep)
        ocr = self.spatial_ocr(pixels, ocr_region_features(pixels, soft_regions))
        return [self.cls_head(ocr), soft_regions]


class OCRNet(nn.Layer):
    """OCRNet. forward(x) returns logits resized to x's height and width: [main, soft
    object regions] in training, [main] in eval (the soft regions are still computed, the
    main logits need them).

    Args:
        num_classes: number of classes.
        backbone: layer returning a list of feature maps and exposing `feat_channels`.
        backbone_indices: one index (both parts of the head read that feature map) or two
            (the soft object regions read the first, the pixel features the second).
        ocr_mid_channels: channels of the pixel features and of the OCR output.
        ocr_key_channels: channels of the attention's queries, keys and values.
        align_corners: F.interpolate's align_corners for the final upsampling.
    """

    def __init__(
        self,
        num_classes,
        backbone,
        backbone_indices=(0,),
        ocr_mid_channels=512,
        ocr_key_channels=256,
        align_corners=False,
    ):
        super().__init__()
        self.backbone = backbone
        self.backbone_indices = backbone_indices
        in_channels = [backbone.feat_channels[i] for i in backbone_indices]
        self.head = OCRHead(num_classes, in_channels, ocr_mid_channels, ocr_key_channels)
        self.align_corners = align_corners

    def forward(self, x):
        feats = self.backbone(x)
        logits = self.head([feats[i] for i in self.backbone_indices])
        if not self.training:
            logits = logits[:1]
        return resize_to_input(logits, x, self.align_corners)
