"""DNLNet: Yin et al., "Disentangled Non-Local Neural Networks" (ECCV 2020).

A non-local block's attention logit q_i . k_j mixes two things: how position i relates
to position j (pairwise) and how salient position j is on its own (unary). DNL splits
them: the pairwise term uses whitened queries and keys (their means over positions
subtracted) and a temperature-sharpened softmax; the unary term is a separate 1x1 conv
and softmax over positions that pools one global value vector. Both are added before
the output projection.

Attribute names (`head.dnl_block.theta`, `phi`, `g`, `conv_mask`, `conv_out`, ...)
follow PaddleSeg 2.8 so that its checkpoints load unchanged.
"""

import paddle
import paddle.nn.functional as F
from paddle import nn

from ..layers.basic import ConvBNReLU, resize_to_input


class DisentangledNonLocal2D(nn.Layer):
    """x + conv_out(pairwise attention of whitened theta/phi over g(x) + unary pooling of
    g(x)); projections to in_channels // reduction channels.

    mode: "embedded_gaussian" (softmax of the logits, divided by sqrt(channels) with
    use_scale, then by `temperature`) or "dot_product" (logits divided by the number of
    positions, no softmax).
    """

    def __init__(
        self, in_channels, reduction=2, use_scale=True, mode="embedded_gaussian", temperature=0.05
    ):
        super().__init__()
        if mode not in ("embedded_gaussian", "dot_product"):
            raise ValueError(
                f"DisentangledNonLocal2D mode must be 'embedded_gaussian' or "
                f"'dot_product', got {mode!r}"
            )
        self.in_channels = in_channels
        self.inter_channels = max(in_channels // reduction, 1)
        self.use_scale = use_scale
        self.mode = mode
        self.temperature = temperature
        self.g = nn.Conv2D(in_channels, self.inter_channels, 1)
        self.conv_out = ConvBNReLU(self.inter_channels, in_channels, 1, bias_attr=False)
        self.theta = nn.Conv2D(in_channels, self.inter_channels, 1)
        self.phi = nn.Conv2D(in_channels, self.inter_channels, 1)
        self.conv_mask = nn.Conv2D(in_channels, 1, 1)

    def pairwise_weights(self, theta_x, phi_x):
        """N x HW x HW attention from N x HW x C queries and N x C x HW keys."""
        logits = paddle.matmul(theta_x, phi_x)
        if self.mode == "dot_product":
            return logits / paddle.shape(logits)[-1].astype(logits.dtype)
        if self.use_scale:
            logits = logits / self.inter_channels**0.5
        return F.softmax(logits / self.temperature, axis=-1)

    def forward(self, x):
        size = paddle.shape(x)[2:]
        channels = self.inter_channels
        # flatten(2), not reshape([0, C, -1]): Paddle 3.3's oneDNN inference computed wrong
        # attention from the reshape of a conv output (tests/test_attention_heads.py).
        values = self.g(x).flatten(2).transpose([0, 2, 1])  # N x HW x C
        theta_x = self.theta(x).flatten(2).transpose([0, 2, 1])
        phi_x = self.phi(x).flatten(2)
        # Whitening: subtract each channel's mean over positions from queries and keys.
        theta_x = theta_x - paddle.mean(theta_x, axis=1, keepdim=True)
        phi_x = phi_x - paddle.mean(phi_x, axis=-1, keepdim=True)
        pairwise = paddle.matmul(self.pairwise_weights(theta_x, phi_x), values)
        pairwise = pairwise.transpose([0, 2, 1]).reshape([0, channels, size[0], size[1]])
        unary_weights = F.softmax(self.conv_mask(x).flatten(2), axis=-1)
        unary = paddle.matmul(unary_weights, values).reshape([0, channels, 1, 1])
        return x + self.conv_out(pairwise + unary)


def dnlnet_classifier(in_channels, num_classes):
    """Channel dropout then a 1x1 conv to class scores."""
    return nn.Sequential(nn.Dropout2D(p=0.1), nn.Conv2D(in_channels, num_classes, 1))


class DNLHead(nn.Layer):
    """3x3 ConvBNReLU to in_channels / 4, disentangled non-local block, 3x3 ConvBNReLU,
    (optionally) concatenated with the input and fused by a 3x3 ConvBNReLU, classifier;
    plus an auxiliary classifier on the lower feature map."""

    def __init__(
        self,
        num_classes,
        in_channels,
        reduction,
        use_scale,
        mode,
        temperature,
        concat_input,
        enable_auxiliary_loss,
    ):
        super().__init__()
        low_channels, high_channels = in_channels
        inter_channels = high_channels // 4
        self.concat_input = concat_input
        self.enable_auxiliary_loss = enable_auxiliary_loss
        self.dnl_block = DisentangledNonLocal2D(
            inter_channels, reduction, use_scale, mode, temperature
        )
        self.conv0 = ConvBNReLU(high_channels, inter_channels, 3, bias_attr=False)
        self.conv1 = ConvBNReLU(inter_channels, inter_channels, 3, bias_attr=False)
        self.cls = dnlnet_classifier(inter_channels, num_classes)
        # Built even without the auxiliary loss, as in PaddleSeg, so checkpoints match.
        # (PaddleSeg fixes its input at 1024 channels, ResNet-50/101's third stage.)
        self.aux = nn.Sequential(
            ConvBNReLU(low_channels, 256, 3, bias_attr=False),
            nn.Dropout2D(p=0.1),
            nn.Conv2D(256, num_classes, 1),
        )
        if concat_input:
            self.conv_cat = ConvBNReLU(
                high_channels + inter_channels, inter_channels, 3, bias_attr=False
            )

    def forward(self, feats):
        low, high = feats
        x = self.conv1(self.dnl_block(self.conv0(high)))
        if self.concat_input:
            x = self.conv_cat(paddle.concat([high, x], axis=1))
        logits = [self.cls(x)]
        # Like PaddleSeg the auxiliary head also runs in eval (the model zoo's FLOPs and
        # parameter counts include it); export keeps output 0 only.
        if self.enable_auxiliary_loss:
            logits.append(self.aux(low))
        return logits


class DNLNet(nn.Layer):
    """DNLNet. forward(x) returns logits resized to x's height and width: [main, aux] with
    enable_auxiliary_loss, else [main].

    Args:
        num_classes: number of classes.
        backbone: layer returning a list of feature maps and exposing `feat_channels`.
        backbone_indices: (auxiliary feature, main head feature) indices.
        reduction: channel reduction of the block's projections.
        use_scale: divide the pairwise logits by sqrt(projection channels).
        mode: "embedded_gaussian" or "dot_product" pairwise function.
        temperature: divides the embedded_gaussian logits.
        concat_input: concatenate the head's input before the classifier.
        enable_auxiliary_loss: run the auxiliary head.
        align_corners: F.interpolate's align_corners for the final upsampling.
    """

    def __init__(
        self,
        num_classes,
        backbone,
        backbone_indices=(2, 3),
        reduction=2,
        use_scale=True,
        mode="embedded_gaussian",
        temperature=0.05,
        concat_input=True,
        enable_auxiliary_loss=True,
        align_corners=False,
    ):
        super().__init__()
        self.backbone = backbone
        self.backbone_indices = backbone_indices
        in_channels = [backbone.feat_channels[i] for i in backbone_indices]
        self.head = DNLHead(
            num_classes,
            in_channels,
            reduction,
            use_scale,
            mode,
            temperature,
            concat_input,
            enable_auxiliary_loss,
        )
        self.align_corners = align_corners

    def forward(self, x):
        feats = self.backbone(x)
        logits = self.head([feats[i] for i in self.backbone_indices])
        # align_mode=1 (PaddleSeg's choice here): source = destination * scale, without
        # the half-pixel offset; it only matters when align_corners is False.
        return resize_to_input(logits, x, self.align_corners, align_mode=1)
