"""The semantic-encoding loss of ENCNet and FastFCN (Zhang et al., CVPR 2018)."""

import paddle
import paddle.nn.functional as F
from paddle import nn


class SECrossEntropyLoss(nn.Layer):
    """Binary cross-entropy between per-image class-presence logits (N x C, or
    N x C x 1 x 1) and which classes the label map contains, averaged over N x C.

    A class is present when at least one of the image's pixels has it; pixels with
    `ignore_index` (or any value outside [0, C)) count for no class, as in PaddleSeg.
    """

    def __init__(self, ignore_index=255):
        super().__init__()
        self.ignore_index = ignore_index

    def forward(self, logit, label):
        if logit.ndim == 4:
            logit = logit.flatten(1)
        batch_size, num_classes = logit.shape
        label = label.reshape([batch_size, -1]).astype("int64")
        valid = (label >= 0) & (label < num_classes) & (label != self.ignore_index)
        # One histogram over the whole batch: image n's class k is bin n * C + k; the
        # pixels that count for no class all go to one extra bin at the end.
        offsets = paddle.arange(batch_size, dtype="int64").unsqueeze(1) * num_classes
        bins = paddle.where(
            valid, label + offsets, paddle.full_like(label, batch_size * num_classes)
        )
        counts = paddle.bincount(bins.flatten(), minlength=batch_size * num_classes + 1)
        present = (counts[:-1] > 0).astype(logit.dtype).reshape([batch_size, num_classes])
        return F.binary_cross_entropy_with_logits(logit, present)
