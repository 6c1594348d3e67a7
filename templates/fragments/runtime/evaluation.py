"""How a trained model's logits are computed for an image, and the metrics over a dataset.

PaddleSeg 2.8's evaluation modes (its `paddleseg/core/infer.py` and `core/val.py`),
followed step by step so that the figures are the same for the same weights and data:
the whole image at once; sliding windows, whose logits are averaged where they overlap;
and test-time augmentation, the logits of each scale and flip resized back and
averaged. Then the logits are brought back to the label's size (the evaluation
transforms undone) before the argmax.
"""

import numpy as np
import paddle
import paddle.nn.functional as F

from ..data.datasets import DEMO_CLASS_NAMES
from .metrics import confusion_matrix, segmentation_metrics


class InferenceMode:
    """How an image's logits are computed: PaddleSeg's evaluation and prediction modes.

    The whole image by default. `crop_size` and `stride` ((width, height) each): sliding
    windows instead (PaddleSeg's is_slide). `aug`: test-time augmentation (its aug_eval
    and aug_pred), the image at each of `scales` and each flip, logits averaged. Both
    combine: every augmented image is then slid over.
    """

    def __init__(
        self,
        aug=False,
        scales=(1.0,),
        flip_horizontal=False,
        flip_vertical=False,
        crop_size=None,
        stride=None,
    ):
        if (crop_size is None) != (stride is None):
            raise ValueError("sliding windows need both crop_size and stride")
        self.aug = aug
        self.scales = [float(scale) for scale in scales]
        self.flip_horizontal = flip_horizontal
        self.flip_vertical = flip_vertical
        self.crop_size = None if crop_size is None else tuple(int(v) for v in crop_size)
        self.stride = None if stride is None else tuple(int(v) for v in stride)

    @classmethod
    def at_scales(cls, scales, slide=None):
        """Training's evaluation: the whole image, or augmentation by `scales` alone (a
        recipe such as PP-LiteSeg's, evaluated at half scale); with `slide` (the spec's
        {"crop_size", "stride"}: SETR's and Segmenter's recipes) in sliding windows."""
        slide = slide or {}
        return cls(
            aug=list(scales) != [1.0],
            scales=scales,
            crop_size=slide.get("crop_size"),
            stride=slide.get("stride"),
        )

    def describe(self):
        """The mode in a few words, for the log and metrics.json."""
        if self.crop_size is None:
            parts = ["whole image"]
        else:
            parts = ["sliding {}x{} windows, stride {}x{}".format(*self.crop_size, *self.stride)]
        if self.aug:
            scales = ", ".join(f"{scale:g}" for scale in self.scales)
            parts.append(f"scale{'s' if len(self.scales) > 1 else ''} {scales}")
            flips = flip_combinations(self.flip_horizontal, self.flip_vertical)
            names = [name for name, on in zip(("horizontal", "vertical"), flips[-1]) if on]
            if names:
                parts.append(f"{' and '.join(names)} flip{'s' if len(names) > 1 else ''}")
            if len(self.scales) * len(flips) > 1:
                parts.append("logits averaged")
        return "; ".join(parts)

    def as_dict(self):
        return {
            "aug": self.aug,
            "scales": self.scales if self.aug else [1.0],
            "flip_horizontal": self.aug and self.flip_horizontal,
            "flip_vertical": self.aug and self.flip_vertical,
            "slide": None
            if self.crop_size is None
            else {"crop_size": list(self.crop_size), "stride": list(self.stride)},
        }


def restore_logits(logits, restore):
    """Undo the evaluation transforms' size changes on NCHW logits, last first: crop off
    Padding, resize (bilinear) back before Resize, as PaddleSeg's `reverse_transform`
    does with its `trans_info`; and for ScalePadding (a centred square, resized), resize
    to the square, then crop the image's part out of its centre."""
    for kind, (height, width) in reversed(restore):
        if kind == "crop":
            logits = logits[:, :, :height, :width]
        elif kind == "resize":
            logits = F.interpolate(logits, [height, width], mode="bilinear")
        elif kind == "scale_padding":
            side = max(height, width)
            top, left = int((side - height) / 2), int((side - width) / 2)
            logits = F.interpolate(logits, [side, side], mode="bilinear")
            logits = logits[:, :, top : top + height, left : left + width]
        else:
            raise ValueError(f"no way to restore the logits after a {kind!r} step")
    return logits


def window_spans(length, crop, stride):
    """(start, end) of each sliding window along one side, as PaddleSeg places them: every
    `stride` pixels, the last one moved back to end at the border (so windows are whole
    unless the side is shorter than `crop`, which one window then covers)."""
    count = 1 if length <= crop else -(-(length - crop) // stride) + 1
    spans = []
    for index in range(count):
        end = min(index * stride + crop, length)
        spans.append((max(end - crop, 0), end))
    return spans


def slide_logits(model, batch, crop_size, stride):
    """NCHW logits of a batch from sliding windows of `crop_size` every `stride` pixels
    ((width, height) each), averaged where windows overlap. Accumulated in float64, as
    PaddleSeg's slide_inference does, so that the averages and their argmax are the
    same."""
    height, width = batch.shape[-2:]
    total, count = None, np.zeros([1, 1, height, width])
    for top, bottom in window_spans(height, crop_size[1], stride[1]):
        for left, right in window_spans(width, crop_size[0], stride[0]):
            logits = model(batch[:, :, top:bottom, left:right])[0].numpy()
            if total is None:
                total = np.zeros([batch.shape[0], logits.shape[1], height, width])
            total[:, :, top:bottom, left:right] += logits[:, :, : bottom - top, : right - left]
            count[:, :, top:bottom, left:right] += 1
    if (count == 0).any():  # window_spans covers every pixel; a stride > crop would not
        raise ValueError("the sliding windows leave pixels uncovered: stride > crop size")
    return paddle.to_tensor(total / count)


def plain_logits(model, batch, mode):
    """Logits of a batch at its size: the whole image at once, or sliding windows."""
    if mode.crop_size is None:
        return model(batch)[0]
    return slide_logits(model, batch, mode.crop_size, mode.stride)


def flip_combinations(flip_horizontal, flip_vertical):
    """(horizontal, vertical) flips test-time augmentation runs, in PaddleSeg's order."""
    flips = [(False, False)]
    if flip_horizontal:
        flips.append((True, False))
    if flip_vertical:
        flips.append((False, True))
        if flip_horizontal:
            flips.append((True, True))
    return flips


def flip_nchw(tensor, flip):
    """The NCHW tensor mirrored left-right and/or upside down; flipping twice undoes it."""
    axes = [axis for axis, on in zip((3, 2), flip) if on]
    return paddle.flip(tensor, axes) if axes else tensor


def image_logits(model, batch, mode):
    """Logits of a batch of transformed images at their size, under `mode` (an
    InferenceMode).

    With augmentation, the images are resized by each scale (bilinear, Paddle's
    defaults), flipped, run, and the logits flipped back and resized to the image size;
    their mean is the result, as PaddleSeg 2.8's `aug_inference` computes it (the mean
    rather than the sum keeps the values comparable to one run's).
    """
    if not mode.aug:
        return plain_logits(model, batch, mode)
    height, width = batch.shape[-2:]
    flips = flip_combinations(mode.flip_horizontal, mode.flip_vertical)
    summed = 0
    for scale in mode.scales:
        size = [int(height * scale + 0.5), int(width * scale + 0.5)]
        scaled = F.interpolate(batch, size, mode="bilinear")
        for flip in flips:
            logits = flip_nchw(plain_logits(model, flip_nchw(scaled, flip), mode), flip)
            summed = summed + F.interpolate(logits, [height, width], mode="bilinear")
    return summed / (len(mode.scales) * len(flips))


def predict_classes(model, image, scales=(1.0,), restore=(), mode=None):
    """The class map of one normalised CHW image, brought back to the label's size by
    `restore` (Compose's record of the evaluation transforms): the argmax of its logits
    under `mode` (an InferenceMode; by default `InferenceMode.at_scales(scales)`)."""
    mode = mode or InferenceMode.at_scales(scales)
    logits = image_logits(model, paddle.to_tensor(image[None]), mode)
    return paddle.argmax(restore_logits(logits, restore), axis=1)[0].numpy()


def evaluate_confusion(model, dataset, mode, progress=None):
    """The confusion matrix (rows: label, columns: prediction) of the model's predictions
    over an `evaluation` SegDataset (the original labels) under `mode`; `progress(done,
    total)` is called after each image. The model must be in eval mode."""
    confusion = np.zeros((dataset.num_classes, dataset.num_classes), dtype=np.int64)
    with paddle.no_grad():
        for index in range(len(dataset)):
            image, label, restore = dataset[index]
            prediction = predict_classes(model, image, restore=restore, mode=mode)
            confusion += confusion_matrix(
                prediction, label, dataset.num_classes, dataset.ignore_index
            )
            if progress is not None:
                progress(index + 1, len(dataset))
    return confusion


def evaluate(model, dataset, scales=(1.0,), slide=None):
    """mIoU and friends (`segmentation_metrics`) of the model's main output over the
    whole dataset at the given input scales (in sliding windows with `slide`), as
    training evaluates; the model is left in training mode."""
    model.eval()
    confusion = evaluate_confusion(model, dataset, InferenceMode.at_scales(scales, slide))
    model.train()
    return segmentation_metrics(confusion)


def dataset_class_names(dataset_spec, data, num_classes):
    """The names of the classes a run scores: the demo data's, the spec's dataset's (from
    segc's catalog, or the spec's own `class_names`) when it has that many classes, else
    "class 0", "class 1", ..."""
    if data == "demo":
        return list(DEMO_CLASS_NAMES)
    names = dataset_spec.get("class_names")
    if names and len(names) == num_classes:
        return list(names)
    return [f"class {index}" for index in range(num_classes)]
