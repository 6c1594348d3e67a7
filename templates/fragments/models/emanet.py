"""EMANet: Li et al., "Expectation-Maximization Attention Networks for Semantic
Segmentation" (ICCV 2019).

Instead of attending over all pixels, the EM attention unit keeps a few bases and
alternates, for a fixed number of steps, an E step (soft-assign each pixel to the
bases) and an M step (each base becomes the assignment-weighted mean of the pixels);
the pixels are then rebuilt from the bases, a low-rank, denoised version of the
features. The bases the iterations start from are a moving average of the converged
bases over training, a buffer (`mu`) that checkpoints carry.

Attribute names (`head.emau.mu`, `ema_in_conv`, `conv_cat`, `aux`, ...) follow
PaddleSeg 2.8 so that its checkpoints load unchanged.
"""

import paddle
import paddle.nn.functional as F
from paddle import nn

from ..layers.basic import ConvBNReLU, resize_to_input


class EMAU(nn.Layer):
    """Expectation-maximisation attention unit on N x C x H x W features.

    Args:
        channels: channels of the input (and of each base).
        num_bases: number of bases K.
        stage_num: EM iterations per forward pass.
        momentum: weight of the batch's converged bases in the moving average.
    """

    def __init__(self, channels, num_bases, stage_num=3, momentum=0.1):
        super().__init__()
        if stage_num < 1:
            raise ValueError(f"EMAU needs at least one EM iteration, got stage_num={stage_num}")
        self.stage_num = stage_num
        self.momentum = momentum
        # Random unit-length initial bases, 1 x C x K.
        bases = paddle.normal(0.0, (2.0 / num_bases) ** 0.5, [1, channels, num_bases])
        self.register_buffer("mu", F.normalize(bases, axis=1))

    def forward(self, x):
        size = paddle.shape(x)
        x = x.flatten(2)  # N x C x HW
        mu = self.mu.expand([size[0], -1, -1])
        # The EM iterations are not differentiated (as in the paper's code); the unit
        # then passes no gradient to its input.
        with paddle.no_grad():
            for _ in range(self.stage_num):
                # E step: responsibilities of the bases for each pixel, N x HW x K
                z = F.softmax(paddle.matmul(x, mu, transpose_x=True), axis=2)
                # M step: each base the responsibility-weighted mean of the pixels
                mu = F.normalize(paddle.matmul(x, F.normalize(z, p=1, axis=1)), axis=1)
        rebuilt = paddle.matmul(mu, z, transpose_y=True).reshape(
            [size[0], x.shape[1], size[2], size[3]]
        )
        if self.training:
            self._update_bases(mu)
        return rebuilt

    def _update_bases(self, mu):
        with paddle.no_grad():
            mu = F.normalize(mu.mean(axis=0, keepdim=True), axis=1)
            mu = self.mu * (1 - self.momentum) + mu * self.momentum
            world_size = paddle.distributed.get_world_size()
            if world_size > 1:  # every process keeps the same bases
                paddle.distributed.all_reduce(mu)
                mu = mu / world_size
            paddle.assign(mu, self.mu)


class EMAHead(nn.Layer):
    """3x3 ConvBNReLU to ema_channels, 1x1 conv, EM attention, ReLU, 1x1 ConvBNReLU and a
    residual; 3x3 ConvBNReLU to gc_channels, optionally concatenated with the input
    and fused; dropout and classifier. The auxiliary classifier reads the first
    feature map and runs in eval too, as in PaddleSeg."""

    def __init__(
        self,
        num_classes,
        in_channels,
        ema_channels,
        gc_channels,
        num_bases,
        stage_num,
        momentum,
        concat_input=True,
        enable_auxiliary_loss=True,
    ):
        super().__init__()
        self.concat_input = concat_input
        self.enable_auxiliary_loss = enable_auxiliary_loss
        self.emau = EMAU(ema_channels, num_bases, stage_num, momentum=momentum)
        self.ema_in_conv = ConvBNReLU(in_channels[1], ema_channels, 3)
        self.ema_mid_conv = nn.Conv2D(ema_channels, ema_channels, 1)
        self.ema_out_conv = ConvBNReLU(ema_channels, ema_channels, 1)
        self.bottleneck = ConvBNReLU(ema_channels, gc_channels, 3)
        self.cls = nn.Sequential(nn.Dropout2D(p=0.1), nn.Conv2D(gc_channels, num_classes, 1))
        if enable_auxiliary_loss:
            self.aux = nn.Sequential(
                ConvBNReLU(in_channels[0], 256, 3),
                nn.Dropout2D(p=0.1),
                nn.Conv2D(256, num_classes, 1),
            )
        if concat_input:
            self.conv_cat = ConvBNReLU(in_channels[1] + gc_channels, gc_channels, 3)

    def forward(self, feats):
        low, high = feats
        identity = self.ema_in_conv(high)
        rebuilt = self.emau(self.ema_mid_conv(identity))
        x = F.relu(identity + self.ema_out_conv(F.relu(rebuilt)))
        x = self.bottleneck(x)
        if self.concat_input:
            x = self.conv_cat(paddle.concat([high, x], axis=1))
        logits = [self.cls(x)]
        if self.enable_auxiliary_loss:
            logits.append(self.aux(low))
        return logits


class EMANet(nn.Layer):
    """EMANet. forward(x) returns logits resized to x's height and width:
    [main, aux] with enable_auxiliary_loss, else [main].

    Args:
        num_classes: number of classes.
        backbone: layer returning a list of feature maps and exposing `feat_channels`.
        backbone_indices: (auxiliary feature, attention feature) indices.
        ema_channels: channels of the EM attention unit.
        gc_channels: channels after the bottleneck.
        num_bases: bases of the EM attention unit.
        stage_num: EM iterations.
        momentum: moving-average weight of the bases' update in training.
        concat_input: concatenate the head's input before the classifier.
        enable_auxiliary_loss: add the auxiliary head.
        align_corners: F.interpolate's align_corners for the final upsampling.
    """

    def __init__(
        self,
        num_classes,
        backbone,
        backbone_indices=(2, 3),
        ema_channels=512,
        gc_channels=256,
        num_bases=64,
        stage_num=3,
        momentum=0.1,
        concat_input=True,
        enable_auxiliary_loss=True,
        align_corners=False,
    ):
        super().__init__()
        self.backbone = backbone
        self.backbone_indices = backbone_indices
        in_channels = [backbone.feat_channels[i] for i in backbone_indices]
        self.head = EMAHead(
            num_classes,
            in_channels,
            ema_channels,
            gc_channels,
            num_bases,
            stage_num,
            momentum,
            concat_input,
            enable_auxiliary_loss,
        )
        self.align_corners = align_corners

    def forward(self, x):
        feats = self.backbone(x)
        logits = self.head([feats[i] for i in self.backbone_indices])
        return resize_to_input(logits, x, self.align_corners)
