"""Training and evaluation transforms on HxWx3 RGB images and HxW label maps.

Images stay uint8 until Normalize, and every step is one OpenCV call or a lookup
table, which keeps the data pipeline far ahead of the model on a CPU. All
randomness comes from the `rng` argument, so a sample's augmentation is fixed by
its seed whatever process or worker computes it.
"""

import cv2
import numpy as np


class Compose:
    """Apply transforms in order; return a float32 CHW image and an int64 label (or None)."""

    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, image, label=None, rng=None):
        rng = rng if rng is not None else np.random.default_rng()
        for transform in self.transforms:
            image, label = transform(image, label, rng)
        image = np.ascontiguousarray(image.transpose(2, 0, 1), dtype=np.float32)
        return image, None if label is None else label.astype(np.int64)


class ResizeStepScaling:
    """Rescale by a factor drawn from min..max in steps of `scale_step_size` (0: uniform)."""

    def __init__(self, min_scale_factor=0.75, max_scale_factor=1.25, scale_step_size=0.25):
        if min_scale_factor > max_scale_factor:
            raise ValueError("min_scale_factor must not exceed max_scale_factor")
        self.min_scale_factor = min_scale_factor
        self.max_scale_factor = max_scale_factor
        self.scale_step_size = scale_step_size

    def factor(self, rng):
        low, high, step = self.min_scale_factor, self.max_scale_factor, self.scale_step_size
        if low == high:
            return low
        if step == 0:
            return rng.uniform(low, high)
        candidates = np.linspace(low, high, int((high - low) / step) + 1)
        return candidates[rng.integers(len(candidates))]

    def __call__(self, image, label, rng):
        factor = self.factor(rng)
        if factor == 1:
            return image, label
        size = (round(image.shape[1] * factor), round(image.shape[0] * factor))
        image = cv2.resize(image, size, interpolation=cv2.INTER_LINEAR)
        if label is not None:
            label = cv2.resize(label, size, interpolation=cv2.INTER_NEAREST)
        return image, label


class RandomPaddingCrop:
    """Pad bottom/right up to the crop size, then cut a random crop_size = (w, h) window."""

    def __init__(self, crop_size=(512, 512), im_padding_value=127.5, label_padding_value=255):
        self.crop_width, self.crop_height = crop_size
        self.im_padding_value = im_padding_value
        self.label_padding_value = label_padding_value

    def __call__(self, image, label, rng):
        height, width = image.shape[:2]
        pad_height = max(self.crop_height - height, 0)
        pad_width = max(self.crop_width - width, 0)
        if pad_height or pad_width:
            image = cv2.copyMakeBorder(image, 0, pad_height, 0, pad_width, cv2.BORDER_CONSTANT,
                                       value=(self.im_padding_value,) * 3)
            if label is not None:
                label = cv2.copyMakeBorder(label, 0, pad_height, 0, pad_width,
                                           cv2.BORDER_CONSTANT, value=self.label_padding_value)
            height, width = image.shape[:2]
        top = rng.integers(height - self.crop_height + 1)
        left = rng.integers(width - self.crop_width + 1)
        window = (slice(top, top + self.crop_height), slice(left, left + self.crop_width))
        return image[window], None if label is None else label[window]


class RandomHorizontalFlip:
    """Mirror image and label left-right with probability `prob`."""

    def __init__(self, prob=0.5):
        self.prob = prob

    def __call__(self, image, label, rng):
        if rng.random() >= self.prob:
            return image, label
        return cv2.flip(image, 1), None if label is None else cv2.flip(label, 1)


class RandomDistort:
    """Photometric jitter: brightness, contrast, saturation and hue, each applied with its
    probability, in a random order (as PaddleSeg does).

    Factors are drawn from [1 - range, 1 + range]; the hue shift from [-hue_range,
    hue_range] on a 0-255 hue circle (PIL's HSV, which PaddleSeg uses).
    """

    def __init__(self, brightness_range=0.5, brightness_prob=0.5, contrast_range=0.5,
                 contrast_prob=0.5, saturation_range=0.5, saturation_prob=0.5, hue_range=18,
                 hue_prob=0.5):
        self.operations = (
            (self.brightness, brightness_range, brightness_prob),
            (self.contrast, contrast_range, contrast_prob),
            (self.saturation, saturation_range, saturation_prob),
            (self.hue, hue_range, hue_prob),
        )

    def __call__(self, image, label, rng):
        for index in rng.permutation(len(self.operations)):
            operation, spread, prob = self.operations[index]
            if rng.random() < prob:
                image = operation(image, spread, rng)
        return image, label

    @staticmethod
    def brightness(image, spread, rng):
        factor = rng.uniform(1 - spread, 1 + spread)
        return cv2.LUT(image, np.clip(np.arange(256) * factor, 0, 255).astype(np.uint8))

    @staticmethod
    def contrast(image, spread, rng):
        factor = rng.uniform(1 - spread, 1 + spread)
        mean = float(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).mean())
        table = mean + (np.arange(256) - mean) * factor
        return cv2.LUT(image, np.clip(table + 0.5, 0, 255).astype(np.uint8))

    @staticmethod
    def saturation(image, spread, rng):
        factor = rng.uniform(1 - spread, 1 + spread)
        gray = cv2.cvtColor(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)
        return cv2.addWeighted(image, factor, gray, 1 - factor, 0)

    @staticmethod
    def hue(image, spread, rng):
        # OpenCV's uint8 hue runs 0..179; PIL's (the reference) 0..255
        shift = rng.uniform(-spread, spread) * 180 / 256
        hsv = cv2.cvtColor(image, cv2.COLOR_RGB2HSV)
        table = np.arange(256, dtype=np.float64)
        table[:180] = np.round(table[:180] + shift) % 180
        hsv[..., 0] = cv2.LUT(hsv[..., 0], table.astype(np.uint8))
        return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)


class Normalize:
    """(image / 255 - mean) / std per channel, as one float32 multiply-add."""

    def __init__(self, mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5)):
        std = np.asarray(std, dtype=np.float64)
        self.scale = (1 / (255 * std)).astype(np.float32)
        self.shift = (np.asarray(mean, dtype=np.float64) / std).astype(np.float32)

    def __call__(self, image, label, rng):
        normalized = np.multiply(image, self.scale, dtype=np.float32)
        normalized -= self.shift
        return normalized, label
