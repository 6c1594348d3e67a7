"""The command line of every generated infer.py: images, folders or lists in, label
masks and colour overlays out, and --benchmark's per-stage timing; or a video file or
camera in, the segmented video out (an overlay, or chosen classes over a background);
on the engine --engine names (runtime/engines), or the fastest one (--engine auto)."""

import argparse
import os
import time

import cv2
import numpy as np
import paddle

from ..data.image_files import ImageFileError, read_image_file
from ..data.infer_transforms import (
    infer_normalize_coefficients,
    infer_postprocess,
    infer_preprocess,
)
from .deploy_config import fp16_model_files, load_deploy_config
from .engine_choice import auto_engine
from .engines import INFER_ENGINE_TITLES, default_onnx_file, engine_settings, load_engine
from .errors import fail, report_error
from .onnx_export import ONNX_MODEL_FILE
from .predictor import paddle_has_tensorrt

# File name endings --image picks up in a folder.
INFER_IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp")
# infer.py's engine when --engine is not given: "auto" picks the fastest engine that has
# a model file here and is installed, measured once (runtime/engine_choice); with only
# the Paddle program exported that is Paddle Inference, with no measuring.
INFER_DEFAULT_ENGINE = "auto"


def segmentation_palette(num_colors=256):
    """The PASCAL VOC pseudo-colour palette (class id bits spread over R, G, B) as BGR.

    A 1x256x3 uint8 table for cv2.LUT.
    """
    palette = np.zeros((num_colors, 3), dtype=np.uint8)
    for class_id in range(num_colors):
        label, shift = class_id, 7
        while label:
            for channel in range(3):
                palette[class_id, channel] |= ((label >> channel) & 1) << shift
            label >>= 3
            shift -= 1
    return np.ascontiguousarray(palette[:, ::-1]).reshape(1, num_colors, 3)


def preprocess_as_deployed(image, scale, shift, config):
    """A BGR image through deploy.yaml's size steps (`config` from load_deploy_config)
    and Normalize (`scale`, `shift`), as the exported model takes it: 1x3xHxW."""
    return infer_preprocess(
        image,
        scale,
        shift,
        config["resize"],
        config["padding"],
        config["scale_padding"],
        config["resize_short"],
    )


def overlay_segmentation(image, mask, palette, alpha=0.5):
    """The BGR image blended (1 - alpha : alpha) with the mask's pseudo colours."""
    ids = mask if mask.dtype == np.uint8 else (mask % 256).astype(np.uint8)
    colours = cv2.LUT(cv2.merge([ids, ids, ids]), palette)
    return cv2.addWeighted(image, 1.0 - alpha, colours, alpha, 0.0)


def list_infer_images(path):
    """Image paths --image names: a file, a folder (sorted) or a .txt list (first column)."""
    if os.path.isdir(path):
        images = sorted(
            os.path.join(path, name)
            for name in os.listdir(path)
            if name.lower().endswith(INFER_IMAGE_EXTENSIONS)
            and os.path.isfile(os.path.join(path, name))
        )
        if not images:
            fail(f"{path}: no images found (*{', *'.join(INFER_IMAGE_EXTENSIONS)})")
        return images
    if not os.path.isfile(path):
        fail(f"{path}: image not found")
    if not path.lower().endswith(".txt"):
        return [path]
    base = os.path.dirname(path)
    images = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            fields = line.split()
            if not fields or fields[0].startswith("#"):
                continue
            image = fields[0]
            if not os.path.isabs(image) and not os.path.exists(image):
                image = os.path.join(base, image)  # relative to the list's folder
            images.append(image)
    if not images:
        fail(f"{path}: no images listed")
    return images


def infer_output_names(images):
    """A distinct output stem per image: its file stem, numbered where stems repeat."""
    stems = [os.path.splitext(os.path.basename(image))[0] for image in images]
    seen = {}
    names = []
    for stem in stems:
        count = seen.get(stem, 0)
        seen[stem] = count + 1
        names.append(stem if count == 0 else f"{stem}_{count}")
    return names


def write_image_whole(path, image):
    """cv2.imwrite through a temporary name, so that a result file is complete or absent
    (a run killed mid-write leaves no half image under the final name)."""
    stem, extension = os.path.splitext(path)
    temporary = f"{stem}.partial{extension}"  # the extension tells OpenCV the format
    if not cv2.imwrite(temporary, image):
        return False
    os.replace(temporary, path)
    return True


def infer_arguments(spec, argv):
    parser = argparse.ArgumentParser(
        description=f"Segment images with an exported {spec['name']} model (Paddle "
        "Inference, onnxruntime or OpenVINO)."
    )
    parser.add_argument(
        "--config", required=True, help="deploy.yaml written by export.py, or the folder holding it"
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--image", help="an image, a folder of images or a .txt list (first column)"
    )
    source.add_argument(
        "--video",
        help="a video file, or a camera index (0: the first camera); writes <stem>.mp4 "
        "(camera_<index>.mp4) with each frame segmented",
    )
    parser.add_argument(
        "--keep-classes",
        type=argparse_class_ids,
        metavar="IDS",
        help="video: keep the pixels of these classes (e.g. 1, the person of a "
        "human-segmentation model; several as 1,2) and replace the rest by --background, "
        "instead of the colour overlay",
    )
    parser.add_argument(
        "--background",
        default="255,255,255",
        help="with --keep-classes: a B,G,R colour or an image file (default: white)",
    )
    parser.add_argument(
        "--max-frames",
        type=int,
        default=0,
        help="video: stop after this many frames (default: the whole video; a camera until Ctrl-C)",
    )
    parser.add_argument(
        "--save-dir",
        default="output/result",
        help="where <stem>.png masks and <stem>_overlay.jpg go (default: %(default)s)",
    )
    parser.add_argument("--device", choices=("cpu", "gpu"), default="cpu")
    parser.add_argument(
        "--cpu-threads",
        type=int,
        default=os.cpu_count() or 1,
        help="CPU math threads (default: all cores, %(default)s)",
    )
    parser.add_argument(
        "--no-mkldnn",
        dest="use_onednn",
        action="store_false",
        help="do not use oneDNN (MKL-DNN) kernels on CPU",
    )
    parser.add_argument(
        "--engine",
        choices=("auto", *INFER_ENGINE_TITLES),
        default=None,
        help="paddle: Paddle Inference on the exported program; onnxruntime, openvino: "
        f"the ONNX model (export.py --engines writes {ONNX_MODEL_FILE}; pip install "
        "onnxruntime / openvino); auto: the fastest of those installed with a model here, "
        "measured on the first input and recorded in engines.json beside deploy.yaml "
        f"(default: {INFER_DEFAULT_ENGINE})",
    )
    parser.add_argument(
        "--onnx-file",
        metavar="FILE",
        help=f"the ONNX model for onnxruntime or openvino (default: {ONNX_MODEL_FILE} "
        "beside deploy.yaml), e.g. a quantized one",
    )
    parser.add_argument(
        "--onnx",
        nargs="?",
        const="",
        metavar="FILE",
        help="run the ONNX model with onnxruntime: --engine onnxruntime [--onnx-file FILE]",
    )
    parser.add_argument(
        "--precision",
        choices=("fp32", "fp16"),
        default="fp32",
        help="fp16 (GPU, Paddle Inference): float16 kernels, on export.py --precision "
        "fp16's model_fp16.json when there (default: fp32)",
    )
    parser.add_argument(
        "--use-trt",
        action="store_true",
        help="GPU, Paddle Inference: run through TensorRT (a Paddle built with it), in --precision",
    )
    parser.add_argument(
        "--benchmark",
        action="store_true",
        help="time --repeats passes over the images after --warmup runs",
    )
    parser.add_argument(
        "--warmup",
        type=int,
        default=3,
        help="untimed runs before a benchmark (default: %(default)s)",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=10,
        help="timed passes over the images (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    if args.cpu_threads < 1 or args.warmup < 0 or args.repeats < 1 or args.max_frames < 0:
        parser.error("--cpu-threads and --repeats must be >= 1, --warmup and --max-frames >= 0")
    if args.image is not None and (args.keep_classes is not None or args.max_frames):
        parser.error("--keep-classes and --max-frames go with --video")
    if args.onnx is not None:
        if args.engine not in (None, "onnxruntime"):
            parser.error("--onnx means --engine onnxruntime; give one of them")
        if args.onnx and args.onnx_file:
            parser.error("--onnx FILE and --onnx-file FILE: give the file once")
        args.engine, args.onnx_file = "onnxruntime", args.onnx or args.onnx_file
    args.engine = args.engine or INFER_DEFAULT_ENGINE
    if args.onnx_file and args.engine == "paddle":
        parser.error("--onnx-file goes with --engine onnxruntime, openvino or auto")
    return args


def argparse_class_ids(text):
    """--keep-classes: comma-separated class ids."""
    try:
        ids = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"class ids such as 1 or 1,2, not {text!r}") from None
    if any(not 0 <= i < 256 for i in ids):
        raise argparse.ArgumentTypeError(f"class ids are 0..255, not {text!r}")
    return ids


def open_video_source(source):
    """cv2.VideoCapture of a file, or of a camera for an integer; its output stem."""
    if source.isdigit():
        capture, stem, what = cv2.VideoCapture(int(source)), f"camera_{source}", f"camera {source}"
    else:
        if not os.path.isfile(source):
            fail(f"{source}: video not found")
        capture = cv2.VideoCapture(source)
        stem, what = os.path.splitext(os.path.basename(source))[0], source
    if not capture.isOpened():
        fail(f"{what}: cannot open it as a video (no such camera, or a format OpenCV cannot read)")
    return capture, stem, what


def video_background(text, shape):
    """--background as an image of `shape`: a B,G,R colour, or an image file resized."""
    parts = text.split(",")
    if len(parts) == 3 and all(part.strip().isdigit() for part in parts):
        colour = [min(int(part), 255) for part in parts]
        return np.full(shape, colour, dtype=np.uint8)
    try:
        image = read_image_file(text)
    except ImageFileError as error:
        fail(f"--background: {error} (give a B,G,R colour such as 0,255,0 or an image)")
    return cv2.resize(image, (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)


def keep_classes_frame(frame, mask, keep, background):
    """The frame where the mask holds one of the `keep` classes, the background elsewhere."""
    kept = np.isin(mask, keep)[..., None]
    return np.where(kept, frame, background)


def segment_video(args, segment, palette):
    """infer.py --video: each frame segmented, written as an overlay (or, with
    --keep-classes, those classes over --background) to SAVE_DIR/<stem>.mp4, complete
    or absent. A camera runs until Ctrl-C or --max-frames."""
    capture, stem, what = open_video_source(args.video)
    fps = capture.get(cv2.CAP_PROP_FPS)
    fps = fps if 1 <= fps <= 240 else 25.0  # cameras often report 0
    path = os.path.join(args.save_dir, f"{stem}.mp4")
    temporary = os.path.join(args.save_dir, f"{stem}.partial.mp4")
    writer, background, frames, started = None, None, 0, time.perf_counter()
    try:
        while not args.max_frames or frames < args.max_frames:
            ok, frame = capture.read()
            if not ok:
                break
            mask = segment(frame)
            if args.keep_classes is None:
                out = overlay_segmentation(frame, mask, palette)
            else:
                if background is None:
                    background = video_background(args.background, frame.shape)
                out = keep_classes_frame(frame, mask, args.keep_classes, background)
            if writer is None:
                height, width = frame.shape[:2]
                writer = cv2.VideoWriter(
                    temporary, cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, height)
                )
                if not writer.isOpened():
                    fail(f"{path}: OpenCV cannot write MP4 video here (no mp4v encoder?)")
            writer.write(out)
            frames += 1
    except KeyboardInterrupt:
        print(f"stopped at frame {frames}")
    finally:
        capture.release()
        if writer is not None:
            writer.release()
    if frames == 0:
        if os.path.exists(temporary):
            os.remove(temporary)
        fail(f"{what}: no frame could be read")
    os.replace(temporary, path)
    elapsed = time.perf_counter() - started
    print(f"wrote {frames} frames to {path} ({frames / elapsed:.1f} frames/s)")


def check_precision_flags(args):
    """--precision fp16 and --use-trt: Paddle Inference's, on a GPU only."""
    for flag, given in (
        ("--precision fp16", args.precision == "fp16"),
        ("--use-trt", args.use_trt),
    ):
        if not given:
            continue
        if args.device != "gpu":
            fail(
                f"{flag} needs a GPU (--device gpu, with a CUDA build of Paddle); on CPU "
                "the model runs in float32"
            )
        if args.engine not in ("auto", "paddle"):
            fail(f"{flag} goes with --engine paddle (Paddle Inference's GPU kernels)")
    if args.use_trt and not paddle_has_tensorrt():
        fail("--use-trt: this Paddle is built without TensorRT; leave the flag out")


def infer_engine(args, config):
    """The engine --engine names, loaded with the model (for fp16 without TensorRT, the
    float16 program export.py --precision fp16 wrote, when there); for auto, auto_engine's
    choice."""
    if args.precision == "fp16" and not args.use_trt:  # TensorRT converts by itself
        model_file, params_file = fp16_model_files(config["model_file"])
        if os.path.isfile(model_file) and os.path.isfile(params_file):
            config = dict(config, model_file=model_file, params_file=params_file, fp16_program=True)
    onnx_file = args.onnx_file or default_onnx_file(config)
    settings = engine_settings(
        args.device,
        args.cpu_threads,
        args.use_onednn,
        args.precision,
        args.use_trt,
        flag="--onnx" if args.onnx is not None else None,
    )
    if args.engine == "auto":
        return auto_engine(config, onnx_file, settings)
    return load_engine(args.engine, config, onnx_file, settings)


def infer_main(spec, argv=None):
    """infer.py: segment images with an exported model and write masks and overlays."""
    args = infer_arguments(spec, argv)
    config = load_deploy_config(args.config)
    images = list_infer_images(args.image) if args.image is not None else []
    if args.device == "gpu" and not paddle.is_compiled_with_cuda():
        fail("--device gpu: this Paddle is built without CUDA; use --device cpu")
    check_precision_flags(args)
    engine = infer_engine(args, config)
    scale, shift = infer_normalize_coefficients(config["mean"], config["std"])
    palette = segmentation_palette()
    try:
        os.makedirs(args.save_dir, exist_ok=True)
    except OSError as error:
        fail(f"{args.save_dir}: cannot create the results folder ({error.strerror})")
    if config["resize"] is not None:
        print(
            "note: the model takes {}x{} input; images are resized to it and masks back".format(
                *config["resize"]
            )
        )
    if config["resize_short"] is not None:
        print(
            f"note: images are resized to a shorter side of {config['resize_short']} and masks back"
        )
    if config["padding"] is not None:
        print(
            "note: images are padded bottom/right to {}x{} and masks cropped back".format(
                *config["padding"]["size"]
            )
        )
    if config["scale_padding"] is not None:
        print(
            "note: images are padded to a centred square, resized to {}x{}, and masks "
            "brought back".format(*config["scale_padding"]["size"])
        )
    stage_names = ("read", "preprocess", "inference", "postprocess", "write")
    totals = dict.fromkeys(stage_names, 0.0)

    def segment(image, where="video frame", clock=None):
        """The class map of one BGR image; appends stage end times to `clock`."""
        try:
            batch = preprocess_as_deployed(image, scale, shift, config)
        except ValueError as error:
            fail(f"{where}: {error} of {config['path']}")
        if clock is not None:
            clock.append(time.perf_counter())
        output = engine.run(batch)
        if clock is not None:
            clock.append(time.perf_counter())
        size = (image.shape[1], image.shape[0])
        # the image's own region of a padded input: its size after any Resize
        valid = None if config["padding"] is None else config["resize"] or size
        return infer_postprocess(output, size, valid, config["scale_padding"] is not None)

    if args.video is not None:
        segment_video(args, segment, palette)
        return

    def process(path, name=None):
        """One image through the pipeline; its stage times in seconds."""
        clock = [time.perf_counter()]
        image = read_image_file(path)  # 3-channel BGR
        clock.append(time.perf_counter())
        mask = segment(image, path, clock)
        overlay = overlay_segmentation(image, mask, palette)
        clock.append(time.perf_counter())
        if name is not None:
            mask_path = os.path.join(args.save_dir, f"{name}.png")
            overlay_path = os.path.join(args.save_dir, f"{name}_overlay.jpg")
            if not (
                write_image_whole(mask_path, mask) and write_image_whole(overlay_path, overlay)
            ):
                fail(f"{args.save_dir}: cannot write results there")
        clock.append(time.perf_counter())
        return [clock[i + 1] - clock[i] for i in range(len(clock) - 1)]

    names = infer_output_names(images)
    unreadable = []  # a damaged image is reported and skipped; the others go on

    def process_or_report(path, name=None):
        """process(); None, with one line on stderr, for an image that cannot be read."""
        try:
            return process(path, name)
        except ImageFileError as error:
            report_error(str(error))
            unreadable.append(path)
            return None

    runs = 0
    if args.benchmark:
        pending = list(zip(images, names))
        warm_ups = 0
        while warm_ups < args.warmup and pending:  # on the first readable image
            if process_or_report(pending[0][0]) is None:
                pending.pop(0)
            else:
                warm_ups += 1
        started = time.perf_counter()
        for repeat in range(args.repeats):
            for path, name in pending:
                times = process_or_report(path, name if repeat == 0 else None)
                if times is None:
                    continue
                for stage, seconds in zip(stage_names, times):
                    totals[stage] += seconds
                runs += 1
            pending = [item for item in pending if item[0] not in unreadable]
    else:
        started = time.perf_counter()
        for path, name in zip(images, names):
            times = process_or_report(path, name)
            if times is not None:
                runs += 1
                for stage, seconds in zip(stage_names, times):
                    totals[stage] += seconds
    elapsed = time.perf_counter() - started
    written = len(images) - len(unreadable)
    if written == 0:
        fail(f"none of the {len(images)} image(s) could be read")
    print(f"wrote {written} masks and overlays to {args.save_dir}")
    counts = dict.fromkeys(stage_names, runs)
    counts["write"] = written  # a benchmark writes on its first pass only
    means = ", ".join(
        f"{stage} {totals[stage] / counts[stage] * 1000:.1f}" for stage in stage_names
    )
    if args.benchmark:
        print(
            f"benchmark: {runs} runs ({args.repeats} x {written} image(s) after "
            f"{args.warmup} warm-up) on {engine.where}"
        )
    else:
        print(f"{runs} image(s) in {elapsed:.2f} s (first run includes predictor warm-up)")
    print(f"mean ms per image: {means}")
    if unreadable:
        fail(
            f"{len(unreadable)} of {len(images)} image(s) could not be read (above); "
            "the others were processed"
        )
