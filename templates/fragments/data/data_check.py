"""Check training data before spending hours on it: every image and label read once,
each problem one line naming its file, and the label values counted, so that the
common mistakes (0/255 masks, classes counted from 1, too small a class count) are
named with their fix. train.py --check-data runs it over every sample; every run
checks its first samples before the first training step."""

import numpy as np

from ..runtime.errors import report_error
from .datasets import SegDataError, read_image, read_label

# Samples of each split a training run reads before its first step.
DATA_CHECK_AT_START = 8


def check_samples(dataset, limit=None):
    """(problems, histogram) over the dataset's first `limit` samples (all without): one
    line per problem, naming the file; the label values' pixel counts (256 bins), over
    the labels that could be read."""
    problems = []
    histogram = np.zeros(256, np.int64)
    for image_path, label_path in dataset.samples[:limit]:
        image = label = None
        try:
            image = read_image(image_path)
        except SegDataError as error:
            problems.append(str(error))
        try:
            label = dataset.prepare_label(read_label(label_path))
        except SegDataError as error:
            problems.append(str(error))
        if label is None:
            continue
        histogram += np.bincount(label.ravel(), minlength=256)
        if image is not None:
            try:
                dataset.check_label(label, label_path, image.shape[:2])
            except SegDataError as error:
                problems.append(str(error))
    return problems, histogram


def label_value_advice(histogram, num_classes, ignore_index, whole=True):
    """What the label values of a split say of a common mistake, with its fix, or None:
    binary masks saved as 0/255 (their foreground is the ignore value: only said of a
    `whole` split, whose other labels cannot hold a class), or class ids counted from 1
    (the values 1..num_classes exactly)."""
    present = set(np.flatnonzero(histogram).tolist())
    classes = present - {ignore_index}
    if whole and ignore_index in present and classes <= {0}:
        return (
            f"the labels hold only 0 and the ignore value {ignore_index}, so there is "
            f"nothing to learn: binary masks saved as 0/{ignore_index}? Save the foreground "
            f"as 1 (label // {ignore_index}), or pass --ignore-index for your data"
        )
    if classes == set(range(1, num_classes + 1)):
        return (
            f"the labels hold 1..{num_classes} and no 0: class ids counted from 1? They "
            "count from 0 here, as in PaddleSeg: subtract 1 (keeping the ignore value)"
        )
    return None  # values beyond the classes: each file's line says what to pass


def histogram_line(histogram, most=12):
    """'label values (share of pixels): 0 61.2%, 1 30.1%, 255 8.7%', the commonest first."""
    total = max(int(histogram.sum()), 1)
    values = sorted(np.flatnonzero(histogram), key=lambda v: -histogram[v])
    shares = ", ".join(f"{v} {100 * histogram[v] / total:.1f}%" for v in values[:most])
    more = f" (+{len(values) - most} more values)" if len(values) > most else ""
    return f"label values (share of pixels): {shares}{more}"


def report_data_check(splits, limit=None, verbose=False, report=True):
    """Check each (name, dataset) of `splits` (a None dataset is skipped); print every
    problem as one `error:` line, then the advice its label values give (unless not
    `report`: the other processes of a distributed run). With `verbose`, also one
    summary and histogram line per split. True when nothing was found."""
    clean = True
    for name, dataset in splits:
        if dataset is None:
            continue
        problems, histogram = check_samples(dataset, limit)
        advice = label_value_advice(
            histogram, dataset.num_classes, dataset.ignore_index, whole=limit is None
        )
        for problem in problems if report else ():
            report_error(problem)
        if advice and report:
            report_error(f"{name} split: {advice}")
        clean = clean and not problems and not advice
        if verbose and report:
            checked = len(dataset.samples[:limit])
            print(f"{name}: {checked} samples, {len(problems)} problem(s)")
            print(f"{name}: {histogram_line(histogram)}")
    return clean
