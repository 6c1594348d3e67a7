"""Transforms of PaddleSeg's portrait recipes (PortraitNet on EG1800, after Zhang et al.,
"PortraitNet: Real-time Portrait Segmentation Network for Mobile Device", 2019):
a random affine warp to a fixed size, centre padding to a square then scaling, and
the texture augmentations (sharpness, blur, noise) the paper uses against the
blurry, noisy and badly lit pictures phone cameras take.

Each follows the PaddleSeg 2.8 transform of the same name (what it computes, its
arguments and their defaults); the random numbers come from `rng`, as for every
transform (see data/transforms.py), and each draw is separated from a deterministic
step that takes the drawn values, so that step can be checked against PaddleSeg's.
"""

import math

import cv2
import numpy as np

from .transforms import RandomDistort


class RandomAffine:
    """Rotate by a random angle in [-max_rotation, max_rotation] degrees, scale by a
    random factor in [min_scale_factor, max_scale_factor] (relative to fitting the
    image into `size`), shift by up to translation_offset pixels each way, and write the
    result into a `size` = (width, height) canvas, the image filled with
    im_padding_value (bilinear) and the label with label_padding_value (nearest).

    PaddleSeg's RandomAffine first centres the image on the canvas, then rotates and
    scales about the (shifted) canvas centre; so does `warp`.
    """

    def __init__(
        self,
        size=(224, 224),
        translation_offset=0,
        max_rotation=15,
        min_scale_factor=0.75,
        max_scale_factor=1.25,
        im_padding_value=128,
        label_padding_value=255,
    ):
        if len(size) != 2:
            raise ValueError(f"size must be [width, height], got {size!r}")
        self.size = tuple(int(v) for v in size)
        self.translation_offset = translation_offset
        self.max_rotation = max_rotation
        self.min_scale_factor = min_scale_factor
        self.max_scale_factor = max_scale_factor
        self.im_padding_value = im_padding_value
        self.label_padding_value = label_padding_value

    def draw(self, rng):
        """(x_offset, y_offset, angle, scale), drawn as PaddleSeg draws them."""
        x_offset = (rng.random() - 0.5) * 2 * self.translation_offset
        y_offset = (rng.random() - 0.5) * 2 * self.translation_offset
        angle = rng.random() * 2 * self.max_rotation - self.max_rotation
        scale = rng.random() * (self.max_scale_factor - self.min_scale_factor)
        return x_offset, y_offset, angle, scale + self.min_scale_factor

    def matrix(self, height, width, x_offset, y_offset, angle, scale):
        """The 2x3 affine matrix from an image of height x width to the canvas."""
        canvas_width, canvas_height = self.size
        # PaddleSeg measures the image by its last pixel index (width - 1), not its width
        last_x, last_y = max(width - 1, 1), max(height - 1, 1)
        centre_image = np.array(
            [
                [1.0, 0, (canvas_width - last_x) / 2],
                [0, 1.0, (canvas_height - last_y) / 2],
                [0, 0, 1],
            ]
        )
        scale *= (canvas_width / last_x + canvas_height / last_y) / 2
        alpha = scale * math.cos(math.radians(angle))
        beta = scale * math.sin(math.radians(angle))
        cx, cy = canvas_width / 2 + x_offset, canvas_height / 2 + y_offset
        rotate_scale = np.array(
            [
                [alpha, beta, (1 - alpha) * cx - beta * cy],
                [-beta, alpha, beta * cx + (1 - alpha) * cy],
                [0, 0, 1],
            ]
        )
        return (rotate_scale @ centre_image)[:2]

    def warp(self, image, label, x_offset, y_offset, angle, scale):
        matrix = self.matrix(image.shape[0], image.shape[1], x_offset, y_offset, angle, scale)
        image = cv2.warpAffine(
            np.asarray(image, np.uint8),
            matrix,
            self.size,
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=(self.im_padding_value,) * 3,
        )
        if label is not None:
            label = cv2.warpAffine(
                label,
                matrix,
                self.size,
                flags=cv2.INTER_NEAREST,
                borderMode=cv2.BORDER_CONSTANT,
                borderValue=self.label_padding_value,
            )
        return image, label

    def __call__(self, image, label, rng):
        return self.warp(image, label, *self.draw(rng))


class ScalePadding:
    """Pad the image to a square around its centre (with im_padding_value, truncated to
    uint8 as PaddleSeg's does), then resize it to target_size = (width, height) with
    bicubic interpolation; the label likewise, with label_padding_value and nearest
    neighbours.

    PaddleSeg resizes the label bicubically too, which invents class ids between two
    classes at their boundary (and between a class and the ignore value 255); nearest
    keeps the label a map of class ids. In evaluation the logits are resized to the
    square and its centre cropped out instead.
    """

    restore_kind = "scale_padding"

    def __init__(self, target_size=(512, 512), im_padding_value=127.5, label_padding_value=255):
        if len(target_size) != 2:
            raise ValueError(f"target_size must be [width, height], got {target_size!r}")
        self.target_size = tuple(int(v) for v in target_size)
        values = np.broadcast_to(np.asarray(im_padding_value, np.float64), (3,))
        # PaddleSeg fills a float canvas, then casts it to uint8: 127.5 becomes 127
        self.im_padding_value = tuple(float(v) for v in values.astype(np.uint8))
        self.label_padding_value = label_padding_value

    def __call__(self, image, label, rng):
        height, width = image.shape[:2]
        side = max(height, width)
        # the image's offset in the square: int() of half the difference, as PaddleSeg
        top = int((side - height) / 2)
        left = int((side - width) / 2)
        bottom, right = side - height - top, side - width - left
        image = cv2.copyMakeBorder(
            np.asarray(image, np.uint8),
            top,
            bottom,
            left,
            right,
            cv2.BORDER_CONSTANT,
            value=self.im_padding_value,
        )
        image = cv2.resize(image, self.target_size, interpolation=cv2.INTER_CUBIC)
        if label is not None:
            label = cv2.copyMakeBorder(
                label, top, bottom, left, right, cv2.BORDER_CONSTANT, value=self.label_padding_value
            )
            label = cv2.resize(label, self.target_size, interpolation=cv2.INTER_NEAREST)
        return image, label


# The filters RandomBlur chooses from, by blur_type, for an odd kernel size k.
PORTRAIT_BLURS = {
    "gaussian": lambda image, k: cv2.GaussianBlur(image, (k, k), 0, 0),
    "median": lambda image, k: cv2.medianBlur(image, k),
    "blur": lambda image, k: cv2.blur(image, (k, k)),
}


class RandomBlur:
    """Blur the image with probability about `prob`, by a filter of blur_type
    ("gaussian", "median", "blur": a box filter; "random": gaussian 30%, median 30%,
    box 40%) with a kernel of 3, 5, 7 or 9 pixels.

    As PaddleSeg: the image is blurred when a draw from range(int(1 / prob)) is 0
    (so prob 0.3 blurs a third of the images, not 30%), and the kernel size is drawn
    from 3..9 with an even draw going one up (3 in 1/7 of the cases, 5, 7 and 9 in
    2/7 each).
    """

    def __init__(self, prob=0.1, blur_type="gaussian"):
        if blur_type not in (*PORTRAIT_BLURS, "random"):
            raise ValueError(
                f"blur_type must be one of {sorted(PORTRAIT_BLURS)} or 'random', got {blur_type!r}"
            )
        self.prob = prob
        self.blur_type = blur_type

    def draw(self, rng):
        """(filter name, kernel size), or None when this image is not blurred."""
        if self.prob <= 0:
            return None
        if self.prob < 1 and rng.integers(int(1.0 / self.prob)) != 0:
            return None
        # 3..9 with the even sizes moved one up: 3, 5, 5, 7, 7, 9, 9 equally likely
        size = int(rng.integers(3, 10))
        size += 1 - size % 2
        kind = self.blur_type
        if kind == "random":
            select = rng.random()
            kind = "gaussian" if select < 0.3 else "median" if select < 0.6 else "blur"
        return kind, size

    @staticmethod
    def blur(image, kind, size):
        return PORTRAIT_BLURS[kind](np.asarray(image, np.uint8), size)

    def __call__(self, image, label, rng):
        drawn = self.draw(rng)
        return (image, label) if drawn is None else (self.blur(image, *drawn), label)


class RandomNoise:
    """With probability `prob`, add Gaussian noise of a standard deviation drawn from
    [0, max_sigma) to every pixel and channel, clipped to 0..255; the image becomes
    float32 (not rounded), as PaddleSeg's, so RandomNoise belongs just before Normalize."""

    def __init__(self, prob=0.5, max_sigma=10.0):
        self.prob = prob
        self.max_sigma = max_sigma

    def __call__(self, image, label, rng):
        if rng.random() >= self.prob:
            return image, label
        sigma = rng.random() * self.max_sigma
        noisy = image.astype(np.float32) + rng.normal(0.0, sigma, image.shape).astype(np.float32)
        return np.clip(noisy, 0, 255, out=noisy), label


class RandomDistortSharpness(RandomDistort):
    """RandomDistort plus PaddleSeg's fifth operation, sharpness: with probability
    sharpness_prob, blend between the image smoothed by PIL's SMOOTH filter (factor 0)
    and the image itself (factor 1) by a factor from [1 - sharpness_range,
    1 + sharpness_range]; above 1 it sharpens. The five operations run in a random order.

    (A separate transform so that RandomDistort's arguments, and every recipe that
    uses it, stay as they are.)
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
        sharpness_range=0.5,
        sharpness_prob=0.0,
    ):
        super().__init__(
            brightness_range,
            brightness_prob,
            contrast_range,
            contrast_prob,
            saturation_range,
            saturation_prob,
            hue_range,
            hue_prob,
        )
        self.operations = (
            *self.operations,
            (distort_sharpness, 1 - sharpness_range, 1 + sharpness_range, sharpness_prob),
        )


# PIL's ImageFilter.SMOOTH kernel (sum 13), the "degenerate" image of ImageEnhance.Sharpness
SHARPNESS_SMOOTH_KERNEL = np.array([[1, 1, 1], [1, 5, 1], [1, 1, 1]], np.float32) / 13


def distort_sharpness(image, factor):
    """PIL's ImageEnhance.Sharpness: image blended with its smoothed copy (border pixels
    not smoothed, as PIL leaves them), truncated to uint8 as PIL's blend."""
    smooth = cv2.filter2D(image, -1, SHARPNESS_SMOOTH_KERNEL)
    for edge in (np.s_[0], np.s_[-1], np.s_[:, 0], np.s_[:, -1]):
        smooth[edge] = image[edge]
    blended = cv2.addWeighted(image, factor, smooth, 1 - factor, 0.0, dtype=cv2.CV_32F)
    return np.clip(blended, 0, 255).astype(np.uint8)
