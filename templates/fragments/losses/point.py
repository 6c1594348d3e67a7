"""The point loss of PointRend: cross-entropy at the points the point head predicted."""

import paddle
import paddle.nn.functional as F
from paddle import nn

from ..models.pointrend import pointrend_point_sample


class PointCrossEntropyLoss(nn.Layer):
    """Softmax cross-entropy of point logits against the label at the same points.

    Takes the point head's training output (point_logits N x C x P, points N x P x 2 in
    [0, 1]) and the N x H x W label, read at each point by nearest-neighbour sampling.
    Points labelled `ignore_index` do not count. With top_k_percent_pixels < 1 only
    that share of the points, those with the highest loss, is averaged (hard example
    mining), as PaddleSeg defines it.
    """

    def __init__(self, ignore_index=255, top_k_percent_pixels=1.0, align_corners=False):
        super().__init__()
        self.ignore_index = ignore_index
        self.top_k_percent_pixels = top_k_percent_pixels
        self.align_corners = align_corners

    def forward(self, logits, label):
        point_logits, points = logits
        with paddle.no_grad():
            point_label = (
                pointrend_point_sample(
                    label.unsqueeze(1).astype("float32"), points, self.align_corners, mode="nearest"
                )
                .squeeze(1)
                .astype("int64")
            )  # N x P
        losses = F.cross_entropy(
            point_logits.transpose([0, 2, 1]),
            point_label,
            ignore_index=self.ignore_index,
            reduction="none",
        )
        valid = (point_label != self.ignore_index).astype("float32")
        losses = losses * valid
        if self.top_k_percent_pixels == 1.0:
            # PaddleSeg's normalisation: mean over all points / (share of valid points + eps)
            return losses.mean() / (valid.mean() + 1e-8)
        k = int(self.top_k_percent_pixels * losses.size)
        return paddle.topk(losses.flatten(), k)[0].mean() / (1.0 + 1e-8)
