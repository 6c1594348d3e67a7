"""STDC-Seg's detail loss: Fan et al., "Rethinking BiSeNet For Real-time Semantic
Segmentation" (CVPR 2021), https://arxiv.org/abs/2104.13188, section 3.3.

The detail head's one-channel logits are trained to find the label's boundaries, so
that the shallow backbone layers learn spatial detail. The target comes from the label
itself: a 3x3 Laplacian of the class ids at strides 1, 2 and 4 (each upsampled back,
nearest), thresholded and merged with fixed weights into one binary map. Binary
cross-entropy plus a dice loss compares the two: boundary pixels are rare, and dice
does not let the background dominate.

The merge weights are the paper's fixed (0.6, 0.3, 0.1). PaddleSeg 2.8 declares them a
parameter of the loss with a random initial value that no optimizer ever updates, so
its target depends on that draw; here they are the constant the paper describes.
As in the paper and PaddleSeg, the Laplacian sees ignored pixels as class 255, so the
borders of ignored regions count as boundaries too.
"""

import paddle
import paddle.nn.functional as F
from paddle import nn

# 3x3 Laplacian: positive where a pixel's class id exceeds its neighbours' mean
DETAIL_LAPLACIAN = [[-1.0, -1.0, -1.0], [-1.0, 8.0, -1.0], [-1.0, -1.0, -1.0]]
# Weights of the boundaries found at strides 1, 2 and 4 in the merged target
DETAIL_STRIDE_WEIGHTS = [0.6, 0.3, 0.1]
# A Laplacian response or merged weight above this marks a boundary pixel
DETAIL_THRESHOLD = 0.1


class DetailAggregateLoss(nn.Layer):
    """BCE + dice between the detail logits (N x 1 x h x w, resized to the label's size
    when they differ) and the label's multi-stride boundary map (N x H x W label)."""

    # smoothing term of the dice loss
    SMOOTH = 1.0

    def __init__(self):
        super().__init__()
        self.laplacian = paddle.to_tensor(DETAIL_LAPLACIAN, dtype="float32").reshape([1, 1, 3, 3])
        self.stride_weights = paddle.to_tensor(DETAIL_STRIDE_WEIGHTS, dtype="float32").reshape(
            [1, 3, 1, 1]
        )

    def boundary_target(self, label):
        """The binary boundary map (N x 1 x H x W float) the detail head is trained on."""
        classes = label.unsqueeze(1).astype("float32")
        size = paddle.shape(classes)[2:]
        maps = []
        for stride in (1, 2, 4):
            response = F.conv2d(classes, self.laplacian, stride=stride, padding=1)
            if stride > 1:
                response = F.interpolate(response, size, mode="nearest")
            maps.append((response > DETAIL_THRESHOLD).astype("float32"))
        merged = F.conv2d(paddle.concat(maps, axis=1), self.stride_weights)
        return (merged > DETAIL_THRESHOLD).astype("float32")

    def forward(self, logits, label):
        with paddle.no_grad():
            target = self.boundary_target(label)
        if logits.shape[-1] != target.shape[-1]:
            logits = F.interpolate(
                logits, paddle.shape(target)[2:], mode="bilinear", align_corners=True
            )
        bce = F.binary_cross_entropy_with_logits(logits, target)
        # dice per image, then averaged over the batch
        probs = F.sigmoid(logits).flatten(1)
        target = target.flatten(1)
        overlap = (probs * target).sum(axis=1)
        dice = 1 - (2 * overlap + self.SMOOTH) / (
            probs.sum(axis=1) + target.sum(axis=1) + self.SMOOTH
        )
        return bce + dice.mean()
