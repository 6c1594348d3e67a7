"""The command line of every generated evaluate.py (PaddleSeg's tools/val.py): trained
weights scored on a validation set in PaddleSeg's evaluation modes, the figures per
class under the dataset's class names, and with --save-dir metrics.json and the
confusion matrix (CSV, and a PNG where matplotlib is installed)."""

import argparse
import csv
import importlib
import json
import os
import time

import numpy as np
import paddle

from ..data.datasets import DEMO_NUM_CLASSES, SegDataError, load_dataset
from .errors import fail
from .evaluation import InferenceMode, dataset_class_names, evaluate_confusion
from .exporting import export_num_classes, find_model_weights, load_export_weights
from .metrics import segmentation_metrics
from .training import check_dataset_overrides


def add_model_path_argument(parser):
    """--model-path, the trained weights evaluate.py and predict.py load."""
    parser.add_argument(
        "--model-path",
        required=True,
        help="trained weights: a .pdparams file, a checkpoint folder, or train.py's"
        " --save-dir (its best_model, else its latest checkpoint)",
    )


def add_inference_mode_arguments(parser, spec, aug_flags=("--aug-eval",)):
    """PaddleSeg's evaluation and prediction mode flags (hyphens for its underscores);
    the spec's evaluation (its test_config: scales, sliding windows) is the default."""
    slide = spec["val"]["slide"]
    group = parser.add_argument_group(
        "inference mode",
        "PaddleSeg's modes; by default "
        + (
            "the whole image"
            if slide is None
            else "the spec's sliding {}x{} windows every {}x{} pixels".format(
                *slide["crop_size"], *slide["stride"]
            )
        )
        + (
            ""
            if spec["val"]["scales"] == [1.0]
            else f" at the spec's evaluation scales ({', '.join(map(str, spec['val']['scales']))})"
        ),
    )
    group.add_argument(
        "--whole-image",
        action="store_true",
        help="each image at once" + ("" if slide is None else ", not in the spec's windows"),
    )
    group.add_argument(
        "--is-slide",
        "--slide",
        dest="is_slide",
        action="store_true",
        help="sliding windows of --crop-size every --stride pixels, logits averaged where "
        "they overlap (for images larger than the model was trained on)",
    )
    group.add_argument(
        "--crop-size",
        type=int,
        nargs=2,
        metavar=("W", "H"),
        help="sliding window size" + ("" if slide is None else " (default: the spec's)"),
    )
    group.add_argument(
        "--stride",
        type=int,
        nargs=2,
        metavar=("W", "H"),
        help="sliding window step" + ("" if slide is None else " (default: the spec's)"),
    )
    group.add_argument(
        *aug_flags,
        dest="aug",
        action="store_true",
        help="test-time augmentation: the image at each of --scales, also flipped with "
        "--flip-horizontal / --flip-vertical, logits averaged",
    )
    group.add_argument(
        "--scales",
        type=float,
        nargs="+",
        metavar="S",
        help="input scales, logits averaged (default: the spec's, "
        f"{' '.join(map(str, spec['val']['scales']))}; 1 alone: the whole image at its size)",
    )
    group.add_argument(
        "--flip-horizontal", action="store_true", help="augmentation: also left-right flipped"
    )
    group.add_argument(
        "--flip-vertical", action="store_true", help="augmentation: also upside down"
    )


def inference_mode_from_arguments(parser, args, spec):
    """The InferenceMode the mode flags ask for; a bad combination stops with one line.
    Augmentation is on with --aug-eval, a flip, or scales other than just 1 (--scales, or
    else the spec's: PP-LiteSeg's recipe evaluates at half scale, as training does);
    --scales 1 alone is the whole image at its size. Windows are the spec's when it
    slides (SETR's, Segmenter's recipes), unless --whole-image; --crop-size and --stride
    replace the spec's."""
    slide = spec["val"]["slide"]
    if args.whole_image and args.is_slide:
        parser.error("--whole-image and --is-slide exclude each other")
    windows_given = args.crop_size is not None or args.stride is not None
    if windows_given and not args.is_slide and (slide is None or args.whole_image):
        parser.error("--crop-size and --stride go with --is-slide")
    if slide is not None and not args.whole_image:
        args.is_slide = True
        args.crop_size = args.crop_size or slide["crop_size"]
        args.stride = args.stride or slide["stride"]
    if args.is_slide and (args.crop_size is None or args.stride is None):
        parser.error("--is-slide needs --crop-size W H and --stride W H")
    if args.is_slide:
        if min(args.crop_size) < 1 or min(args.stride) < 1:
            parser.error("--crop-size and --stride must be positive W H")
        if args.stride[0] > args.crop_size[0] or args.stride[1] > args.crop_size[1]:
            parser.error("--stride must not exceed --crop-size: windows would leave pixels out")
    scales = args.scales or spec["val"]["scales"]
    if not all(0 < scale <= 4 for scale in scales):
        parser.error("--scales must be numbers in (0, 4]")
    aug = args.aug or args.flip_horizontal or args.flip_vertical or list(scales) != [1.0]
    return InferenceMode(
        aug=aug,
        scales=scales,
        flip_horizontal=args.flip_horizontal,
        flip_vertical=args.flip_vertical,
        crop_size=args.crop_size if args.is_slide else None,
        stride=args.stride if args.is_slide else None,
    )


def load_trained_model(spec, build_model, model_path, num_classes=None, data=None):
    """(model in eval mode, weights file, class count) for --model-path: the weights
    train.py saved (a .pdparams file, a checkpoint folder or a --save-dir), loaded
    strictly; the class count is --num-classes, else meta.json's beside the weights,
    else the data's (the demo's, or the spec's)."""
    weights = find_model_weights(model_path)
    if data == "demo":
        spec = {"dataset": {"num_classes": DEMO_NUM_CLASSES}}
    num_classes = export_num_classes(spec, weights, num_classes)
    model = build_model(num_classes)
    load_export_weights(model, weights)
    model.eval()
    return model, weights, num_classes


def evaluate_arguments(spec, argv):
    parser = argparse.ArgumentParser(
        description=f"Evaluate trained {spec['name']} weights on a validation set "
        "(mIoU, per-class IoU, accuracy, kappa, Dice), as PaddleSeg's tools/val.py does."
    )
    add_model_path_argument(parser)
    parser.add_argument(
        "--data",
        default=spec["dataset"]["root"],
        help="dataset root folder, or 'demo' for the built-in demo data (default: %(default)s)",
    )
    parser.add_argument(
        "--val-list", help="PaddleSeg file list to evaluate ('image label' per line)"
    )
    parser.add_argument(
        "--num-classes",
        type=int,
        help="classes of the weights and data (default: meta.json beside the weights, "
        "else the data's)",
    )
    parser.add_argument(
        "--ignore-index",
        type=int,
        help=f"label value left out of the metrics (default: {spec['dataset']['ignore_index']})",
    )
    parser.add_argument(
        "--save-dir",
        help="write metrics.json, confusion_matrix.csv and (with matplotlib) "
        "confusion_matrix.png here",
    )
    add_inference_mode_arguments(parser, spec)
    parser.add_argument(
        "--device",
        choices=["cpu", "gpu"],
        default="gpu" if paddle.is_compiled_with_cuda() else "cpu",
    )
    args = parser.parse_args(argv)
    check_dataset_overrides(parser, args)
    args.mode = inference_mode_from_arguments(parser, args, spec)
    return args


def metrics_table(metrics, names):
    """The per-class figures as aligned text lines, one class a line."""
    width = max(len("class"), *(len(name) for name in names))
    columns = ("IoU", "precision", "recall", "Dice")
    lines = [f"{'class':<{width}}  " + "  ".join(f"{c:>9}" for c in columns)]
    for index, name in enumerate(names):
        values = [
            metrics[key][index]
            for key in ("class_iou", "class_precision", "class_recall", "class_dice")
        ]
        lines.append(f"{name:<{width}}  " + "  ".join(f"{v:>9.4f}" for v in values))
    return lines


def write_file_whole(path, write, binary=False):
    """write(file) into a temporary name beside `path`, then rename: the file is complete
    or absent."""
    temporary = f"{path}.partial-{os.getpid()}"
    try:
        with open(temporary, "wb" if binary else "w", encoding=None if binary else "utf-8") as f:
            write(f)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def write_confusion_csv(path, confusion, names):
    """Rows: the label's class; columns: the predicted class; counts of pixels."""

    def write(f):
        table = csv.writer(f, lineterminator="\n")
        table.writerow(["label \\ prediction", *names])
        for name, row in zip(names, confusion):
            table.writerow([name, *(int(v) for v in row)])

    write_file_whole(path, write)


def write_confusion_png(path, confusion, names):
    """The confusion matrix as a picture, each row as shares of its label's pixels (the
    recall on the diagonal); False when matplotlib is not installed."""
    try:
        matplotlib = importlib.import_module("matplotlib")
    except ImportError:
        return False
    matplotlib.use("Agg")  # no display needed
    pyplot = importlib.import_module("matplotlib.pyplot")
    rows = confusion.sum(axis=1, keepdims=True)
    shares = np.divide(confusion, rows, out=np.zeros(confusion.shape), where=rows > 0)
    side = 2.5 + 0.45 * len(names)
    figure, axes = pyplot.subplots(figsize=(side + 1.5, side))
    image = axes.imshow(shares, cmap="Blues", vmin=0.0, vmax=1.0)
    figure.colorbar(image, ax=axes, fraction=0.046, pad=0.04, label="share of the label's pixels")
    axes.set_xticks(range(len(names)), names, rotation=60, ha="right")
    axes.set_yticks(range(len(names)), names)
    axes.set_xlabel("prediction")
    axes.set_ylabel("label")
    if len(names) <= 25:  # the shares themselves where they stay legible
        for (row, column), share in np.ndenumerate(shares):
            colour = "white" if share > 0.5 else "black"
            axes.text(
                column, row, f"{share:.2f}", ha="center", va="center", fontsize=7, color=colour
            )
    figure.tight_layout()
    write_file_whole(path, lambda f: figure.savefig(f, format="png", dpi=120), binary=True)
    pyplot.close(figure)
    return True


def save_evaluation(save_dir, record, confusion, names):
    """metrics.json, confusion_matrix.csv and confusion_matrix.png in save_dir."""
    try:
        os.makedirs(save_dir, exist_ok=True)
    except OSError as error:
        fail(f"{save_dir}: cannot create the results folder ({error.strerror})")
    written = ["metrics.json", "confusion_matrix.csv"]
    try:
        write_file_whole(
            os.path.join(save_dir, "metrics.json"), lambda f: json.dump(record, f, indent=2)
        )
        write_confusion_csv(os.path.join(save_dir, "confusion_matrix.csv"), confusion, names)
        if write_confusion_png(os.path.join(save_dir, "confusion_matrix.png"), confusion, names):
            written.append("confusion_matrix.png")
        else:
            print("confusion_matrix.png skipped: it needs matplotlib (pip install matplotlib)")
    except OSError as error:
        fail(f"{save_dir}: cannot write the results there ({error.strerror})")
    print(f"wrote {', '.join(written)} to {save_dir}")


def evaluate_main(spec, *, build_model, build_transforms, argv=None):
    """evaluate.py: score trained weights on the validation data and report the figures."""
    args = evaluate_arguments(spec, argv)
    if args.device == "gpu" and not paddle.is_compiled_with_cuda():
        fail("--device gpu: this Paddle is built without CUDA; use --device cpu")
    paddle.set_device(args.device)
    model, weights, num_classes = load_trained_model(
        spec, build_model, args.model_path, args.num_classes, args.data
    )
    dataset_spec = dict(spec["dataset"], num_classes=num_classes)
    if args.ignore_index is not None:
        dataset_spec["ignore_index"] = args.ignore_index
    try:
        dataset = load_dataset(
            dataset_spec,
            args.data,
            "val",
            build_transforms(False, ignore_index=args.ignore_index),
            list_path=args.val_list,
        )
    except SegDataError as error:
        fail(str(error))
    if dataset.num_classes != num_classes:
        fail(
            f"{weights}: weights of {num_classes} classes, but the demo data has "
            f"{dataset.num_classes}; pass weights trained on it (train.py --data demo)"
        )
    names = dataset_class_names(dataset_spec, args.data, num_classes)
    print(
        f"evaluating {weights} on {len(dataset)} images ({num_classes} classes): "
        f"{args.mode.describe()}",
        flush=True,
    )
    started, step = time.time(), max(1, len(dataset) // 10)

    def progress(done, total):  # a line per tenth of a long evaluation
        if total >= 20 and done % step == 0 and done < total:
            print(f"  {done}/{total} images, {time.time() - started:.1f} s", flush=True)

    try:
        confusion = evaluate_confusion(model, dataset, args.mode, progress)
    except SegDataError as error:
        fail(str(error))
    metrics = segmentation_metrics(confusion)
    print(
        f"[EVAL] #Images: {len(dataset)} mIoU: {metrics['miou']:.4f} "
        f"Acc: {metrics['accuracy']:.4f} Kappa: {metrics['kappa']:.4f} "
        f"Dice: {metrics['dice']:.4f} ({time.time() - started:.1f} s)"
    )
    print("\n".join(metrics_table(metrics, names)))
    if args.save_dir:
        record = {
            "model_path": weights,
            "data": args.data,
            "images": len(dataset),
            "mode": args.mode.as_dict(),
            **{key: metrics[key] for key in ("miou", "accuracy", "kappa", "dice")},
            "classes": [
                {
                    "name": name,
                    "iou": metrics["class_iou"][index],
                    "precision": metrics["class_precision"][index],
                    "recall": metrics["class_recall"][index],
                    "dice": metrics["class_dice"][index],
                }
                for index, name in enumerate(names)
            ],
            "confusion_matrix": confusion.tolist(),
        }
        save_evaluation(args.save_dir, record, confusion, names)
