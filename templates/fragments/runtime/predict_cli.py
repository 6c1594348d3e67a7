"""The command line of every generated predict.py (PaddleSeg's tools/predict.py): the
trained dynamic model, no export needed, on images, folders or lists, in the same modes
as evaluate.py; label masks and colour overlays out, named and coloured as infer.py's."""

import argparse
import os
import time

import cv2
import numpy as np
import paddle

from ..data.image_files import ImageFileError, read_image_file
from .errors import fail, report_error, stop
from .evaluate_cli import (
    add_inference_mode_arguments,
    add_model_path_argument,
    inference_mode_from_arguments,
    load_trained_model,
)
from .evaluation import predict_classes
from .infer_cli import (
    infer_output_names,
    list_infer_images,
    overlay_segmentation,
    segmentation_palette,
    write_image_whole,
)


def predict_arguments(spec, argv):
    parser = argparse.ArgumentParser(
        description=f"Segment images with trained {spec['name']} weights (the dynamic "
        "model, no export needed), as PaddleSeg's tools/predict.py does."
    )
    add_model_path_argument(parser)
    parser.add_argument(
        "--image",
        required=True,
        help="an image, a folder of images or a .txt list (first column)",
    )
    parser.add_argument(
        "--save-dir",
        default="output/result",
        help="where <stem>.png masks and <stem>_overlay.jpg go (default: %(default)s)",
    )
    parser.add_argument(
        "--num-classes",
        type=int,
        help="classes of the weights (default: meta.json beside them, else the spec's "
        f"{spec['dataset']['num_classes']})",
    )
    add_inference_mode_arguments(parser, spec, aug_flags=("--aug-pred", "--aug-eval"))
    parser.add_argument(
        "--device",
        choices=["cpu", "gpu"],
        default="gpu" if paddle.is_compiled_with_cuda() else "cpu",
    )
    args = parser.parse_args(argv)
    if args.num_classes is not None and not 2 <= args.num_classes <= 256:
        parser.error("--num-classes must be between 2 and 256 (masks are 8-bit images)")
    args.mode = inference_mode_from_arguments(parser, args, spec)
    return args


def predict_image(model, transforms, image, mode):
    """The class map (uint8, the image's size) of one BGR image: the evaluation
    transforms on its RGB float32 copy, as evaluation reads images, then the model under
    `mode`, the transforms' size changes undone on the logits."""
    rgb = cv2.cvtColor(image, cv2.COLOR_BGR2RGB).astype(np.float32)
    restore = []
    batch, _ = transforms(rgb, None, np.random.default_rng(0), restore)
    with paddle.no_grad():
        classes = predict_classes(model, batch, restore=restore, mode=mode)
    return classes.astype(np.uint8)


def predict_main(spec, *, build_model, build_transforms, argv=None):
    """predict.py: segment images with trained weights; write masks and overlays."""
    args = predict_arguments(spec, argv)
    if args.device == "gpu" and not paddle.is_compiled_with_cuda():
        fail("--device gpu: this Paddle is built without CUDA; use --device cpu")
    paddle.set_device(args.device)
    images = list_infer_images(args.image)
    model, weights, num_classes = load_trained_model(
        spec, build_model, args.model_path, args.num_classes
    )
    transforms = build_transforms(False)
    palette = segmentation_palette()
    try:
        os.makedirs(args.save_dir, exist_ok=True)
    except OSError as error:
        fail(f"{args.save_dir}: cannot create the results folder ({error.strerror})")
    print(
        f"predicting {len(images)} image(s) with {weights} ({num_classes} classes): "
        f"{args.mode.describe()}",
        flush=True,
    )
    started, unreadable = time.time(), []
    for path, name in zip(images, infer_output_names(images)):
        try:
            image = read_image_file(path)  # 3-channel BGR
        except ImageFileError as error:  # reported and skipped; the others go on
            report_error(str(error))
            unreadable.append(path)
            continue
        mask = predict_image(model, transforms, image, args.mode)
        overlay = overlay_segmentation(image, mask, palette)
        if not (
            write_image_whole(os.path.join(args.save_dir, f"{name}.png"), mask)
            and write_image_whole(os.path.join(args.save_dir, f"{name}_overlay.jpg"), overlay)
        ):
            fail(f"{args.save_dir}: cannot write results there")
    written = len(images) - len(unreadable)
    if written == 0:
        if len(images) == 1:
            stop(2)  # its one error line said it all
        fail(f"none of the {len(images)} image(s) could be read")
    print(f"wrote {written} masks and overlays to {args.save_dir} ({time.time() - started:.1f} s)")
    if unreadable:
        fail(
            f"{len(unreadable)} of {len(images)} image(s) could not be read (above); "
            "the others were processed"
        )
