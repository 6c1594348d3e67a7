"""Pixel contrast loss: Wang, Zhou, Yu, Dai, Konukoglu and Van Gool, "Exploring
Cross-Image Pixel Contrast for Semantic Segmentation" (ICCV 2021).

Cross-entropy judges each pixel alone; the contrastive term shapes the embedding space
instead: a pixel's embedding should be closer to embeddings of its own class than to
any other class's, across all images of the batch (supervised contrastive learning,
Khosla et al., NeurIPS 2020, applied to pixels).

Comparing every pair of pixels is far too costly, so a few "views" of each class that
covers enough of an image are sampled, half of them hard (pixels the segmentation head
currently gets wrong) and half easy, when there are enough of each. The sampling draws
from paddle's random generator, so the training script's seed governs it.

The arguments (temperature, base_temperature, max_samples, max_views) are PaddleSeg
2.8's PixelContrastCrossEntropyLoss's; so are the sampling rule and the loss value.
"""

import numpy as np
import paddle
import paddle.nn.functional as F
from paddle import nn


class PixelContrastCrossEntropyLoss(nn.Layer):
    """Supervised contrastive loss over sampled pixel embeddings.

    Takes the model's (embedding, logits) training output, both at feature resolution
    (N x D x h x w unit-length embeddings, N x C x h x w class scores), and the
    N x H x W label, which is resized to h x w by nearest neighbour.

    Sampling: in each image, each class other than `ignore_index` with more than
    `max_views` pixels is an anchor class. Every anchor class gets the same number of
    views, V = min(max_samples // anchor classes in the batch, max_views): half hard
    pixels (label c, predicted otherwise) and half easy ones (label c, predicted c),
    drawn at random; when one kind runs short, the other makes up the difference.

    Loss: the A x V views are all anchors. For anchor i with positives P(i) (the other
    views of its class, same image or not) and negatives N(i) (views of other classes),
    with s_ij = e_i . e_j / temperature,

        loss_i = -(temperature / base_temperature) * mean over p in P(i) of
                 [s_ip - log(exp(s_ip) + sum over n in N(i) of exp(s_in))]

    averaged over all anchors. A batch with no anchor class (every class too small)
    contributes 0 (PaddleSeg divides by zero there).
    """

    def __init__(
        self,
        temperature=0.1,
        base_temperature=0.07,
        ignore_index=255,
        max_samples=1024,
        max_views=100,
    ):
        super().__init__()
        self.temperature = temperature
        self.base_temperature = base_temperature
        self.ignore_index = ignore_index
        self.max_samples = max_samples
        self.max_views = max_views

    def forward(self, output, label):
        embedding, logits = output
        batch, dim, height, width = embedding.shape
        with paddle.no_grad():
            label = F.interpolate(
                label.unsqueeze(1).astype("float32"), [height, width], mode="nearest"
            )
            label = label.astype("int64").reshape([batch, -1]).numpy()
            predicted = logits.argmax(axis=1).reshape([batch, -1]).numpy()
        positions, classes = self.sample_views(label, predicted)
        if positions is None:
            return embedding.sum() * 0.0
        # N x D x h x w -> (N h w) x D, then the views: A x V x D
        pixels = embedding.transpose([0, 2, 3, 1]).reshape([-1, dim])
        views = paddle.gather(pixels, positions).reshape([len(classes), -1, dim])
        return self.contrastive_loss(views, paddle.to_tensor(classes))

    def sample_views(self, label, predicted):
        """(flat positions into the batch's N*h*w pixels, A*V of them, anchor by anchor;
        the A anchor classes), or (None, None) when no class qualifies.

        label and predicted are N x (h w) numpy arrays. Anchors are taken image by image,
        classes in ascending order; within an anchor the hard views come first. Each
        anchor draws one random permutation of its hard pixels, then one of its easy
        ones (when it has any): PaddleSeg's order of draws, so that one seed samples
        the same pixels in both.
        """
        anchors = []  # (image, class)
        for image, image_label in enumerate(label):
            ids, counts = np.unique(image_label, return_counts=True)
            anchors += [
                (image, int(c))
                for c, n in zip(ids, counts)
                if c != self.ignore_index and n > self.max_views
            ]
        if not anchors:
            return None, None
        num_views = min(self.max_samples // len(anchors), self.max_views)

        positions = []
        for image, cls in anchors:
            offset = image * label.shape[1]
            of_class = label[image] == cls
            hard = np.flatnonzero(of_class & (predicted[image] != cls))
            easy = np.flatnonzero(of_class & (predicted[image] == cls))
            # Half hard, half easy; a kind with fewer than half takes all it has and the
            # other fills the rest (a class has more than max_views >= num_views pixels).
            if len(hard) < num_views / 2:
                keep_hard = len(hard)
            elif len(easy) < num_views / 2:
                keep_hard = num_views - len(easy)
            else:
                keep_hard = num_views // 2
            for pool, keep in ((hard, keep_hard), (easy, num_views - keep_hard)):
                if len(pool) > 0:
                    order = paddle.randperm(len(pool))[:keep]
                    positions.append(paddle.to_tensor(pool + offset)[order])
        return paddle.concat(positions), [cls for _, cls in anchors]

    def contrastive_loss(self, views, classes):
        """The supervised contrastive loss of A x V x D views of the A anchor classes."""
        num_anchors, num_views, _ = views.shape
        # View-major rows: row v * A + a is view v of anchor a.
        features = views.transpose([1, 0, 2]).reshape([num_anchors * num_views, -1])
        row_classes = paddle.tile(classes, [num_views])
        same_class = (row_classes.unsqueeze(1) == row_classes.unsqueeze(0)).astype("float32")
        positives = same_class * (1 - paddle.eye(same_class.shape[0]))  # not itself
        negatives = 1 - same_class

        similarity = paddle.matmul(features, features, transpose_y=True) / self.temperature
        # Subtracting each row's maximum keeps exp() finite and leaves log_prob unchanged.
        similarity = similarity - similarity.max(axis=1, keepdim=True).detach()
        exp_similarity = paddle.exp(similarity)
        negative_sum = (exp_similarity * negatives).sum(axis=1, keepdim=True)
        log_prob = similarity - paddle.log(exp_similarity + negative_sum)
        # Every row has V - 1 >= 1 positives unless V = 1 (then its term is 0, not 0/0).
        mean_log_prob = (positives * log_prob).sum(axis=1) / positives.sum(axis=1).clip(min=1)
        return -(self.temperature / self.base_temperature) * mean_log_prob.mean()
