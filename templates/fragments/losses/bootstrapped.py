"""Bootstrapped cross-entropy: Wu et al., "Bridging Category-level and Instance-level
Semantic Image Segmentation" (2016), https://arxiv.org/abs/1605.06885.

Online bootstrapping trains on the hard pixels only: most pixels of a street scene are
easy (road, sky) and would otherwise dominate the average. Per image, the loss is the
mean of the pixel losses above `loss_th`; when no more than `min_K` pixels exceed it,
the mean of the `min_K` largest instead, so that every image always contributes at
least `min_K` pixels. The batch's loss is the mean over its images.

As in PaddleSeg 2.8 (whose argument names `min_K` and `loss_th` this keeps), ignored
pixels take part with a loss of 0: they can fill the `min_K` largest of an image with
few valid pixels, and lower its mean. With class weights a pixel's loss is its
cross-entropy times its class's weight. Unlike PaddleSeg's, an image of no more than
`min_K` pixels averages all of them instead of failing.
"""

import paddle
from paddle import nn

from .cross_entropy import pixel_cross_entropy


class BootstrappedCrossEntropyLoss(nn.Layer):
    """Per image, the mean of the pixel cross-entropies above `loss_th`, or of the
    `min_K` largest when no more than `min_K` exceed it; averaged over the batch."""

    def __init__(self, ignore_index=255, min_K=4096, loss_th=0.3, weight=None):
        super().__init__()
        self.ignore_index = ignore_index
        self.min_k = min_K
        self.loss_th = loss_th
        self.weight = None if weight is None else paddle.to_tensor(weight, dtype="float32")

    def forward(self, logits, label):
        losses = pixel_cross_entropy(logits, label, self.weight, self.ignore_index).flatten(1)
        num_pixels = losses.shape[1]
        k = min(self.min_k, num_pixels)
        # the k largest losses of each image, and the (k+1)-th when there is one
        largest = paddle.topk(losses, min(k + 1, num_pixels), axis=1)[0]
        top_k_mean = largest[:, :k].mean(axis=1)
        if k == num_pixels:  # no (k+1)-th: every pixel is among the k largest
            return top_k_mean.mean()
        hard = (losses > self.loss_th).astype(losses.dtype)
        hard_mean = (losses * hard).sum(axis=1) / paddle.clip(hard.sum(axis=1), min=1.0)
        # more than k pixels above the threshold (the (k+1)-th largest is): all of them
        per_image = paddle.where(largest[:, k] > self.loss_th, hard_mean, top_k_mean)
        return per_image.mean()
