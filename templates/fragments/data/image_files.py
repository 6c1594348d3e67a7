"""Image files read whole or not at all.

OpenCV refuses a damaged PNG, BMP, TIFF or WebP file, but decodes a truncated JPEG with
its missing rows grey, and libjpeg's warning about it names no file: a model would train
on, or a user would receive a mask of, half an image. So a JPEG must end its last scan
with an end-of-image marker before it is decoded, and every unreadable file is an error
that names it.
"""

import os

import cv2

JPEG_START = b"\xff\xd8"  # start of image
JPEG_SCAN = b"\xff\xda"  # start of scan: the entropy-coded pixels follow
JPEG_END = b"\xff\xd9"  # end of image; inside a scan 0xFF is always followed by 0x00


class ImageFileError(ValueError):
    """An image file that is missing, damaged or not an image; the message names it."""


def image_file_problem(path):
    """Why the file at `path` is not a whole image file, or None when it may be one."""
    with open(path, "rb") as f:
        head = f.read(2)
        if not head:
            return "is empty"
        if head != JPEG_START:
            return None
        data = head + f.read()
    if data.rfind(JPEG_END) < data.rfind(JPEG_SCAN):
        return "is a truncated JPEG (its last scan has no end-of-image marker)"
    return None


def read_image_file(path, flags=cv2.IMREAD_COLOR):
    """cv2.imread of a whole image file; ImageFileError when it is missing or damaged."""
    if not os.path.isfile(path):
        raise ImageFileError(f"{path}: image does not exist")
    problem = image_file_problem(path)
    if problem is not None:
        raise ImageFileError(f"{path}: {problem}")
    image = cv2.imread(path, flags)
    if image is None:
        raise ImageFileError(f"{path}: cannot be read as an image")
    return image
