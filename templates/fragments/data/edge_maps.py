"""Edge maps of segmentation labels, the target of the losses that supervise a model's
boundary output (GSCNN's shape stream, DecoupledSegNet's edge branch).

The definition is PaddleSeg's `mask_to_binary_edge(label, radius=2, num_classes)`,
computed after the training transforms; PaddleSeg measures it with one Euclidean
distance transform per class, here two morphological filters over the whole label do.
"""

import cv2
import numpy as np

# Radius PaddleSeg's training data uses for edge maps (`edge: True` datasets).
EDGE_MAP_RADIUS = 2


def disk_kernel(radius):
    """Structuring element of the pixels within Euclidean distance `radius` of the centre."""
    offsets = np.arange(-radius, radius + 1)
    return (offsets[:, None] ** 2 + offsets[None, :] ** 2 <= radius**2).astype(np.uint8)


def binary_edge_map(label, num_classes, ignore_index, radius=EDGE_MAP_RADIUS):
    """An int64 map like `label`: 1 on class boundaries, 0 inside regions, and
    ignore_index where the label holds no class (the ignored pixels), so that losses
    skip those pixels too.

    A class pixel is on a boundary when a pixel within `radius` of it belongs to
    another class, to none, or lies outside the image, which is what PaddleSeg's
    distance transforms compute (its border padding counts as no class). That holds
    exactly when the largest and the smallest label value over the disk around the
    pixel differ, the image being padded with a different value for each. (PaddleSeg
    also gives pixels of no class 0 or 1; here they stay ignored.)
    """
    label = np.asarray(label)
    values = label.astype(np.uint8)  # class ids and the ignore value are 0..255
    kernel = disk_kernel(radius)
    largest = cv2.dilate(values, kernel, borderType=cv2.BORDER_CONSTANT, borderValue=255)
    smallest = cv2.erode(values, kernel, borderType=cv2.BORDER_CONSTANT, borderValue=0)
    edge = (largest != smallest).astype(np.int64)
    edge[label >= num_classes] = ignore_index
    return edge
