"""GINet: Wu et al., "GINet: Graph Interaction Network for Scene Parsing" (ECCV 2020).

Two graphs reason together on top of a JPU-upsampled ResNet: a visual graph, whose
nodes are projected from the pixels as in GloRe, and a semantic graph with one node
per class, built from a per-class embedding. A graph transfer layer lets each graph
attend to the other; the updated visual nodes are projected back onto the pixels.

PaddleSeg 2.8 feeds the semantic graph a frozen all-zero embedding (the paper uses
word vectors), so the class nodes start from the embedding network's biases; we
keep that, so its checkpoints load and behave the same. Attribute names (`jpu`,
`head.inp`, `head.gloru.graph.transfer`, `gamma_vis`, ...) follow PaddleSeg 2.8.
"""

import paddle
import paddle.nn.functional as F
from paddle import nn

from ..layers.basic import AuxLayer, ConvBNReLU, resize_to_input
from ..layers.graph_reasoning import GraphConvolution
from ..layers.jpu import JPU

# Size of a class embedding (word2vec's in the paper), and channels of a graph node.
GINET_EMBEDDING_DIM = 300
GINET_NODE_STATE = 256


class GraphTransfer(nn.Layer):
    """Cross-graph attention between class nodes (N x C x K) and visual nodes
    (N x C x M): each graph gathers the other's values, weighted by the softmax of
    their query-key affinity (over visual nodes for the class side, over classes for
    the visual side). forward returns (class_out, visual_out)."""

    def __init__(self, channels):
        super().__init__()
        self.query_conv = nn.Conv1D(channels, channels // 2, 1)
        self.key_conv = nn.Conv1D(channels, channels // 2, 1)
        self.value_conv_vis = nn.Conv1D(channels, channels, 1)
        self.value_conv_word = nn.Conv1D(channels, channels, 1)

    def forward(self, word, vis):
        affinity = paddle.matmul(
            self.query_conv(word), self.key_conv(vis), transpose_x=True
        )  # N x K x M
        to_class = F.softmax(affinity, axis=-1)  # each class: weights over visual nodes
        to_visual = F.softmax(affinity, axis=-2)  # each visual node: weights over classes
        class_out = paddle.matmul(self.value_conv_vis(vis), to_class, transpose_y=True)
        visual_out = paddle.matmul(self.value_conv_word(word), to_visual)
        return class_out, visual_out


class GraphInteraction(nn.Layer):
    """Reason within each graph, then across them. A class node becomes the message from
    the visual graph plus its own state times a learned per-class gate; a visual node
    keeps its state plus the message from the class graph times a learned per-node
    gate. Both gates start at zero, so at first only the class side mixes."""

    def __init__(self, num_state, num_node, num_classes):
        super().__init__()
        self.vis_gcn = GraphConvolution(num_state, num_node, relu_between=True)
        self.word_gcn = GraphConvolution(num_state, num_classes, relu_between=True)
        self.transfer = GraphTransfer(num_state)
        self.gamma_vis = self.create_parameter(
            [num_node], default_initializer=nn.initializer.Constant(0.0)
        )
        self.gamma_word = self.create_parameter(
            [num_classes], default_initializer=nn.initializer.Constant(0.0)
        )

    def forward(self, word, vis):
        word = self.word_gcn(word)
        vis = self.vis_gcn(vis)
        class_out, visual_out = self.transfer(word, vis)
        return word * self.gamma_word + class_out, vis + visual_out * self.gamma_vis


class GraphInteractionUnit(nn.Layer):
    """Project pixels onto visual nodes (averaged over the pixels), let them interact
    with the class nodes, project back, BN, and add to the input. forward returns
    (features, class nodes)."""

    def __init__(self, in_channels, num_state, num_node, num_classes):
        super().__init__()
        self.conv_theta = nn.Conv2D(in_channels, num_node, 1)
        self.conv_phi = nn.Conv2D(in_channels, num_state, 1)
        self.graph = GraphInteraction(num_state, num_node, num_classes)
        self.extend_dim = nn.Conv2D(num_state, in_channels, 1, bias_attr=False)
        self.bn = nn.BatchNorm2D(in_channels)

    def forward(self, x, word):
        size = paddle.shape(x)
        projection = self.conv_theta(x).flatten(2)  # N x M x HW: pixel -> node weights
        states = self.conv_phi(x).flatten(2)  # N x S x HW
        # Matrix products in PaddleSeg's orientation (nodes x states, then transposed):
        # float32 results then match its bit for bit (untrained outputs reach 1e8).
        vis = paddle.matmul(projection, states, transpose_y=True).transpose([0, 2, 1])
        vis = vis / (size[2] * size[3]).astype(vis.dtype)  # node = mean over the pixels
        class_nodes, vis = self.graph(word, vis)
        states = paddle.matmul(projection, vis, transpose_x=True, transpose_y=True)
        states = states.transpose([0, 2, 1]).reshape([size[0], vis.shape[1], size[2], size[3]])
        return x + self.bn(self.extend_dim(states)), class_nodes


class GIHead(nn.Layer):
    """3x3 ConvBNReLU to in_channels / 4, the graph interaction unit, dropout and a 1x1
    classifier. forward returns (logits, class nodes)."""

    def __init__(self, in_channels, num_classes, num_node=84):
        super().__init__()
        inter_channels = in_channels // 4
        # The class embedding: frozen, all zero (see the module's docstring).
        self.inp = self.create_parameter(
            [num_classes, GINET_EMBEDDING_DIM], default_initializer=nn.initializer.Constant(0.0)
        )
        self.inp.stop_gradient = True
        self.fc1 = nn.Sequential(
            nn.Linear(GINET_EMBEDDING_DIM, 128), nn.BatchNorm1D(128), nn.ReLU()
        )
        self.fc2 = nn.Sequential(
            nn.Linear(128, GINET_NODE_STATE), nn.BatchNorm1D(GINET_NODE_STATE), nn.ReLU()
        )
        self.conv5 = ConvBNReLU(in_channels, inter_channels, 3, padding=1, bias_attr=False)
        self.gloru = GraphInteractionUnit(inter_channels, GINET_NODE_STATE, num_node, num_classes)
        self.conv6 = nn.Sequential(nn.Dropout(0.1), nn.Conv2D(inter_channels, num_classes, 1))

    def forward(self, x):
        batch_size = paddle.shape(x)[0]
        num_classes, embedding_dim = self.inp.shape
        # One copy of the embeddings per image, made before the embedding network
        # (PaddleSeg copies its output): batch-norm statistics over identical copies are
        # the same, and Paddle Inference's constant folding, which fails on the batch
        # norms of a branch that depends on no input, leaves this one alone.
        word = self.inp.unsqueeze(0).expand([batch_size, -1, -1]).reshape([-1, embedding_dim])
        word = self.fc2(self.fc1(word)).reshape([batch_size, num_classes, -1])
        out, class_nodes = self.gloru(self.conv5(x), word.transpose([0, 2, 1]))  # N x C x K
        return self.conv6(out), class_nodes


class GINet(nn.Layer):
    """GINet. forward(x) returns logits resized to x's height and width:
    [main, aux] with enable_auxiliary_loss, else [main]; the auxiliary head runs in
    eval too, as in PaddleSeg.

    Args:
        num_classes: number of classes.
        backbone: layer returning a list of feature maps and exposing `feat_channels`.
        backbone_indices: the four feature maps read (c1..c4); JPU uses the last three,
            the auxiliary head c3, the graph head c4.
        enable_auxiliary_loss: add the auxiliary head.
        align_corners: F.interpolate's align_corners for the final upsampling.
        jpu: put Joint Pyramid Upsampling between backbone and head.
    """

    def __init__(
        self,
        num_classes,
        backbone,
        backbone_indices=(0, 1, 2, 3),
        enable_auxiliary_loss=True,
        align_corners=True,
        jpu=True,
    ):
        super().__init__()
        self.backbone = backbone
        self.backbone_indices = backbone_indices
        self.align_corners = align_corners
        channels = [backbone.feat_channels[i] for i in backbone_indices]
        jpu_width = 512
        self.jpu = JPU(channels[1:], width=jpu_width) if jpu else None
        self.head = GIHead(4 * jpu_width if jpu else channels[3], num_classes)
        self.aux = enable_auxiliary_loss
        if enable_auxiliary_loss:
            self.auxlayer = AuxLayer(channels[2], channels[2] // 4, num_classes, bias_attr=False)

    def forward(self, x):
        feats = self.backbone(x)
        feats = [feats[i] for i in self.backbone_indices]
        if self.jpu is not None:
            feats = self.jpu(*feats)
        logits = [self.head(feats[3])[0]]
        if self.aux:
            logits.append(self.auxlayer(feats[2]))
        return resize_to_input(logits, x, self.align_corners)
