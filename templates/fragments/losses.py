"""Segmentation losses."""

import paddle
import paddle.nn.functional as F
from paddle import nn


class CrossEntropyLoss(nn.Layer):
    """Pixel-wise softmax cross-entropy averaged over the pixels that are not ignored.

    With class weights the average is weighted too (sum of weighted losses over the
    sum of the weights of the counted pixels), as PaddleSeg and PyTorch define it.
    """

    def __init__(self, ignore_index=255, weight=None):
        super().__init__()
        self.ignore_index = ignore_index
        self.weight = None if weight is None else paddle.to_tensor(weight, dtype="float32")

    def forward(self, logits, label):
        # logits: N x C x H x W; label: N x H x W integer class ids
        losses = F.cross_entropy(logits, label.unsqueeze(1), weight=self.weight,
                                 ignore_index=self.ignore_index, reduction="none", axis=1)
        valid = (label != self.ignore_index).astype("float32")
        if self.weight is not None:
            safe_label = paddle.where(label == self.ignore_index, paddle.zeros_like(label), label)
            valid = valid * paddle.gather(self.weight, safe_label.flatten()).reshape(label.shape)
        return losses.squeeze(1).sum() / paddle.clip(valid.sum(), min=1e-8)
