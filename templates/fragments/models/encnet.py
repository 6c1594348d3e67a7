"""ENCNet: Zhang et al., "Context Encoding for Semantic Segmentation" (CVPR 2018).

A dilated backbone's last stage (optionally fused with lateral connections from
earlier stages) goes through the context encoding module, whose scene summary gates
the features before the classifier. Training adds an auxiliary FCN head on the third
stage and the semantic-encoding output (which classes the image contains).

Attribute names (`bottleneck`, `lateral_convs`, `fusion`, `enc_module`, `head`,
`fcn_head`, `se_layer`) follow PaddleSeg 2.8 so that its checkpoints load unchanged.
"""

import paddle
from paddle import nn

from ..layers.basic import AuxLayer, ConvBNReLU
from ..layers.encoding import ContextEncodingNet, EncModule


class ENCNet(ContextEncodingNet):
    """ENCNet. forward(x) returns [main logits] in eval; in training
    [main, auxiliary logits, class-presence logits (with use_se_loss)], the logits
    resized to x's height and width.

    Args:
        num_classes: number of classes.
        backbone: layer returning a list of feature maps and exposing `feat_channels`.
        backbone_indices: feature maps read; the last feeds the head, the others the
            lateral connections.
        num_codes: codewords of the encoding layer.
        mid_channels: channels of the head.
        use_se_loss: add the semantic-encoding output in training.
        add_lateral: fuse lateral connections from the earlier feature maps.
    """

    def __init__(
        self,
        num_classes,
        backbone,
        backbone_indices=(1, 2, 3),
        num_codes=32,
        mid_channels=512,
        use_se_loss=True,
        add_lateral=False,
    ):
        super().__init__()
        self.backbone = backbone
        self.backbone_indices = backbone_indices
        in_channels = [backbone.feat_channels[i] for i in backbone_indices]
        self.bottleneck = ConvBNReLU(in_channels[-1], mid_channels, 3, padding=1)
        self.add_lateral = add_lateral
        if add_lateral:
            self.lateral_convs = nn.LayerList(
                [ConvBNReLU(c, mid_channels, 1) for c in in_channels[:-1]]
            )
            self.fusion = ConvBNReLU(len(in_channels) * mid_channels, mid_channels, 3, padding=1)
        self.enc_module = EncModule(mid_channels, num_codes)
        self.head = nn.Conv2D(mid_channels, num_classes, 1)
        # The auxiliary head always reads the third stage, whatever backbone_indices says.
        self.fcn_head = AuxLayer(backbone.feat_channels[2], mid_channels, num_classes)
        self.se_layer = nn.Linear(mid_channels, num_classes) if use_se_loss else None

    def forward(self, x):
        feats = self.backbone(x)
        fcn_feat = feats[2]
        feats = [feats[i] for i in self.backbone_indices]
        feat = self.bottleneck(feats[-1])
        if self.add_lateral:
            feat = self.fuse_laterals(feat, feats)
        return self.encode_and_classify(feat, fcn_feat, self.head, paddle.shape(x)[2:])
