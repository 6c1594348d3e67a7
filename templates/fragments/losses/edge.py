"""Losses of the boundary-aware models (GSCNN, DecoupledSegNet), as PaddleSeg 2.8
defines them: on the model's edge output, on the logits where that output sees edges,
on the boundaries of the logits, and a boundary-relaxed cross-entropy.

A loss whose output is a (logits, edge probability) pair takes the pair; the
others take one tensor. Labels are N x H x W class ids (or N x 1 x H x W).
"""

import numpy as np
import paddle
import paddle.nn.functional as F
from paddle import nn

from .cross_entropy import OhemCrossEntropyLoss


def labels_where_edges(label, edge_prob, edge_threshold, ignore_index):
    """N x 1 x H x W labels, ignore_index wherever edge_prob is not above edge_threshold."""
    if label.ndim == 3:
        label = label.unsqueeze(1)
    return paddle.where(edge_prob > edge_threshold, label, paddle.full_like(label, ignore_index))


class EdgeAttentionLoss(nn.Layer):
    """Cross-entropy of the logits on the pixels whose predicted edge probability is above
    `edge_threshold` (and that are not ignored): the segmentation is asked to be right
    where the model itself sees boundaries. Takes (logits, edge probability).

    PaddleSeg's normalisation: mean over all pixels / (kept share + 1e-10).
    """

    EPS = 1e-10

    def __init__(self, ignore_index=255, edge_threshold=0.8):
        super().__init__()
        self.ignore_index = ignore_index
        self.edge_threshold = edge_threshold

    def forward(self, logits, label):
        logit, edge_prob = logits
        label = labels_where_edges(label, edge_prob, self.edge_threshold, self.ignore_index)
        losses = F.cross_entropy(
            logit, label, ignore_index=self.ignore_index, reduction="none", axis=1
        )
        kept = (label != self.ignore_index).astype("float32")
        return (losses * kept).mean() / (kept.mean() + self.EPS)


class OhemEdgeAttentionLoss(OhemCrossEntropyLoss):
    """OhemCrossEntropyLoss on the pixels whose predicted edge probability is above
    `edge_threshold`: of the logits' errors at the boundaries the model sees, the hard
    ones. Takes (logits, edge probability)."""

    EPS = 1e-10  # PaddleSeg's OhemEdgeAttentionLoss uses a smaller one than its OHEM loss

    def __init__(self, ignore_index=255, edge_threshold=0.8, thresh=0.7, min_kept=5000):
        super().__init__(ignore_index=ignore_index, thresh=thresh, min_kept=min_kept)
        self.edge_threshold = edge_threshold

    def forward(self, logits, label):
        logit, edge_prob = logits
        label = labels_where_edges(label, edge_prob, self.edge_threshold, self.ignore_index)
        return super().forward(logit, label.squeeze(1))


class BCELoss(nn.Layer):
    """Binary cross-entropy with logits, averaged over the pixels whose label is not
    ignore_index: PaddleSeg's mean over all pixels / (counted share + 1e-10).

    A label with one channel where the logits have several is one-hot encoded first.
    `weight` "dynamic" balances the classes per batch: positives weigh 2 x negatives /
    all and negatives 2 x positives / all (pixels of ignored labels count as negatives
    there, as in PaddleSeg); `pos_weight` scales the positive term, by a fixed number
    or "dynamic"ally by 2 x negatives / all.

    `edge_label` says that this loss trains against the label's edge map; the spec's
    compiler hands it that target (PaddleSeg's training loop reads the flag instead).
    """

    EPS = 1e-10

    def __init__(self, ignore_index=255, weight=None, pos_weight=None, edge_label=False):
        super().__init__()
        if weight not in (None, "dynamic"):
            raise ValueError(f"BCELoss weight must be None or 'dynamic', got {weight!r}")
        if isinstance(pos_weight, str) and pos_weight != "dynamic":
            raise ValueError(
                f"BCELoss pos_weight must be None, a number or 'dynamic', got {pos_weight!r}"
            )
        self.ignore_index = ignore_index
        self.weight = weight
        self.pos_weight = pos_weight
        self.edge_label = edge_label

    def forward(self, logit, label):
        if label.ndim != logit.ndim:
            label = label.unsqueeze(1)
        counted = label != self.ignore_index
        label = paddle.where(counted, label, paddle.zeros_like(label))
        if label.shape[1] != logit.shape[1]:
            label = F.one_hot(label.squeeze(1), logit.shape[1]).transpose([0, 3, 1, 2])
        label = label.astype("float32")
        weight = pos_weight = None
        if "dynamic" in (self.weight, self.pos_weight):
            positives = (label == 1).astype("float32").sum()
            negatives = (label == 0).astype("float32").sum()
            total = positives + negatives + self.EPS
            if self.weight == "dynamic":
                weight = 2 * negatives / total * label + 2 * positives / total * (1 - label)
            if self.pos_weight == "dynamic":
                pos_weight = 2 * negatives / total
        if self.pos_weight is not None and pos_weight is None:
            pos_weight = paddle.to_tensor(float(self.pos_weight), dtype="float32")
        losses = F.binary_cross_entropy_with_logits(
            logit, label, weight=weight, reduction="none", pos_weight=pos_weight
        )
        counted = counted.astype("float32")
        return (losses * counted).mean() / (counted.mean() + self.EPS)


def triangle_blur(x, radius):
    """x filtered with the 2D triangle kernel f f^T, f = [1, 2, .., r + 1, .., 2, 1] /
    (r + 1)^2 (Dollar's convTri), per channel, borders mirrored with the edge pixel
    repeated (numpy's "symmetric" padding)."""
    channels = x.shape[1]
    ramp = np.concatenate([np.arange(1, radius + 2), np.arange(radius, 0, -1)])
    kernel = paddle.to_tensor((ramp / (radius + 1) ** 2).astype(np.float32))
    across = kernel.reshape([1, 1, 1, -1]).tile([channels, 1, 1, 1])
    x = paddle.concat([x[:, :, :, :radius].flip([3]), x, x[:, :, :, -radius:].flip([3])], 3)
    x = F.conv2d(x, across, groups=channels)
    x = paddle.concat([x[:, :, :radius].flip([2]), x, x[:, :, -radius:].flip([2])], 2)
    return F.conv2d(x, across.transpose([0, 1, 3, 2]), groups=channels)


def boundary_strength(x):
    """Per channel, the gradient magnitude of x smoothed by a radius-4 triangle filter
    (central differences, zero outside), divided by its largest value in the batch."""
    channels = x.shape[1]
    x = triangle_blur(x, 4)
    difference = paddle.to_tensor(np.array([-0.5, 0.0, 0.5], np.float32))
    along_x = difference.reshape([1, 1, 1, 3]).tile([channels, 1, 1, 1])
    grad_x = F.conv2d(x, along_x, padding=[0, 1], groups=channels)
    grad_y = F.conv2d(x, along_x.transpose([0, 1, 3, 2]), padding=[1, 0], groups=channels)
    magnitude = paddle.sqrt(grad_x * grad_x + grad_y * grad_y + 1e-6)
    return magnitude / largest_value(magnitude)


def largest_value(x):
    """x.max(), reduced one axis at a time: the same value and gradient, but Paddle 3.3's
    CPU gradient of a whole-tensor max is slow beyond use (15 s for 2x5x64x128 values,
    most of GSCNN's training step), and one axis at a time takes milliseconds."""
    for axis in reversed(range(x.ndim)):
        x = x.max(axis=axis)
    return x


class DualTaskLoss(nn.Layer):
    """GSCNN's dual-task loss: the boundaries the segmentation implies should be the
    label's. A Gumbel-softmax sample of the logits (temperature `tau`: a differentiable,
    nearly one-hot class map) and the one-hot label are turned into boundary strengths
    (boundary_strength); the loss is their L1 distance on the pixels that are not ignored,
    averaged once over the pixels where the prediction has boundaries and once over
    those where the label has them, and the two averages are averaged.

    Ignored pixels take class 0 and logits 0 before the boundaries are computed, as in
    PaddleSeg; the noise comes from paddle.rand, so paddle.seed makes it repeatable.
    """

    def __init__(self, ignore_index=255, tau=0.5):
        super().__init__()
        self.ignore_index = ignore_index
        self.tau = tau

    def forward(self, logit, label):
        if label.ndim == 3:
            label = label.unsqueeze(1)
        counted = label != self.ignore_index
        mask = counted.astype(logit.dtype)
        logit = logit * mask
        label = paddle.where(counted, label, paddle.zeros_like(label))
        onehot = F.one_hot(label.squeeze(1), logit.shape[1]).transpose([0, 3, 1, 2])

        eps = 1e-10
        gumbel = -paddle.log(eps - paddle.log(paddle.rand(logit.shape) + eps))
        sample = F.softmax((logit + gumbel) / self.tau, axis=1)
        predicted = boundary_strength(sample)
        target = boundary_strength(onehot)
        distance = (predicted - target).abs() * mask

        def mean_where(present):
            present = (present > 1e-8).astype("float32")
            # a count of pixels: 0 (then the sum is 0 too) or at least 1
            return (distance * present).sum() / paddle.clip(present.sum(), min=1.0)

        return 0.5 * mean_where(predicted) + 0.5 * mean_where(target)


class RelaxBoundaryLoss(nn.Layer):
    """DecoupledSegNet's boundary-relaxed cross-entropy: near a boundary the exact class
    is uncertain by a pixel or so, so a pixel counts as right by the probability mass it
    puts on any class present within `border` pixels (a square) of it:
    -log(sum of those classes' softmax probabilities). Pixels with no class within
    `border` do not count.

    The normalisation is PaddleSeg's, batch effects included: each sample's term is its
    pixels' -(number of nearby classes) x log(mass), divided, per pixel, by the number
    of nearby classes of every sample of the batch in turn and summed over those, then
    summed over the image and divided by (its counted pixels + 1); the batch's loss is
    the sum over samples. For one sample that is about the mean relaxed cross-entropy; for
    more it grows with the batch size, which PaddleSeg's loss weights were tuned with.
    """

    def __init__(self, ignore_index=255, border=1):
        super().__init__()
        self.ignore_index = ignore_index
        self.border = border

    def forward(self, logit, label):
        num_classes = logit.shape[1]
        if label.ndim == 4:
            label = label.squeeze(1)
        label = paddle.where(
            label == self.ignore_index, paddle.full_like(label, num_classes), label
        )
        onehot = F.one_hot(label, num_classes + 1)[:, :, :, :num_classes]  # ignored: none
        window = 2 * self.border + 1
        nearby = F.max_pool2d(onehot.transpose([0, 3, 1, 2]), window, stride=1, padding=self.border)
        count = nearby.sum(1)  # N x H x W classes near each pixel
        counted = (count > 0).astype("float32")
        # log of the probability mass on the nearby classes (finite where there are none)
        near_logits = paddle.where(nearby > 0, logit, paddle.full_like(logit, -1e30))
        log_mass = paddle.logsumexp(near_logits, axis=1) - paddle.logsumexp(logit, axis=1)
        spread = (1.0 / (count + 1.0 - counted)).sum(0)  # H x W, over the batch's samples
        pixel_losses = -count * log_mass * counted * spread
        return (pixel_losses.sum([1, 2]) / (counted.sum([1, 2]) + 1.0)).sum()
