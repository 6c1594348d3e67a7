"""Training and evaluation transforms on HxWx3 RGB images and HxW label maps.

Every transform is a callable `t(image, label, rng) -> (image, label)`: `image` is
HxWx3 RGB, uint8 until Normalize (or a Padding with a fractional value) and float32
after it; `label` is an HxW uint8 map
of class ids, or None (evaluation, inference); `rng` is a numpy.random.Generator and
the only source of randomness, so a sample's augmentation is fixed by its seed
whatever process or worker computes it. Images stay uint8 until Normalize and every
step is one or two OpenCV calls or a lookup table, which keeps the data pipeline far
ahead of the model on a CPU.
"""

import cv2
import numpy as np

from .datasets import SegDataError
from .infer_transforms import short_side_size


class Compose:
    """Apply transforms in order; return a float32 CHW contiguous image and an int64 HxW
    label (or None). `rng` defaults to a freshly seeded generator.

    A ResizeStepScaling directly followed by a RandomPaddingCrop runs as one
    ResizeStepScalingCrop, which computes only the crop window of the rescaled image.

    Evaluation passes a list as `restore`: Compose appends, for each transform that
    changes the image's size, how to undo it on the logits, ("resize" or "crop", the
    height and width before it) (`restore_logits` replays them backwards), so metrics
    are computed on the original label, as PaddleSeg's `trans_info` does. A transform
    that changes the size in a way no such step describes is an error there.
    """

    def __init__(self, transforms):
        self.transforms = list(transforms)
        self.steps = []
        for transform in self.transforms:
            previous = self.steps[-1] if self.steps else None
            if isinstance(transform, RandomPaddingCrop) and isinstance(previous, ResizeStepScaling):
                self.steps[-1] = ResizeStepScalingCrop(previous, transform)
            else:
                self.steps.append(transform)

    def __call__(self, image, label=None, rng=None, restore=None):
        if rng is None:
            rng = np.random.default_rng()
        for step in self.steps:
            size = image.shape[:2]
            image, label = step(image, label, rng)
            if restore is not None and image.shape[:2] != size:
                kind = getattr(step, "restore_kind", None)
                if kind is None:
                    raise SegDataError(
                        f"{type(step).__name__} changes the image size in evaluation and "
                        "cannot be undone on the logits; use Resize or Padding in the "
                        "spec's val transforms"
                    )
                restore.append((kind, size))
        # Normalize already leaves a CHW buffer behind its HWC view: no copy then
        image = np.ascontiguousarray(image.transpose(2, 0, 1), dtype=np.float32)
        return image, None if label is None else label.astype(np.int64)


class ResizeStepScaling:
    """Rescale image (bilinear) and label (nearest) by one factor drawn from
    min_scale_factor, min + step, ..., max_scale_factor (uniformly from [min, max] when
    scale_step_size is 0), as PaddleSeg does."""

    def __init__(self, min_scale_factor=0.75, max_scale_factor=1.25, scale_step_size=0.25):
        if min_scale_factor > max_scale_factor:
            raise ValueError(
                f"min_scale_factor ({min_scale_factor}) must not exceed "
                f"max_scale_factor ({max_scale_factor})"
            )
        self.min_scale_factor = min_scale_factor
        self.max_scale_factor = max_scale_factor
        self.scale_step_size = scale_step_size
        self.factors = None
        if min_scale_factor != max_scale_factor and scale_step_size > 0:
            steps = int((max_scale_factor - min_scale_factor) / scale_step_size + 1)
            self.factors = np.linspace(min_scale_factor, max_scale_factor, steps).tolist()

    def draw_factor(self, rng):
        if self.min_scale_factor == self.max_scale_factor:
            return self.min_scale_factor
        if self.factors is None:
            return rng.uniform(self.min_scale_factor, self.max_scale_factor)
        return self.factors[rng.integers(len(self.factors))]

    @staticmethod
    def scaled_size(image, factor):
        """(width, height) of `image` rescaled by `factor`."""
        return round(image.shape[1] * factor), round(image.shape[0] * factor)

    def __call__(self, image, label, rng):
        return self.resize(image, label, self.scaled_size(image, float(self.draw_factor(rng))))

    @staticmethod
    def resize(image, label, size):
        if size == (image.shape[1], image.shape[0]):
            return image, label
        image = cv2.resize(image, size, interpolation=cv2.INTER_LINEAR)
        if label is not None:
            label = cv2.resize(label, size, interpolation=cv2.INTER_NEAREST)
        return image, label


class RandomPaddingCrop:
    """Pad bottom/right up to crop_size = (width, height) (image with im_padding_value,
    rounded to uint8; label with label_padding_value), then cut a random window of that
    size. The window is a view: later transforms copy."""

    def __init__(self, crop_size=(512, 512), im_padding_value=127.5, label_padding_value=255):
        if len(crop_size) != 2:
            raise ValueError(f"crop_size must be [width, height], got {crop_size!r}")
        self.crop_width, self.crop_height = (int(v) for v in crop_size)
        self.im_padding_value = im_padding_value
        self.label_padding_value = label_padding_value

    def draw_offsets(self, height, width, rng):
        """(top, left) of a random crop window in an image at least as large as it."""
        top = int(rng.integers(height - self.crop_height + 1))
        left = int(rng.integers(width - self.crop_width + 1))
        return top, left

    def __call__(self, image, label, rng):
        height, width = image.shape[:2]
        pad_height = max(self.crop_height - height, 0)
        pad_width = max(self.crop_width - width, 0)
        if pad_height or pad_width:
            image = cv2.copyMakeBorder(
                image,
                0,
                pad_height,
                0,
                pad_width,
                cv2.BORDER_CONSTANT,
                value=(self.im_padding_value,) * 3,
            )
            if label is not None:
                label = cv2.copyMakeBorder(
                    label,
                    0,
                    pad_height,
                    0,
                    pad_width,
                    cv2.BORDER_CONSTANT,
                    value=self.label_padding_value,
                )
            height, width = image.shape[:2]
        top, left = self.draw_offsets(height, width, rng)
        rows = slice(top, top + self.crop_height)
        cols = slice(left, left + self.crop_width)
        return image[rows, cols], None if label is None else label[rows, cols]


# OpenCV's interpolation for each of the names PaddleSeg's Resize accepts.
RESIZE_INTERPOLATIONS = {
    "NEAREST": cv2.INTER_NEAREST,
    "LINEAR": cv2.INTER_LINEAR,
    "CUBIC": cv2.INTER_CUBIC,
    "AREA": cv2.INTER_AREA,
    "LANCZOS4": cv2.INTER_LANCZOS4,
}


class Resize:
    """Resize the image to target_size = (width, height) with `interp` and the label with
    nearest neighbours, ignoring the aspect ratio: PaddleSeg's Resize (keep_ratio=False),
    what the human-segmentation recipes use instead of cropping. In evaluation the
    logits are resized back (bilinear) to the label's size."""

    restore_kind = "resize"

    def __init__(self, target_size=(512, 512), interp="LINEAR"):
        if len(target_size) != 2:
            raise ValueError(f"target_size must be [width, height], got {target_size!r}")
        if interp not in RESIZE_INTERPOLATIONS:
            raise ValueError(
                f"interp must be one of {sorted(RESIZE_INTERPOLATIONS)}, got {interp!r}"
            )
        self.target_size = tuple(int(v) for v in target_size)
        self.interpolation = RESIZE_INTERPOLATIONS[interp]

    def __call__(self, image, label, rng):
        image = cv2.resize(image, self.target_size, interpolation=self.interpolation)
        if label is not None:
            label = cv2.resize(label, self.target_size, interpolation=cv2.INTER_NEAREST)
        return image, label


class ResizeByShort:
    """Scale the image (bilinear) and label (nearest) so that the shorter side is
    `short_size`, keeping the aspect ratio: PaddleSeg's ResizeByShort (its max_size,
    unlimited by default, is not offered). Segmenter evaluates ADE20K so, at the scale
    its 512x512 training crops saw. In evaluation the logits are resized back (bilinear)
    to the label's size."""

    restore_kind = "resize"

    def __init__(self, short_size=512):
        self.short_size = int(short_size)

    def __call__(self, image, label, rng):
        size = short_side_size(*image.shape[:2], self.short_size)
        image = cv2.resize(image, size, interpolation=cv2.INTER_LINEAR)
        if label is not None:
            label = cv2.resize(label, size, interpolation=cv2.INTER_NEAREST)
        return image, label


class Padding:
    """Pad bottom/right up to target_size = (width, height): the image with
    im_padding_value, the label with label_padding_value (normally the ignore value, so
    metrics over the padded label are those over the original). An image larger than
    the target is a SegDataError, as PaddleSeg refuses it too.

    PaddleSeg pads float32 images, so its 127.5 stays 127.5 and normalises to exactly 0
    with the default mean and std. A uint8 image is padded as float32 when the value is
    not a whole 0..255 number, to keep that; transforms that need uint8 go before.
    In evaluation the logits are cropped back to the label's size instead.
    """

    restore_kind = "crop"

    def __init__(self, target_size=(2049, 1025), im_padding_value=127.5, label_padding_value=255):
        if len(target_size) != 2:
            raise ValueError(f"target_size must be [width, height], got {target_size!r}")
        self.target_width, self.target_height = (int(v) for v in target_size)
        self.im_padding_value = im_padding_value
        self.label_padding_value = label_padding_value

    def __call__(self, image, label, rng):
        height, width = image.shape[:2]
        if height > self.target_height or width > self.target_width:
            raise SegDataError(
                f"image of {width}x{height} is larger than Padding's target_size "
                f"{self.target_width}x{self.target_height}; raise target_size "
                "in the spec's transforms"
            )
        pad_height, pad_width = self.target_height - height, self.target_width - width
        if not pad_height and not pad_width:
            return image, label
        value = self.im_padding_value
        if image.dtype == np.uint8 and not (float(value).is_integer() and 0 <= value <= 255):
            image = image.astype(np.float32)
        image = cv2.copyMakeBorder(
            image, 0, pad_height, 0, pad_width, cv2.BORDER_CONSTANT, value=(value,) * 3
        )
        if label is not None:
            label = cv2.copyMakeBorder(
                label,
                0,
                pad_height,
                0,
                pad_width,
                cv2.BORDER_CONSTANT,
                value=self.label_padding_value,
            )
        return image, label


class ResizeStepScalingCrop:
    """ResizeStepScaling then RandomPaddingCrop, drawing the same random numbers, but
    when the rescaled image is well over the crop only its window is computed: the
    image by one affine warp with cv2.resize's pixel-centre mapping (values within one
    grey level of resize-then-crop), the label by the rows and columns cv2.resize's
    nearest-neighbour rule picks (identical)."""

    # Rescaled images under this many crops' worth of pixels are resized whole: cheaper
    WINDOW_MIN_AREA_RATIO = 2.5

    def __init__(self, scaling, crop):
        self.scaling = scaling
        self.crop = crop

    def __call__(self, image, label, rng):
        height, width = image.shape[:2]
        size = self.scaling.scaled_size(image, float(self.scaling.draw_factor(rng)))
        crop_width, crop_height = self.crop.crop_width, self.crop.crop_height
        if (
            size == (width, height)
            or size[0] < crop_width
            or size[1] < crop_height
            or size[0] * size[1] < self.WINDOW_MIN_AREA_RATIO * crop_width * crop_height
        ):
            image, label = self.scaling.resize(image, label, size)
            return self.crop(image, label, rng)
        top, left = self.crop.draw_offsets(size[1], size[0], rng)
        # output (x, y) samples input ((x + left + 0.5) * sx - 0.5, (y + top + 0.5) * sy - 0.5)
        sx, sy = width / size[0], height / size[1]
        matrix = np.array([[sx, 0, (left + 0.5) * sx - 0.5], [0, sy, (top + 0.5) * sy - 0.5]])
        image = cv2.warpAffine(
            image,
            matrix,
            (crop_width, crop_height),
            flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
            borderMode=cv2.BORDER_REPLICATE,
        )
        if label is not None:
            # cv2.resize's INTER_NEAREST: source index floor(x * (1 / (dst / src)))
            rows = np.floor((top + np.arange(crop_height)) * (1 / (size[1] / height)))
            cols = np.floor((left + np.arange(crop_width)) * (1 / (size[0] / width)))
            rows = np.minimum(rows.astype(np.intp), height - 1)
            cols = np.minimum(cols.astype(np.intp), width - 1)
            label = label.take(rows, axis=0).take(cols, axis=1)
        return image, label


class RandomHorizontalFlip:
    """Mirror image and label left-right with probability `prob`."""

    def __init__(self, prob=0.5):
        self.prob = prob

    def __call__(self, image, label, rng):
        if rng.random() >= self.prob:
            return image, label
        return cv2.flip(image, 1), None if label is None else cv2.flip(label, 1)


# PIL's "L" weights, which PaddleSeg's contrast and saturation jitter blend towards
DISTORT_GRAY_WEIGHTS = (0.299, 0.587, 0.114)


class RandomDistort:
    """Photometric jitter on uint8 RGB, PaddleSeg's RandomDistort without sharpness.

    The four operations run in a random order; each runs with its probability:
    brightness scales by b (towards black), contrast blends towards the mean grey level
    by c, saturation blends towards the pixel's own grey by s, with b, c, s drawn from
    [1 - range, 1 + range]; hue shifts by h drawn from [-hue_range, hue_range] on a
    0-255 hue circle (PIL's HSV scale, which PaddleSeg uses; OpenCV's HSV_FULL).
    Brightness, contrast and hue are one lookup table each; saturation is one weighted
    sum. Brightness, contrast and saturation stay within one grey level of PIL's; hue
    within a few (OpenCV's and PIL's HSV conversions round differently).
    """

    def __init__(
        self,
        brightness_range=0.5,
        brightness_prob=0.5,
        contrast_range=0.5,
        contrast_prob=0.5,
        saturation_range=0.5,
        saturation_prob=0.5,
        hue_range=18,
        hue_prob=0.5,
    ):
        self.operations = (
            (distort_brightness, 1 - brightness_range, 1 + brightness_range, brightness_prob),
            (distort_contrast, 1 - contrast_range, 1 + contrast_range, contrast_prob),
            (distort_saturation, 1 - saturation_range, 1 + saturation_range, saturation_prob),
            (distort_hue, -hue_range, hue_range, hue_prob),
        )

    def __call__(self, image, label, rng):
        for index in rng.permutation(len(self.operations)):
            operation, low, high, prob = self.operations[index]
            if rng.random() < prob:
                image = operation(image, rng.uniform(low, high))
        return image, label


def distort_lut(values):
    """A uint8 lookup table from float values: clipped to 0..255, truncated (as PIL's
    blend)."""
    return np.clip(values, 0, 255).astype(np.uint8)


def distort_brightness(image, factor):
    return cv2.LUT(image, distort_lut(np.arange(256) * factor))


def distort_contrast(image, factor):
    channel_means = cv2.mean(image)[:3]
    mean = int(sum(w * m for w, m in zip(DISTORT_GRAY_WEIGHTS, channel_means)) + 0.5)
    return cv2.LUT(image, distort_lut(mean + (np.arange(256) - mean) * factor))


def distort_saturation(image, factor):
    gray = cv2.cvtColor(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)
    # gamma -0.5: OpenCV rounds where PIL truncates
    return cv2.addWeighted(image, factor, gray, 1 - factor, -0.5)


def distort_hue(image, shift):
    hsv = cv2.cvtColor(image, cv2.COLOR_RGB2HSV_FULL)
    table = np.empty((256, 1, 3), np.uint8)
    table[:, 0, 0] = np.trunc(np.arange(256) + shift).astype(np.int64) % 256
    table[:, 0, 1] = table[:, 0, 2] = np.arange(256)
    return cv2.cvtColor(cv2.LUT(hsv, table), cv2.COLOR_HSV2RGB_FULL)


class Normalize:
    """(image / 255 - mean) / std per RGB channel, as one float32 multiply-add.

    Returns an HxWx3 float32 view of a contiguous CHW buffer, so Compose hands it on
    without copying; nothing after Normalize should need a contiguous HWC image.
    """

    def __init__(self, mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5)):
        mean = np.asarray(mean, dtype=np.float64).reshape(-1)
        std = np.asarray(std, dtype=np.float64).reshape(-1)
        if mean.size != 3 or std.size != 3 or not np.all(std != 0):
            raise ValueError(f"Normalize needs 3 means and 3 non-zero stds, got {mean} {std}")
        self.mean = mean.tolist()
        self.std = std.tolist()
        self.scale = (1 / (255 * std)).tolist()
        self.offset = (-mean / std).tolist()

    def __call__(self, image, label, rng):
        height, width = image.shape[:2]
        out = np.empty((3, height, width), np.float32)
        for channel, plane in enumerate(cv2.split(image)):
            # plane * scale + offset in one pass, written straight into the CHW buffer
            cv2.addWeighted(
                plane,
                self.scale[channel],
                plane,
                0.0,
                self.offset[channel],
                dst=out[channel],
                dtype=cv2.CV_32F,
            )
        return out.transpose(1, 2, 0), label
