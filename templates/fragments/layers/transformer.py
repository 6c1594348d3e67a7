"""Pieces every vision transformer here shares: stochastic depth and the token MLP.

Stochastic depth (Huang et al., Deep Networks with Stochastic Depth, ECCV 2016; "drop
path" in the transformer papers) skips a residual branch for a whole sample at random
while training, so a deep stack trains as an ensemble of shallower ones; the rates grow
linearly with depth. Evaluation runs every branch. Attribute names (`fc1`, `fc2`) follow
PaddleSeg 2.8 so that its checkpoints load without renaming.
"""

import paddle
from paddle import nn


class DropPath(nn.Layer):
    """Zero a residual branch's output for a random `drop_prob` of the samples in a
    batch (training only), scaling the kept ones by 1 / (1 - drop_prob) so that the
    expected output is unchanged."""

    def __init__(self, drop_prob=0.0):
        super().__init__()
        self.drop_prob = drop_prob

    def forward(self, x):
        if self.drop_prob == 0.0 or not self.training:
            return x
        keep_prob = 1.0 - self.drop_prob
        mask_shape = [x.shape[0]] + [1] * (x.ndim - 1)
        keep = paddle.floor(keep_prob + paddle.rand(mask_shape, dtype=x.dtype))
        return x / keep_prob * keep


def drop_path_rates(drop_path_rate, depth):
    """The stochastic-depth rate of each of `depth` blocks: 0 for the first, rising
    linearly to `drop_path_rate` for the last (the papers' schedule)."""
    if depth == 1:
        return [0.0]
    return [drop_path_rate * i / (depth - 1) for i in range(depth)]


class Mlp(nn.Layer):
    """A transformer block's feed-forward part on tokens (N x L x C): a linear layer
    widening to `hidden_features`, GELU, a linear layer back to `out_features`, each
    followed by dropout."""

    def __init__(self, in_features, hidden_features=None, out_features=None, drop=0.0):
        super().__init__()
        hidden_features = hidden_features or in_features
        out_features = out_features or in_features
        self.fc1 = nn.Linear(in_features, hidden_features)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden_features, out_features)
        self.drop = nn.Dropout(drop)

    def forward(self, x):
        x = self.drop(self.act(self.fc1(x)))
        return self.drop(self.fc2(x))
