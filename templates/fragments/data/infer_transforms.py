"""infer.py's image side: deploy.yaml's Resize (or ResizeByShort), Padding (or
ScalePadding) and Normalize as one step into the model's input, and the model's output
back to a class-id mask of the image."""

import cv2
import numpy as np


def infer_normalize_coefficients(mean, std):
    """Per-channel (scale, shift) so that pixel * scale + shift == (pixel / 255 - mean) / std."""
    mean = np.asarray(mean, dtype=np.float64)
    std = np.asarray(std, dtype=np.float64)
    return (1.0 / (255.0 * std)).astype(np.float32), (-mean / std).astype(np.float32)


def short_side_size(height, width, short_size):
    """(width, height) after scaling the shorter side to short_size and the other in
    proportion, rounded half to even as PaddleSeg's resize_short rounds."""
    factor = short_size / min(height, width)
    return round(width * factor), round(height * factor)


def scale_padding_square(height, width):
    """ScalePadding's square: its side and the image's (top, left) in it."""
    side = max(height, width)
    return side, int((side - height) / 2), int((side - width) / 2)


def infer_preprocess(
    image, scale, shift, resize=None, padding=None, scale_padding=None, resize_short=None
):
    """BGR uint8 HxWx3 image -> normalized RGB float32 1x3xHxW batch.

    One multiply-add per channel plane straight into the output (no float64, no
    HWC->CHW transpose); `scale`, `shift` from infer_normalize_coefficients;
    `resize` an optional (width, height); `resize_short` an optional length of the
    shorter side (ResizeByShort: the aspect ratio kept); `padding` an optional {"size":
    (width, height), "value": v}: the (resized) image is placed top-left and the rest filled
    with v normalized, as PaddleSeg's Padding then Normalize give. An image larger
    than the padding size is a ValueError. `scale_padding` an optional {"size": (width,
    height), "value": (B, G, R)}: the image is padded to a square around its centre
    with that value, then resized (bicubic), as PortraitNet's ScalePadding does.
    """
    if scale_padding is not None:
        height, width = image.shape[:2]
        side, top, left = scale_padding_square(height, width)
        image = cv2.copyMakeBorder(
            image,
            top,
            side - height - top,
            left,
            side - width - left,
            cv2.BORDER_CONSTANT,
            value=scale_padding["value"],
        )
        image = cv2.resize(image, tuple(scale_padding["size"]), interpolation=cv2.INTER_CUBIC)
    if resize_short is not None:
        resize = short_side_size(*image.shape[:2], resize_short)
    if resize is not None and (image.shape[1], image.shape[0]) != tuple(resize):
        image = cv2.resize(image, tuple(resize), interpolation=cv2.INTER_LINEAR)
    height, width = image.shape[:2]
    out_width, out_height = width, height
    if padding is not None:
        out_width, out_height = padding["size"]
        if width > out_width or height > out_height:
            raise ValueError(
                f"image of {width}x{height} is larger than the Padding "
                f"target_size {out_width}x{out_height}"
            )
    batch = np.empty((1, 3, out_height, out_width), dtype=np.float32)
    planes = cv2.split(image)  # B, G, R
    for channel in range(3):
        out = batch[0, channel]
        if padding is not None:
            fill = padding["value"] * scale[channel] + shift[channel]
            out[height:] = fill
            out[:height, width:] = fill
            out = out[:height, :width]
        np.multiply(planes[2 - channel], scale[channel], out=out)
        out += shift[channel]
    return batch


def infer_postprocess(output, size=None, valid=None, square=False):
    """Class-id mask (uint8, uint16 past 255 classes) of the first image of a model output.

    `output`: argmax ids (N,1,H,W) or (N,H,W), or softmax / logits (N,C,H,W), whose
    argmax over axis 1 is taken. `valid`: optional (width, height) of the top-left
    region to keep (the image within a padded input); `size`: optional (width, height)
    to resize the result to; with `square` (ScalePadding's input), the result is resized
    to the square around the image and the image's part cut out of its centre.
    """
    if (output.ndim == 4 and output.shape[1] > 1) or np.issubdtype(output.dtype, np.floating):
        labels = np.argmax(output[0], axis=0) if output.ndim == 4 else output[0]
    else:
        labels = output[0, 0] if output.ndim == 4 else output[0]
    if valid is not None:
        labels = labels[: valid[1], : valid[0]]
    mask = labels.astype(np.uint8 if labels.max(initial=0) < 256 else np.uint16)
    if square and size is not None:
        side, top, left = scale_padding_square(size[1], size[0])
        mask = cv2.resize(mask, (side, side), interpolation=cv2.INTER_NEAREST)
        return np.ascontiguousarray(mask[top : top + size[1], left : left + size[0]])
    if size is not None and (mask.shape[1], mask.shape[0]) != tuple(size):
        mask = cv2.resize(mask, tuple(size), interpolation=cv2.INTER_NEAREST)
    return mask
