"""Segmentation metrics from a confusion matrix."""

import numpy as np


def confusion_matrix(prediction, label, num_classes, ignore_index):
    """num_classes x num_classes counts, rows the true class, columns the prediction."""
    keep = label != ignore_index
    pairs = label[keep].astype(np.int64) * num_classes + prediction[keep].astype(np.int64)
    counts = np.bincount(pairs, minlength=num_classes * num_classes)
    return counts.reshape(num_classes, num_classes)


def segmentation_metrics(confusion):
    """mIoU, per-class IoU, pixel accuracy, per-class accuracy and Cohen's kappa.

    Classes absent from both labels and predictions get IoU 0 and count in the mean,
    as in PaddleSeg's evaluation.
    """
    confusion = confusion.astype(np.float64)
    true_positive = np.diag(confusion)
    label_area = confusion.sum(axis=1)
    pred_area = confusion.sum(axis=0)
    total = confusion.sum()
    union = label_area + pred_area - true_positive
    class_iou = np.divide(true_positive, union, out=np.zeros_like(union), where=union > 0)
    class_acc = np.divide(
        true_positive, pred_area, out=np.zeros_like(pred_area), where=pred_area > 0
    )
    accuracy = true_positive.sum() / total if total else 0.0
    expected = (label_area * pred_area).sum() / total**2 if total else 0.0
    kappa = (accuracy - expected) / (1 - expected) if expected < 1 else 0.0
    return {
        "miou": float(class_iou.mean()),
        "accuracy": float(accuracy),
        "kappa": float(kappa),
        "class_iou": [float(v) for v in class_iou],
        "class_accuracy": [float(v) for v in class_acc],
    }
