"""Segmentation losses."""

import paddle
import paddle.nn.functional as F
from paddle import nn


def pixel_cross_entropy(logits, label, weight, ignore_index):
    """Each pixel's softmax cross-entropy (times its class's weight when there are
    weights), N x 1 x H x W, 0 at ignored pixels; logits N x C x H x W, label N x H x W."""
    return F.cross_entropy(
        logits,
        label.unsqueeze(1),
        weight=weight,
        ignore_index=ignore_index,
        reduction="none",
        axis=1,
    )


class CrossEntropyLoss(nn.Layer):
    """Pixel-wise softmax cross-entropy averaged over the pixels that are not ignored.

    With class weights the average is weighted too (sum of weighted losses over the
    sum of the weights of the counted pixels), as PaddleSeg and PyTorch define it.
    """

    def __init__(self, ignore_index=255, weight=None):
        super().__init__()
        self.ignore_index = ignore_index
        self.weight = None if weight is None else paddle.to_tensor(weight, dtype="float32")
        self.said_unweighted = False

    def class_weights(self, num_classes):
        """The class weights, or None: also when they are not for `num_classes` classes.
        A spec's weights are per class of its dataset (ESPNet's, Cityscapes' 19); data
        with another class count (--num-classes, --data demo) has other classes, so the
        loss is then unweighted, and says so once."""
        if self.weight is None or self.weight.shape[0] == num_classes:
            return self.weight
        if not self.said_unweighted:
            print(
                f"warning: the loss's {self.weight.shape[0]} class weights are not for "
                f"this data's {num_classes} classes; training with equal class weights"
            )
            self.said_unweighted = True
        return None

    def forward(self, logits, label):
        weight = self.class_weights(logits.shape[1])
        losses = pixel_cross_entropy(logits, label, weight, self.ignore_index)
        valid = (label != self.ignore_index).astype("float32")
        if weight is not None:
            safe_label = paddle.where(label == self.ignore_index, paddle.zeros_like(label), label)
            valid = valid * paddle.gather(weight, safe_label.flatten()).reshape(label.shape)
        return losses.squeeze(1).sum() / paddle.clip(valid.sum(), min=1e-8)


class OhemCrossEntropyLoss(nn.Layer):
    """Cross-entropy over the hard pixels only (online hard example mining).

    A pixel is hard when the softmax probability of its true class is below a
    threshold: `thresh`, raised to the `min_kept`-th smallest such probability when
    that is higher, so that about `min_kept` pixels count even when the model is
    confident. With `min_kept` 0, or no more valid pixels than `min_kept`, every
    valid pixel counts, as in PaddleSeg.
    """

    # added to the kept share in the normalisation (PaddleSeg's value)
    EPS = 1e-5

    def __init__(self, ignore_index=255, thresh=0.7, min_kept=10000):
        super().__init__()
        self.ignore_index = ignore_index
        self.thresh = thresh
        self.min_kept = min_kept

    def forward(self, logits, label):
        num_classes = logits.shape[1]
        label = label.reshape([-1])
        valid = label != self.ignore_index
        safe_label = paddle.where(valid, label, paddle.zeros_like(label))
        log_probs = F.log_softmax(logits, axis=1).transpose([0, 2, 3, 1]).reshape([-1, num_classes])
        picked = paddle.take_along_axis(log_probs, safe_label.unsqueeze(1), axis=1).squeeze(1)
        kept = valid
        if 0 < self.min_kept < int(valid.sum()):
            with paddle.no_grad():
                # ignored pixels get probability 2, so they are never among the hardest
                prob = paddle.where(valid, picked.exp(), paddle.full_like(picked, 2.0))
                kth_smallest = float(paddle.kthvalue(prob, self.min_kept)[0])
                kept = prob < max(self.thresh, kth_smallest)
        kept = kept.astype("float32")
        # PaddleSeg's normalisation: mean loss over pixels / (kept share + EPS)
        return (-picked * kept).mean() / (kept.mean() + self.EPS)
