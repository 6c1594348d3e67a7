"""FastFCN: Wu et al., "FastFCN: Rethinking Dilated Convolution in the Backbone for
Semantic Segmentation" (2019).

Joint Pyramid Upsampling turns the backbone's last three stages into high-resolution
multi-scale features; an ENCNet-style context encoding head classifies them. Training
adds an auxiliary FCN head on the third stage and the semantic-encoding output.

Attribute names (`jpu_layer`, `bottleneck`, `enc_module`, `cls_seg`, `fcn_head`,
`se_layer`) follow PaddleSeg 2.8 so that its checkpoints load unchanged.
"""

import paddle
from paddle import nn

from ..layers.basic import AuxLayer, ConvBNReLU
from ..layers.encoding import ContextEncodingNet, EncModule
from ..layers.jpu import JPU


class FastFCN(ContextEncodingNet):
    """FastFCN. forward(x) returns [main logits] in eval; in training the main logits,
    then the auxiliary logits (with aux_loss) and the class-presence logits (with
    use_se_loss), the logits resized to x's height and width.

    Args:
        num_classes: number of classes.
        backbone: layer returning four feature maps and exposing `feat_channels`.
        num_codes: codewords of the encoding layer.
        mid_channels: channels of the head (and width of each JPU branch).
        use_jpu: put Joint Pyramid Upsampling between backbone and head.
        aux_loss: add the auxiliary FCN output in training.
        use_se_loss: add the semantic-encoding output in training.
        add_lateral: fuse lateral connections from the first two feature maps.
    """

    def __init__(
        self,
        num_classes,
        backbone,
        num_codes=32,
        mid_channels=512,
        use_jpu=True,
        aux_loss=True,
        use_se_loss=True,
        add_lateral=False,
    ):
        super().__init__()
        self.backbone = backbone
        in_channels = list(backbone.feat_channels)
        if use_jpu:
            self.jpu_layer = JPU(in_channels, mid_channels)
            # JPU's four dilated branches are concatenated
            self.bottleneck = ConvBNReLU(
                4 * mid_channels, mid_channels, 1, padding=0, bias_attr=False
            )
        else:
            self.jpu_layer = None
            self.bottleneck = ConvBNReLU(
                in_channels[-1], mid_channels, 3, padding=1, bias_attr=False
            )
        self.add_lateral = add_lateral
        if add_lateral:
            self.lateral_convs = nn.LayerList(
                [ConvBNReLU(c, mid_channels, 1, bias_attr=False) for c in in_channels[:2]]
            )
            self.fusion = ConvBNReLU(3 * mid_channels, mid_channels, 3, padding=1, bias_attr=False)
        self.enc_module = EncModule(mid_channels, num_codes)
        self.cls_seg = nn.Conv2D(mid_channels, num_classes, 1)
        self.fcn_head = AuxLayer(in_channels[-2], mid_channels, num_classes) if aux_loss else None
        self.se_layer = nn.Linear(mid_channels, num_classes) if use_se_loss else None

    def forward(self, x):
        feats = self.backbone(x)
        if self.jpu_layer is not None:
            feats = self.jpu_layer(*feats)
        feat = self.bottleneck(feats[-1])
        if self.add_lateral:
            feat = self.fuse_laterals(feat, feats)
        return self.encode_and_classify(feat, feats[2], self.cls_seg, paddle.shape(x)[2:])
