"""Graph convolution for global reasoning: Chen et al., "Graph-Based Global Reasoning
Networks" (CVPR 2019), the unit GloRe is built on and GINet extends.

Both project the pixels onto a few nodes by a learned, pixel-wise weighting (a 1x1
conv gives each pixel one weight per node), reason over the fully connected node graph
with the graph convolution below, and project the nodes back onto the pixels with the
same weights. Attribute names (`conv1`, `conv2`) follow PaddleSeg 2.8.
"""

import paddle.nn.functional as F
from paddle import nn


class GraphConvolution(nn.Layer):
    """One graph convolution on N x state x node tensors.

    conv1 mixes the nodes (a learned adjacency, plus the identity through a residual),
    conv2 updates each node's state. GloRe applies ReLU after conv2; GINet between the
    two (relu_between=True).
    """

    def __init__(self, num_state, num_node, relu_between=False):
        super().__init__()
        self.conv1 = nn.Conv1D(num_node, num_node, 1)
        self.conv2 = nn.Conv1D(num_state, num_state, 1, bias_attr=False)
        self.relu_between = relu_between

    def forward(self, x):
        nodes_first = x.transpose([0, 2, 1])  # N x node x state: conv1 runs over nodes
        # The residual is added before transposing back: with conv1's output transposed
        # first, Paddle Inference's oneDNN passes (squeeze + transpose fusion, then add +
        # ReLU fusion) mis-infer a shape and the exported model fails to load.
        h = (nodes_first + self.conv1(nodes_first)).transpose([0, 2, 1])
        if self.relu_between:
            return self.conv2(F.relu(h))
        return F.relu(self.conv2(h))
