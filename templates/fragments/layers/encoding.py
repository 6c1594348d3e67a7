"""Context encoding: Zhang et al., "Context Encoding for Semantic Segmentation" (CVPR 2018).

An encoding layer learns K codewords and summarises a feature map as the
soft-assigned residuals of its pixels to each codeword (a learnable, orderless
"bag of words" of the scene). The summary then gates the feature map's channels
(which classes are likely present) and, through a linear layer, predicts which
classes the image contains (the semantic-encoding loss).

ENCNet and FastFCN share everything here. Attribute names (`enc_module.encoding.0.
codewords`, `fcn_head`, `se_layer`, ...) follow PaddleSeg 2.8 so that its checkpoints load
unchanged.
"""

import paddle
import paddle.nn.functional as F
from paddle import nn

from .basic import ConvBNReLU


class ContextEncoding(nn.Layer):
    """Encoding layer: N x C x H x W features -> N x K x C aggregated residuals.

    With pixels x_i, codewords c_k and smoothing factors s_k:
        a_ik = softmax_k(s_k * ||x_i - c_k||^2),   e_k = sum_i a_ik (x_i - c_k).
    """

    def __init__(self, channels, num_codes):
        super().__init__()
        bound = 1.0 / (channels * num_codes) ** 0.5
        self.codewords = self.create_parameter(
            [num_codes, channels], default_initializer=nn.initializer.Uniform(-bound, bound)
        )
        # s_k starts negative: a pixel is assigned mostly to its nearest codewords.
        self.scale = self.create_parameter(
            [num_codes], default_initializer=nn.initializer.Uniform(-1.0, 0.0)
        )

    def forward(self, x):
        pixels = x.flatten(2).transpose([0, 2, 1])  # N x HW x C
        # Residuals x_i - c_k computed directly (N x HW x K x C: about 1 GB for two
        # 1024x512 crops), not through |x|^2 - 2 x.c + |c|^2: that form is lighter but
        # cancels catastrophically when pixels lie close to a codeword relative to their
        # norm, and its float32 rounding visibly departs from PaddleSeg's outputs.
        residuals = pixels.unsqueeze(2) - self.codewords  # N x HW x K x C
        distances = residuals.pow(2).sum(axis=3)  # N x HW x K
        assignment = F.softmax(distances * self.scale, axis=2)
        return (assignment.unsqueeze(3) * residuals).sum(axis=1)  # N x K x C


class EncModule(nn.Layer):
    """Context encoding module: project, encode (then BN over codes, ReLU), average the
    codes into one C-vector per image, and scale the input's channels by
    1 + sigmoid(fc(vector)). forward returns (vector, gated features)."""

    def __init__(self, channels, num_codes):
        super().__init__()
        self.encoding_project = ConvBNReLU(channels, channels, 1)
        self.encoding = nn.Sequential(
            ContextEncoding(channels, num_codes), nn.BatchNorm1D(num_codes), nn.ReLU()
        )
        self.fc = nn.Sequential(nn.Linear(channels, channels), nn.Sigmoid())

    def forward(self, x):
        context = self.encoding(self.encoding_project(x)).mean(axis=1)  # N x C
        gamma = self.fc(context).unsqueeze([2, 3])
        return context, F.relu(x + x * gamma)


class ContextEncodingNet(nn.Layer):
    """What ENCNet and FastFCN share after their features: optional lateral fusion, the
    context encoding module, the classifier and the training-only outputs.

    Subclasses set `lateral_convs` and `fusion` (when add_lateral), `enc_module`,
    `fcn_head` and `se_layer` (each a layer or None).
    """

    def fuse_laterals(self, feat, feats):
        """Concat feat with the lateral convs of feats[0], feats[1], ... (resized to feat)
        and fuse them with a 3x3 conv."""
        size = paddle.shape(feat)[2:]
        laterals = [
            F.interpolate(conv(f), size, mode="bilinear", align_corners=False)
            for conv, f in zip(self.lateral_convs, feats)
        ]
        return self.fusion(paddle.concat([feat, *laterals], axis=1))

    def encode_and_classify(self, feat, fcn_feat, classifier, size):
        """[main logits] in eval; in training also the auxiliary FCN logits (fcn_head on
        fcn_feat) and the per-image class-presence logits (se_layer), when present."""
        context, feat = self.enc_module(feat)
        outputs = [F.interpolate(classifier(feat), size, mode="bilinear", align_corners=False)]
        # Like PaddleSeg, the auxiliary and semantic-encoding heads run in training only:
        # they do not count towards the eval-mode FLOPs and parameters.
        if self.training:
            if self.fcn_head is not None:
                outputs.append(
                    F.interpolate(
                        self.fcn_head(fcn_feat), size, mode="bilinear", align_corners=False
                    )
                )
            if self.se_layer is not None:
                outputs.append(self.se_layer(context))
        return outputs
