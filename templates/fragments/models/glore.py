"""GloRe: Chen et al., "Graph-Based Global Reasoning Networks" (CVPR 2019).

A global reasoning unit on the last stage of a dilated backbone: features are
projected onto a small set of nodes, a graph convolution reasons over them, and the
result is projected back and added to the features (a residual). An auxiliary head on
the third stage gives deep supervision.

Attribute names (`head.gru_module.reduction_dim`, `projection_mat`, `gcn`, `extend_dim`,
`extend_bn`, ...) follow PaddleSeg 2.8 so that its checkpoints load unchanged.
"""

import paddle
from paddle import nn

from ..layers.basic import AuxLayer, ConvBNReLU, resize_to_input
from ..layers.graph_reasoning import GraphConvolution


class GloReUnit(nn.Layer):
    """Global reasoning unit: x + BN(extend(graph reasoning on projected nodes)).

    Args:
        num_input: channels of the input and output.
        num_state: channels of a node's state.
        num_node: number of nodes.
    """

    def __init__(self, num_input=512, num_state=128, num_node=64):
        super().__init__()
        self.reduction_dim = nn.Conv2D(num_input, num_state, 1)
        self.projection_mat = nn.Conv2D(num_input, num_node, 1)
        self.gcn = GraphConvolution(num_state, num_node)
        self.extend_dim = nn.Conv2D(num_state, num_input, 1, bias_attr=False)
        self.extend_bn = nn.BatchNorm2D(num_input, epsilon=1e-4)

    def forward(self, x):
        size = paddle.shape(x)
        states = self.reduction_dim(x).flatten(2)  # N x S x HW
        projection = self.projection_mat(x).flatten(2)  # N x K x HW: pixel -> node weights
        # Matrix products in PaddleSeg's orientation: float32 results then match its
        # bit for bit (the outputs of an untrained model reach 1e15).
        nodes = self.gcn(paddle.matmul(states, projection, transpose_y=True))  # N x S x K
        states = paddle.matmul(nodes, projection).reshape(
            [size[0], nodes.shape[1], size[2], size[3]]
        )
        return x + self.extend_bn(self.extend_dim(states))


class GloReHead(nn.Layer):
    """1x1 ConvBNReLU to gru_channels, the reasoning unit, dropout and a 1x1 classifier
    on feats[backbone_indices[1]]; optionally an auxiliary classifier on
    feats[backbone_indices[0]]. Both run in eval too, as in PaddleSeg."""

    def __init__(
        self,
        num_classes,
        backbone_indices,
        backbone_channels,
        gru_channels,
        gru_num_state,
        gru_num_node,
        enable_auxiliary_loss,
    ):
        super().__init__()
        self.backbone_indices = backbone_indices
        self.enable_auxiliary_loss = enable_auxiliary_loss
        self.conv_bn_relu = ConvBNReLU(backbone_channels[1], gru_channels, 1, bias_attr=False)
        self.gru_module = GloReUnit(gru_channels, gru_num_state, gru_num_node)
        self.dropout = nn.Dropout(0.1)
        self.classifier = nn.Conv2D(gru_channels, num_classes, 1)
        if enable_auxiliary_loss:
            self.auxlayer = AuxLayer(backbone_channels[0], backbone_channels[0] // 4, num_classes)

    def forward(self, feats):
        x = self.gru_module(self.conv_bn_relu(feats[self.backbone_indices[1]]))
        logits = [self.classifier(self.dropout(x))]
        if self.enable_auxiliary_loss:
            logits.append(self.auxlayer(feats[self.backbone_indices[0]]))
        return logits


class GloRe(nn.Layer):
    """GloRe. forward(x) returns logits resized to x's height and width:
    [main, aux] with enable_auxiliary_loss, else [main].

    Args:
        num_classes: number of classes.
        backbone: layer returning a list of feature maps and exposing `feat_channels`.
        backbone_indices: (auxiliary feature, reasoning feature) indices.
        gru_channels: channels the reasoning unit works on.
        gru_num_state: channels of a node's state.
        gru_num_node: number of graph nodes.
        enable_auxiliary_loss: add the auxiliary head.
        align_corners: F.interpolate's align_corners for the final upsampling.
    """

    def __init__(
        self,
        num_classes,
        backbone,
        backbone_indices=(2, 3),
        gru_channels=512,
        gru_num_state=128,
        gru_num_node=64,
        enable_auxiliary_loss=True,
        align_corners=False,
    ):
        super().__init__()
        self.backbone = backbone
        backbone_channels = [backbone.feat_channels[i] for i in backbone_indices]
        self.head = GloReHead(
            num_classes,
            backbone_indices,
            backbone_channels,
            gru_channels,
            gru_num_state,
            gru_num_node,
            enable_auxiliary_loss,
        )
        self.align_corners = align_corners

    def forward(self, x):
        logits = self.head(self.backbone(x))
        return resize_to_input(logits, x, self.align_corners)
