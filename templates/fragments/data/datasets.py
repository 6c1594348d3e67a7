"""Datasets: PaddleSeg file lists, the Cityscapes, ADE20K, EG1800 and IDD (PaddleSeg's
contrib AutoNue) layouts and the built-in demo data.

A dataset is a list of (image path, label path) pairs; SegDataset reads pair
`key % len` for any key >= 0 and augments it with the generator
default_rng([seed, key]), so the training sampler can hand out ever-growing keys and
the augmentation stays reproducible whichever loader worker runs it.
"""

import glob
import os
import struct
import zlib

import cv2
import numpy as np

from .image_files import ImageFileError, image_file_problem, read_image_file

# The demo dataset: synthetic street scenes written on first use, no download.
DEMO_CLASS_NAMES = ("road", "building", "vegetation", "sky", "car")
DEMO_NUM_CLASSES = len(DEMO_CLASS_NAMES)
DEMO_DATA_DIR = "demo_data"
DEMO_TRAIN_IMAGES = 32
DEMO_VAL_IMAGES = 8
DEMO_IMAGE_SIZE = (512, 256)  # width, height
DEMO_SEED = 20240611
# Written last, so a half-written folder is regenerated; bump it when the scenes change.
DEMO_MARKER = "COMPLETE"
DEMO_VERSION = "segc demo data 2"

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class SegDataError(Exception):
    """Bad input data; the message is one line that names the file and the problem."""


def read_image(path):
    """An HxWx3 RGB uint8 image (grey images are expanded, 16-bit ones scaled down)."""
    try:
        image = read_image_file(path)
    except ImageFileError as error:
        raise SegDataError(str(error)) from None
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB, dst=image)


def png_as_index_image(data):
    """For a palette PNG, or a grey PNG of 1, 2 or 4 bits, the same PNG as a plain grey
    one plus the factor OpenCV's decoder will scale its values by; else (None, 1).

    OpenCV expands palette PNGs to colours, but PaddleSeg reads the palette indices
    as the class ids (its recommended "pseudo-colour" labels), so the header is
    rewritten to grey and the palette dropped: the pixel data are the indices.
    """
    if data[:8] != PNG_SIGNATURE or data[12:16] != b"IHDR" or len(data) < 33:
        return None, 1
    bit_depth, color_type = data[24], data[25]
    if color_type not in (0, 3) or (color_type == 0 and bit_depth >= 8):
        return None, 1
    chunks, pos = [PNG_SIGNATURE], 8
    while pos + 12 <= len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, end = data[pos + 4 : pos + 8], pos + 12 + length
        if kind == b"IHDR":
            body = data[pos + 8 : pos + 16] + bytes([bit_depth, 0]) + data[pos + 18 : end - 4]
            chunks.append(
                data[pos : pos + 4] + kind + body + struct.pack(">I", zlib.crc32(kind + body))
            )
        elif kind not in (b"PLTE", b"tRNS", b"bKGD", b"sBIT", b"hIST"):
            chunks.append(data[pos:end])
        pos = end
    return b"".join(chunks), 255 // (2**bit_depth - 1)


def read_label(path):
    """An HxW uint8 map of class ids.

    Palette PNGs give their palette indices (as PaddleSeg reads them); a colour image
    whose channels are all equal gives that channel; anything else with more than one
    channel is refused.
    """
    if not os.path.isfile(path):
        raise SegDataError(f"{path}: label does not exist")
    problem = image_file_problem(path)
    if problem is not None:
        raise SegDataError(f"{path}: {problem}")
    with open(path, "rb") as f:
        data = f.read()
    index_png, scale = png_as_index_image(data)
    label = None
    if index_png is not None:
        label = cv2.imdecode(np.frombuffer(index_png, np.uint8), cv2.IMREAD_UNCHANGED)
        if label is not None and scale > 1:
            label //= scale
    if label is None:
        label = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if label is None:
        raise SegDataError(f"{path}: cannot be read as a label image")
    if label.ndim == 3:
        channels = label.shape[2]
        if channels in (3, 4) and all(np.array_equal(label[..., 0], label[..., c]) for c in (1, 2)):
            label = np.ascontiguousarray(label[..., 0])
        else:
            raise SegDataError(
                f"{path}: label has {channels} different channels; expected a single-channel "
                "map of class ids (a grey or palette PNG such as *_labelTrainIds.png)"
            )
    if label.dtype != np.uint8:
        if not np.issubdtype(label.dtype, np.integer):
            raise SegDataError(
                f"{path}: label holds {label.dtype} values; expected integer class ids"
            )
        top = int(label.max()) if label.size else 0
        if top > 255 or int(label.min()) < 0:
            raise SegDataError(f"{path}: label value {top} is outside 0..255")
        label = label.astype(np.uint8)
    return label


class SegDataset:
    """(image, label) pairs run through transforms.

    `ds[key]` (any integer key >= 0) reads sample key % len(ds), checks that its label
    matches the image's size and holds only class ids (< num_classes) or ignore_index,
    and returns transforms(image, label, default_rng([seed, key])): a float32 CHW image
    and an int64 HxW label, followed by one map per entry of `target_maps` ({name:
    function(label, num_classes, ignore_index)}, e.g. an edge map for losses that train
    on one), computed from the transformed label. An `evaluation` dataset instead leaves
    the label as it is and returns (image, label, restore): the transforms change only
    the image, and `restore` says how to bring the logits back to the label's size
    (Compose's `restore`).
    """

    def __init__(
        self,
        samples,
        transforms,
        num_classes,
        ignore_index=255,
        seed=0,
        target_maps=None,
        evaluation=False,
    ):
        self.samples = [(str(image), str(label)) for image, label in samples]
        if not self.samples:
            raise ValueError("a SegDataset needs at least one sample")
        self.transforms = transforms
        self.num_classes = int(num_classes)
        self.ignore_index = int(ignore_index)
        self.seed = seed
        self.target_maps = dict(target_maps or {})
        self.evaluation = evaluation
        # 1 for the label values that are neither a class nor the ignore value
        self.invalid_values = np.ones(256, np.uint8)
        self.invalid_values[: self.num_classes] = 0
        if 0 <= self.ignore_index < 256:
            self.invalid_values[self.ignore_index] = 0

    def __len__(self):
        return len(self.samples)

    def __getitem__(self, key):
        key = int(key)
        if key < 0:
            raise IndexError(f"SegDataset keys are >= 0, got {key}")
        image_path, label_path = self.samples[key % len(self.samples)]
        image = read_image(image_path)
        label = self.prepare_label(read_label(label_path))
        self.check_label(label, label_path, image.shape[:2])
        if self.evaluation:
            # float32 before the transforms, as PaddleSeg reads images, so that a Resize
            # interpolates the same values (training keeps uint8: its augmentation is
            # random anyway, and uint8 is faster)
            restore = []
            image, _ = self.transforms(
                image.astype(np.float32), None, np.random.default_rng([self.seed, key]), restore
            )
            return image, self.finish_label(label.astype(np.int64)), restore
        image, label = self.transforms(image, label, np.random.default_rng([self.seed, key]))
        label = self.finish_label(label)
        maps = [
            make(label, self.num_classes, self.ignore_index) for make in self.target_maps.values()
        ]
        return (image, label, *maps)

    # A dataset type's own label rules (EG1800Dataset's): the label as read, before it is
    # checked, and the label the loss or the metrics compare with (after the transforms
    # in training; in evaluation the label as read).
    def prepare_label(self, label):
        return label

    def finish_label(self, label):
        return label

    def check_label(self, label, label_path, image_shape):
        if label.shape != image_shape:
            raise SegDataError(
                f"{label_path}: label is {label.shape[1]}x{label.shape[0]} but its image is "
                f"{image_shape[1]}x{image_shape[0]}"
            )
        invalid = cv2.LUT(label, self.invalid_values)
        if cv2.countNonZero(invalid):
            bad = np.unique(label[invalid.astype(bool)])
            present = " ".join(str(v) for v in np.unique(label)[:20])
            raise SegDataError(
                f"{label_path}: label value {int(bad[0])} is not a class (num_classes "
                f"{self.num_classes}) nor the ignore value {self.ignore_index}; the label "
                f"holds {present}: pass --num-classes and --ignore-index for your data"
            )


class EG1800Dataset(SegDataset):
    """EG1800's portraits (PaddleSeg's EG1800 dataset): label values above 1 are
    background, and the label compared with (the transformed one in training, the
    original in evaluation) is smoothed by a 5x5 majority vote (a box blur rounded to 0
    or 1, as PaddleSeg's), which removes the annotation's jagged edges; ignored pixels
    stay ignored."""

    def prepare_label(self, label):
        label[label > 1] = 0
        return label

    def finish_label(self, label):
        if label is None:
            return None
        portrait = (label == 1).astype(np.uint8)
        # the rounded mean of 25 zeros and ones is 1 exactly when 13 or more are ones
        smoothed = cv2.blur(portrait, (5, 5)).astype(label.dtype)
        return np.where(label == self.ignore_index, label, smoothed)


class ADE20KDataset(SegDataset):
    """ADE20K's scenes (PaddleSeg's ADE20K dataset): annotation 0 marks pixels of no
    class ("other"), so the label as read is reduced by one in uint8, as PaddleSeg
    reduces it: 0 wraps to 255, the ignore value, and classes 1..150 become 0..149,
    before the transforms (their padding stays ignored) and in evaluation alike."""

    def prepare_label(self, label):
        return label - np.uint8(1)

    def check_label(self, label, label_path, image_shape):
        try:
            super().check_label(label, label_path, image_shape)
        except SegDataError as error:
            if "is not a class" not in str(error):
                raise
            raise SegDataError(
                f"{error} (ADE20K labels are read less one: file value v is class v - 1, "
                "file value 0 is ignored)"
            ) from None


def ade20k_samples(root, split):
    """Pairs from the ADEChallengeData2016 layout, sorted: root/images/training/*.jpg
    with root/annotations/training/*.png of the same name (train), the same under
    validation/ (val)."""
    folder = "training" if split == "train" else "validation"
    image_dir = os.path.join(root, "images", folder)
    label_dir = os.path.join(root, "annotations", folder)
    layout = (
        f"expected {image_dir}/*.jpg with {label_dir}/*.png of the same name "
        "(the ADEChallengeData2016 folder), or pass a file list"
    )
    images = sorted(glob.glob(os.path.join(glob.escape(image_dir), "*.jpg")))
    if not images:
        raise SegDataError(f"{root}: no ADE20K {split} images; {layout}")
    samples = []
    for image_path in images:
        stem = os.path.basename(image_path)[: -len(".jpg")]
        label_path = os.path.join(label_dir, f"{stem}.png")
        if not os.path.isfile(label_path):
            raise SegDataError(f"{label_path}: label of {image_path} does not exist; {layout}")
        samples.append((image_path, label_path))
    return samples


def eg1800_samples(root, split):
    """Pairs from the EG1800 layout: the file names listed in root/eg1800_train.txt
    (train) or root/eg1800_test.txt (val), one per line, under root/Images and
    root/Labels."""
    list_path = os.path.join(root, "eg1800_train.txt" if split == "train" else "eg1800_test.txt")
    if not os.path.isfile(list_path):
        raise SegDataError(
            f"{list_path}: EG1800 file list does not exist; expected root/Images, "
            "root/Labels, eg1800_train.txt and eg1800_test.txt, or pass a file list"
        )
    samples = []
    with open(list_path, encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            name = line.strip()
            if not name:
                continue
            pair = (os.path.join(root, "Images", name), os.path.join(root, "Labels", name))
            for kind, path in zip(("image", "label"), pair):
                if not os.path.isfile(path):
                    raise SegDataError(
                        f"{path}: {kind} does not exist (listed in {list_path}:{number})"
                    )
            samples.append(pair)
    if not samples:
        raise SegDataError(f"{list_path}: file list has no samples")
    return samples


def file_list_samples(root, list_path):
    """Pairs from a PaddleSeg file list: 'image_path label_path' per line (whitespace
    separated, relative to root; blank lines skipped). The list itself is looked up
    relative to root first, then as given. Every listed file must exist."""
    candidates = [os.path.join(root, list_path), list_path]
    found = next((p for p in candidates if os.path.isfile(p)), None)
    if found is None:
        raise SegDataError(
            f"{list_path}: file list does not exist (looked in {root} and the current folder)"
        )
    samples = []
    with open(found, encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            fields = line.split()
            if not fields:
                continue
            if len(fields) != 2:
                raise SegDataError(
                    f"{found}:{number}: expected 'image label', got {line.strip()!r}"
                )
            image_path, label_path = (os.path.join(root, field) for field in fields)
            for kind, path in (("image", image_path), ("label", label_path)):
                if not os.path.isfile(path):
                    raise SegDataError(
                        f"{path}: {kind} does not exist (listed in {found}:{number})"
                    )
            samples.append((image_path, label_path))
    if not samples:
        raise SegDataError(f"{found}: file list has no samples")
    return samples


def cityscapes_samples(root, split):
    """Pairs from the Cityscapes layout, sorted: root/leftImg8bit/<split>/<city>/
    *_leftImg8bit.png with root/gtFine/<split>/<city>/*_gtFine_labelTrainIds.png."""
    layout = (
        f"expected {os.path.join(root, 'leftImg8bit', split, '<city>')}/"
        f"*_leftImg8bit.png with {os.path.join(root, 'gtFine', split, '<city>')}/"
        "*_gtFine_labelTrainIds.png, or pass a file list"
    )
    pattern = os.path.join(
        glob.escape(root), "leftImg8bit", glob.escape(split), "*", "*_leftImg8bit.png"
    )
    images = sorted(glob.glob(pattern))
    if not images:
        raise SegDataError(f"{root}: no Cityscapes {split} images; {layout}")
    samples = []
    for image_path in images:
        city = os.path.basename(os.path.dirname(image_path))
        stem = os.path.basename(image_path)[: -len("_leftImg8bit.png")]
        label_path = os.path.join(root, "gtFine", split, city, f"{stem}_gtFine_labelTrainIds.png")
        if not os.path.isfile(label_path):
            raise SegDataError(
                f"{label_path}: label of {image_path} does not exist; {layout} "
                "(cityscapesScripts' createTrainIdLabelImgs.py writes them)"
            )
        samples.append((image_path, label_path))
    return samples


def autonue_samples(root, split):
    """Pairs from the IDD layout PaddleSeg's contrib AutoNue dataset reads, sorted:
    root/leftImg8bit/<split>/<folder>/*_leftImg8bit.<ext> with
    root/gtFine/<split>/<folder>/*_gtFine_labellevel3Ids.png (the 26 level-3 classes).
    PaddleSeg pairs the two sorted lists by position; here each image finds its label by
    name, so a missing label is an error rather than a shifted pairing."""
    layout = (
        f"expected {os.path.join(root, 'leftImg8bit', split, '<folder>')}/"
        f"*_leftImg8bit.png with {os.path.join(root, 'gtFine', split, '<folder>')}/"
        "*_gtFine_labellevel3Ids.png, or pass a file list"
    )
    pattern = os.path.join(
        glob.escape(root), "leftImg8bit", glob.escape(split), "*", "*_leftImg8bit.*"
    )
    images = sorted(glob.glob(pattern))
    if not images:
        raise SegDataError(f"{root}: no IDD {split} images; {layout}")
    samples = []
    for image_path in images:
        folder = os.path.basename(os.path.dirname(image_path))
        stem = os.path.basename(image_path).rsplit("_leftImg8bit.", 1)[0]
        label_path = os.path.join(
            root, "gtFine", split, folder, f"{stem}_gtFine_labellevel3Ids.png"
        )
        if not os.path.isfile(label_path):
            raise SegDataError(
                f"{label_path}: label of {image_path} does not exist; {layout} "
                "(IDD's public-code createLabels.py --id-type level3Id writes them)"
            )
        samples.append((image_path, label_path))
    return samples


def demo_scene(rng):
    """One synthetic street scene (RGB uint8 image, uint8 label): sky over a row of
    buildings with windows and trees, a road with lane marks and cars, and an
    ego-vehicle strip labelled 255 (ignored)."""
    road, building, vegetation, sky, car = range(DEMO_NUM_CLASSES)
    width, height = DEMO_IMAGE_SIZE
    rows = np.arange(height, dtype=np.float32)[:, None]
    label = np.full((height, width), road, np.uint8)
    image = np.empty((height, width, 3), np.float32)
    noise = rng.normal(0, 1, (height, width)).astype(np.float32)
    horizon = int(rng.uniform(0.38, 0.5) * height)

    # sky: blue, lighter towards the horizon
    t = np.clip(rows / horizon, 0, 1)
    sky_top, sky_low = (
        rng.uniform([40, 90, 170], [90, 140, 230]),
        rng.uniform([150, 180, 210], [200, 215, 245]),
    )
    image[:] = sky_top + (sky_low - sky_top) * t[..., None]
    image[:] += 4 * noise[..., None]
    label[:horizon] = sky

    # road: grey, darker and noisier than everything else, with dashed lane marks
    base = rng.uniform(70, 100)
    road_colour = np.array([base, base, base + rng.uniform(0, 8)], np.float32)
    image[horizon:] = road_colour + 14 * noise[horizon:, :, None]
    vanish = int(rng.uniform(0.35, 0.65) * width)
    for lane in (-0.9, 0.0, 0.9):
        for y0 in range(horizon + 4, height, 18):
            y1 = min(y0 + 9, height)
            x0 = int(vanish + lane * (y0 - horizon) * 2.2)
            x1 = int(vanish + lane * (y1 - horizon) * 2.2)
            thickness = max(1, (y0 - horizon) // 25)
            cv2.line(image, (x0, y0), (x1, y1), (220, 220, 210), thickness)

    # buildings standing on the horizon: flat facade colours with a grid of windows
    for _ in range(int(rng.integers(4, 9))):
        left = int(rng.uniform(-0.1, 0.95) * width)
        right = left + int(rng.uniform(0.08, 0.3) * width)
        top = int(rng.uniform(0.05, 0.32) * height)
        bottom = horizon + int(rng.integers(0, 6))
        left, right = max(left, 0), min(right, width)
        if right <= left:
            continue
        facade = rng.uniform([110, 80, 60], [200, 170, 150])
        block = image[top:bottom, left:right]
        block[:] = facade + 6 * noise[top:bottom, left:right, None]
        yy, xx = np.mgrid[top:bottom, left:right]
        step_y, step_x = int(rng.integers(9, 15)), int(rng.integers(8, 14))
        windows = ((yy - top) % step_y > step_y // 2) & ((xx - left) % step_x > step_x // 2)
        block[windows] = block[windows] * 0.45 + 20
        label[top:bottom, left:right] = building

    # trees: textured green blobs on trunks along the horizon
    for _ in range(int(rng.integers(2, 6))):
        cx = int(rng.uniform(0, width))
        radius = int(rng.uniform(12, 30))
        cy = horizon - int(rng.uniform(0.6, 1.4) * radius)
        mask = np.zeros((height, width), np.uint8)
        cv2.circle(mask, (cx, cy), radius, 1, -1)
        cv2.ellipse(
            mask,
            (cx + radius // 2, cy + radius // 3),
            (radius * 3 // 4, radius // 2),
            0,
            0,
            360,
            1,
            -1,
        )
        cv2.rectangle(mask, (cx - 2, cy), (cx + 2, horizon + 2), 1, -1)
        inside = mask.astype(bool)
        green = rng.uniform([30, 90, 20], [70, 140, 50])
        image[inside] = green + 22 * noise[inside][:, None]
        label[inside] = vegetation

    # cars on the road, bigger nearer the camera: a saturated body and dark windows
    for _ in range(int(rng.integers(1, 5))):
        y = int(rng.uniform(horizon + 0.15 * (height - horizon), 0.88 * height))
        near = (y - horizon) / (height - horizon)
        half_width, half_height = int(18 + 60 * near), int(8 + 26 * near)
        cx = int(rng.uniform(0.1, 0.9) * width)
        body = np.zeros((height, width), np.uint8)
        cv2.ellipse(body, (cx, y), (half_width, half_height), 0, 0, 360, 1, -1)
        inside = body.astype(bool)
        hue = rng.integers(3)
        colour = rng.uniform(20, 70, 3)
        colour[hue] = rng.uniform(170, 240)
        image[inside] = colour + 6 * noise[inside][:, None]
        cv2.rectangle(
            image,
            (cx - half_width // 2, y - half_height * 3 // 4),
            (cx + half_width // 2, y - half_height // 5),
            (25, 30, 40),
            -1,
        )
        label[inside] = car

    # the ego vehicle's bonnet: not a class
    ego = height - int(rng.uniform(0.03, 0.08) * height)
    image[ego:] = (15, 15, 18)
    image[ego:] += 3 * noise[ego:, :, None]
    label[ego:] = 255

    image *= rng.uniform(0.75, 1.15)  # the day's light
    image += rng.normal(0, 5, image.shape).astype(np.float32)
    return np.clip(image, 0, 255).astype(np.uint8), label


def demo_write_atomically(path, write):
    """Write through a temporary name, then rename: readers never see half a file, and
    processes generating the same data concurrently do not clash."""
    stem, ext = os.path.splitext(path)
    tmp = f"{stem}.tmp{os.getpid()}{ext}"
    if write(tmp) is False:
        raise SegDataError(f"{path}: cannot be written")
    os.replace(tmp, path)


def demo_write_text(path, text):
    def write(tmp):
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)

    demo_write_atomically(path, write)


def make_demo_data(root=DEMO_DATA_DIR):
    """Write the demo dataset under root and return root: images/image_NNN.png (RGB),
    labels/label_NNN.png (class ids, 255 ignored), train.txt and val.txt file lists.
    Deterministic; does nothing when root already holds a complete copy."""
    marker = os.path.join(root, DEMO_MARKER)
    if os.path.isfile(marker):
        with open(marker, encoding="utf-8") as f:
            if f.readline().strip() == DEMO_VERSION:
                return root
    for folder in ("images", "labels"):
        os.makedirs(os.path.join(root, folder), exist_ok=True)
    rng = np.random.default_rng(DEMO_SEED)
    lines = []
    for index in range(DEMO_TRAIN_IMAGES + DEMO_VAL_IMAGES):
        image, label = demo_scene(rng)
        image_name, label_name = f"images/image_{index:03d}.png", f"labels/label_{index:03d}.png"
        bgr = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
        demo_write_atomically(os.path.join(root, image_name), lambda p, a=bgr: cv2.imwrite(p, a))
        demo_write_atomically(os.path.join(root, label_name), lambda p, a=label: cv2.imwrite(p, a))
        lines.append(f"{image_name} {label_name}\n")
    demo_write_text(os.path.join(root, "train.txt"), "".join(lines[:DEMO_TRAIN_IMAGES]))
    demo_write_text(os.path.join(root, "val.txt"), "".join(lines[DEMO_TRAIN_IMAGES:]))
    demo_write_text(marker, f"{DEMO_VERSION}\nclasses: {' '.join(DEMO_CLASS_NAMES)}\n")
    return root


def load_dataset(dataset_spec, data, split, transforms, list_path=None, seed=0, target_maps=None):
    """The 'train' or 'val' split of the data a run names, as a SegDataset (an
    `evaluation` one for 'val').

    `data` is 'demo' (the demo data in ./demo_data, written on first use) or a dataset
    root replacing the spec's; `list_path` (a PaddleSeg file list) replaces the spec's
    list or folder layout for this split; `target_maps` as SegDataset takes them.
    """
    evaluation = split == "val"
    if data == "demo":
        root = make_demo_data(DEMO_DATA_DIR)
        samples = file_list_samples(root, list_path or f"{split}.txt")
        return SegDataset(samples, transforms, DEMO_NUM_CLASSES, 255, seed, target_maps, evaluation)
    root = data or dataset_spec["root"]
    if not os.path.isdir(root):
        raise SegDataError(
            f"{root}: dataset folder does not exist; pass --data DIR "
            "(or --data demo for the built-in demo data)"
        )
    list_path = list_path or dataset_spec.get(f"{split}_list")
    if list_path:
        samples = file_list_samples(root, list_path)
    elif dataset_spec["type"] == "Cityscapes":
        samples = cityscapes_samples(root, split)
    elif dataset_spec["type"] == "ADE20K":
        samples = ade20k_samples(root, split)
    elif dataset_spec["type"] == "EG1800":
        samples = eg1800_samples(root, split)
    elif dataset_spec["type"] == "AutoNue":
        samples = autonue_samples(root, split)
    else:
        raise SegDataError(f"{root}: the spec names no {split} file list; pass --{split}-list")
    # the dataset type's label rules hold for its file lists too
    dataset_class = {"ADE20K": ADE20KDataset, "EG1800": EG1800Dataset}.get(
        dataset_spec["type"], SegDataset
    )
    return dataset_class(
        samples,
        transforms,
        dataset_spec["num_classes"],
        dataset_spec.get("ignore_index", 255),
        seed,
        target_maps,
        evaluation,
    )
