"""Segmentation metrics from a confusion matrix."""

import numpy as np


def confusion_matrix(prediction, label, num_classes, ignore_index):
    """num_classes x num_classes counts, rows the true class, columns the prediction."""
    keep = label != ignore_index
    pairs = label[keep].astype(np.int64) * num_classes + prediction[keep].astype(np.int64)
    counts = np.bincount(pairs, minlength=num_classes * num_classes)
    return counts.reshape(num_classes, num_classes)


def segmentation_metrics(confusion):
    """PaddleSeg 2.8's evaluation figures from a confusion matrix: mIoU and per-class IoU,
    pixel accuracy, Cohen's kappa, mean and per-class Dice, per-class precision and
    recall.

    Classes absent from both labels and predictions get IoU 0 and count in the mean,
    as in PaddleSeg's evaluation; a class with no predicted (labelled) pixel has
    precision (recall) 0.
    """
    confusion = confusion.astype(np.float64)
    true_positive = np.diag(confusion)
    label_area = confusion.sum(axis=1)
    pred_area = confusion.sum(axis=0)
    total = confusion.sum()

    def ratio(numerator, denominator):
        return np.divide(
            numerator, denominator, out=np.zeros_like(denominator), where=denominator > 0
        )

    class_iou = ratio(true_positive, label_area + pred_area - true_positive)
    class_dice = ratio(2 * true_positive, label_area + pred_area)
    accuracy = true_positive.sum() / total if total else 0.0
    expected = (label_area * pred_area).sum() / total**2 if total else 0.0
    kappa = (accuracy - expected) / (1 - expected) if expected < 1 else 0.0
    return {
        "miou": float(class_iou.mean()),
        "accuracy": float(accuracy),
        "kappa": float(kappa),
        "dice": float(class_dice.mean()),
        "class_iou": [float(v) for v in class_iou],
        "class_precision": [float(v) for v in ratio(true_positive, pred_area)],
        "class_recall": [float(v) for v in ratio(true_positive, label_area)],
        "class_dice": [float(v) for v in class_dice],
    }
