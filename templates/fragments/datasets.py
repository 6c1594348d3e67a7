"""Datasets: PaddleSeg file lists, the Cityscapes layout and the built-in demo data."""

import glob
import os

import cv2
import numpy as np

# The demo dataset: synthetic street scenes, written on first use, no download.
DEMO_CLASS_NAMES = ("sky", "building", "road", "car")
DEMO_NUM_CLASSES = len(DEMO_CLASS_NAMES)
DEMO_DATA_DIR = "demo_data"
DEMO_SPLITS = {"train": 24, "val": 8}
DEMO_IMAGE_SIZE = (512, 256)  # width, height
DEMO_SEED = 20240611


class SegDataError(Exception):
    """Bad input data; the message is one line that names the file and the problem."""


def read_image(path):
    """An RGB uint8 image."""
    if not os.path.isfile(path):
        raise SegDataError(f"{path}: image does not exist")
    image = cv2.imread(path, cv2.IMREAD_COLOR)
    if image is None:
        raise SegDataError(f"{path}: cannot be read as an image")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def read_label(path):
    """A single-channel uint8 map of class ids."""
    if not os.path.isfile(path):
        raise SegDataError(f"{path}: label does not exist")
    label = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if label is None:
        raise SegDataError(f"{path}: cannot be read as a label image")
    if label.ndim == 3:
        raise SegDataError(f"{path}: label has {label.shape[2]} channels; expected a "
                           "single-channel image of class ids (e.g. *_labelTrainIds.png)")
    if label.dtype != np.uint8:
        if label.max() > 255:
            raise SegDataError(f"{path}: label value {int(label.max())} is above 255")
        label = label.astype(np.uint8)
    return label


class SegDataset:
    """(image, label) pairs run through transforms; key k reads sample k % len(self)
    with augmentation seed (seed, k), so augmentation is reproducible in any worker."""

    def __init__(self, samples, transforms, num_classes, ignore_index=255, seed=0):
        self.samples = list(samples)
        self.transforms = transforms
        self.num_classes = num_classes
        self.ignore_index = ignore_index
        self.seed = seed

    def __len__(self):
        return len(self.samples)

    def __getitem__(self, key):
        image_path, label_path = self.samples[key % len(self.samples)]
        image = read_image(image_path)
        label = read_label(label_path)
        if label.shape != image.shape[:2]:
            raise SegDataError(
                f"{label_path}: label is {label.shape[1]}x{label.shape[0]} but its image "
                f"{image_path} is {image.shape[1]}x{image.shape[0]}")
        values = np.unique(label)
        bad = values[(values >= self.num_classes) & (values != self.ignore_index)]
        if bad.size:
            raise SegDataError(
                f"{label_path}: label value {int(bad[0])} is not a class (num_classes "
                f"{self.num_classes}) nor the ignore value {self.ignore_index}")
        rng = np.random.default_rng([self.seed, key])
        return self.transforms(image, label, rng)


def file_list_samples(root, list_path):
    """Pairs from a PaddleSeg file list: 'image label' per line, relative to root."""
    if not os.path.isfile(list_path):
        relative = os.path.join(root, list_path)
        if not os.path.isfile(relative):
            raise SegDataError(f"{list_path}: file list does not exist")
        list_path = relative
    samples = []
    with open(list_path, encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            fields = line.split()
            if not fields:
                continue
            if len(fields) != 2:
                raise SegDataError(f"{list_path}:{number}: expected 'image label', "
                                   f"got {line.strip()!r}")
            samples.append(tuple(os.path.join(root, field) for field in fields))
    if not samples:
        raise SegDataError(f"{list_path}: file list has no samples")
    for image_path, label_path in samples:
        for path in (image_path, label_path):
            if not os.path.isfile(path):
                raise SegDataError(f"{path}: listed in {list_path} but does not exist")
    return samples


def cityscapes_samples(root, split):
    """Pairs from the Cityscapes layout, sorted by file name."""
    pattern = os.path.join(root, "leftImg8bit", split, "*", "*_leftImg8bit.png")
    images = sorted(glob.glob(pattern))
    if not images:
        raise SegDataError(
            f"{root}: no Cityscapes images for split '{split}'; expected "
            f"{root}/leftImg8bit/{split}/<city>/*_leftImg8bit.png and "
            f"{root}/gtFine/{split}/<city>/*_gtFine_labelTrainIds.png, or pass file lists")
    samples = []
    for image_path in images:
        city = os.path.basename(os.path.dirname(image_path))
        stem = os.path.basename(image_path)[:-len("_leftImg8bit.png")]
        label_path = os.path.join(root, "gtFine", split, city,
                                  f"{stem}_gtFine_labelTrainIds.png")
        if not os.path.isfile(label_path):
            raise SegDataError(f"{label_path}: label of {image_path} does not exist "
                               "(createTrainIdLabelImgs.py of cityscapesScripts writes it)")
        samples.append((image_path, label_path))
    return samples


def demo_scene(rng):
    """One synthetic street scene: sky, a row of buildings, a road and a few cars."""
    width, height = DEMO_IMAGE_SIZE
    label = np.zeros((height, width), np.uint8)
    horizon = int(rng.uniform(0.35, 0.5) * height)
    for _ in range(rng.integers(4, 8)):  # buildings standing on the horizon
        left = int(rng.uniform(-0.1, 0.9) * width)
        top = int(rng.uniform(0.05, 0.3) * height)
        right = left + int(rng.uniform(0.12, 0.35) * width)
        label[top:horizon, max(left, 0):right] = 1
    label[horizon:] = 2  # road up to the horizon
    for _ in range(rng.integers(1, 4)):  # cars on the road
        y = int(rng.uniform(horizon + 0.2 * (height - horizon), height * 0.95))
        size = (y - horizon) / (height - horizon)
        center = (int(rng.uniform(0.3, 0.7) * width), y)
        axes = (int(40 * size + 10), int(18 * size + 5))
        cv2.ellipse(label, center, axes, 0, 0, 360, 3, thickness=-1)

    palette = np.array([[120, 170, 235], [150, 120, 100], [70, 70, 75], [200, 30, 40]],
                       np.float32)
    palette += rng.normal(0, 12, palette.shape)  # per-image colours
    image = palette[label]
    sky = label == 0
    image[sky] += np.linspace(0, 40, height, dtype=np.float32)[:, None].repeat(width, 1)[sky][
        :, None]  # brighter towards the horizon
    windows = (np.indices((height, width)).sum(0) // 6 % 3 == 0) & (label == 1)
    image[windows] *= 0.7  # a facade texture
    image *= rng.uniform(0.7, 1.2)  # lighting
    image += rng.normal(0, 10, image.shape)
    return np.clip(image, 0, 255).astype(np.uint8), label


def write_png_atomically(path, array):
    tmp = f"{path[:-len('.png')]}.tmp.png"
    if not cv2.imwrite(tmp, array):
        raise SegDataError(f"{path}: cannot be written")
    os.replace(tmp, path)


def make_demo_data(root=DEMO_DATA_DIR):
    """Write the demo dataset under root (deterministic; skipped when already complete)."""
    marker = os.path.join(root, "COMPLETE")
    if os.path.isfile(marker):
        return root
    for folder in ("images", "labels"):
        os.makedirs(os.path.join(root, folder), exist_ok=True)
    rng = np.random.default_rng(DEMO_SEED)
    for split, count in DEMO_SPLITS.items():
        lines = []
        for index in range(count):
            image, label = demo_scene(rng)
            name = f"{split}_{index:03d}.png"
            write_png_atomically(os.path.join(root, "images", name),
                                 cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
            write_png_atomically(os.path.join(root, "labels", name), label)
            lines.append(f"images/{name} labels/{name}\n")
        with open(os.path.join(root, f"{split}.txt"), "w", encoding="utf-8") as f:
            f.writelines(lines)
    with open(marker, "w", encoding="utf-8") as f:
        f.write(" ".join(DEMO_CLASS_NAMES) + "\n")
    return root


def load_dataset(dataset_spec, data, split, transforms, list_path=None, seed=0):
    """The training ('train') or evaluation ('val') split of the data a run names.

    `data` is 'demo' or a dataset root replacing the spec's; `list_path` (a PaddleSeg
    file list) replaces the spec's list or folder layout for this split.
    """
    if data == "demo":
        root = make_demo_data()
        samples = file_list_samples(root, list_path or os.path.join(root, f"{split}.txt"))
        return SegDataset(samples, transforms, DEMO_NUM_CLASSES, 255, seed)
    root = data or dataset_spec["root"]
    if not os.path.isdir(root):
        raise SegDataError(f"{root}: dataset folder does not exist; pass --data DIR "
                           "(or --data demo for the built-in demo data)")
    list_path = list_path or dataset_spec.get(f"{split}_list")
    if list_path:
        samples = file_list_samples(root, list_path)
    elif dataset_spec["type"] == "Cityscapes":
        samples = cityscapes_samples(root, split)
    else:
        raise SegDataError(f"{root}: no {split} file list; pass --{split}-list")
    return SegDataset(samples, transforms, dataset_spec["num_classes"],
                      dataset_spec["ignore_index"], seed)
