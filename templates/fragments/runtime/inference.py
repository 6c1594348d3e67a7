"""Paddle Inference deployment behind every generated infer.py: deploy.yaml parsing,
predictor creation, pre/postprocessing and the command line."""

import argparse
import json
import os
import re
import time

import cv2
import numpy as np
import paddle

from .errors import fail
from .onnx_export import ONNX_MODEL_FILE, create_onnx_session, run_onnx_session

# File name endings --image picks up in a folder.
INFER_IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp")

# Deploy transforms infer.py applies; anything else in a deploy.yaml is refused.
INFER_SUPPORTED_TRANSFORMS = ("Normalize", "Padding", "Resize")

# Ops that Paddle 3.3's oneDNN instruction cannot run under PIR: converting their
# `scale` attribute (ArrayAttribute<DoubleAttribute>) fails at the first run
# (PaddlePaddle/Paddle#79749). Every model here upsamples its logits with one.
ONEDNN_BROKEN_PIR_OPS = (b"bilinear_interp", b"nearest_interp", b"linear_interp",
                         b"bicubic_interp", b"trilinear_interp")

# Activations that Paddle 3.3's conv_activation_onednn_fuse_pass cannot fuse into the
# conv before them: it reads leaky_relu's slope as the wrong attribute type and the
# predictor dies with a segmentation fault while it is created (CCNet uses one).
ONEDNN_BROKEN_CONV_FUSION_OPS = (b"leaky_relu",)


def deploy_yaml_scalar(text):
    """The value of one plain, quoted or flow-style ([..], {..}) YAML scalar."""
    text = text.strip()
    if not text:
        return None
    if text[0] in "[{":
        return deploy_yaml_flow(text, 0)[0]
    if text[0] == "'" and text.endswith("'") and len(text) > 1:
        return text[1:-1].replace("''", "'")
    if text[0] == '"' and text.endswith('"') and len(text) > 1:
        return json.loads(text)
    lowered = text.lower()
    if lowered in ("null", "~"):
        return None
    if lowered in ("true", "false"):
        return lowered == "true"
    if re.fullmatch(r"[-+]?[0-9]+", text):
        return int(text)
    if re.fullmatch(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?", text):
        return float(text)
    if lowered in (".inf", "+.inf", "-.inf", ".nan"):
        return float(lowered.replace(".", ""))
    return text


def deploy_yaml_flow(text, position):
    """Parse a flow collection or scalar starting at text[position]; (value, end)."""
    while position < len(text) and text[position] == " ":
        position += 1
    opener = text[position] if position < len(text) else ""
    if opener not in "[{" or not opener:
        end = position
        if opener in ("'", '"'):  # a quoted scalar runs to its closing quote
            end = deploy_yaml_quote_end(text, position)
        while end < len(text) and text[end] not in ",]}":
            end += 1
        return deploy_yaml_scalar(text[position:end]), end
    closer = "]" if opener == "[" else "}"
    items = [] if opener == "[" else {}
    position += 1
    while True:
        while position < len(text) and text[position] == " ":
            position += 1
        if position >= len(text):
            raise ValueError(f"unclosed '{opener}'")
        if text[position] == closer:
            return items, position + 1
        if opener == "[":
            value, position = deploy_yaml_flow(text, position)
            items.append(value)
        else:
            colon = text.index(":", position)
            key = deploy_yaml_scalar(text[position:colon])
            value, position = deploy_yaml_flow(text, colon + 1)
            items[key] = value
        while position < len(text) and text[position] == " ":
            position += 1
        if position < len(text) and text[position] == ",":
            position += 1


def deploy_yaml_quote_end(text, position):
    """Index just past the quoted scalar that opens at text[position]."""
    quote = text[position]
    index = position + 1
    while index < len(text):
        if quote == '"' and text[index] == "\\":
            index += 2
            continue
        if text[index] == quote:
            if quote == "'" and text[index + 1:index + 2] == "'":
                index += 2  # '' is an escaped quote
                continue
            return index + 1
        index += 1
    raise ValueError("unclosed quote")


def deploy_yaml_flow_depth(text):
    """Brackets a flow collection leaves open: [ and { minus ] and }, quotes skipped."""
    depth = 0
    index = 0
    while index < len(text):
        char = text[index]
        if char in "'\"" and (index == 0 or text[index - 1] in "[{,: "):
            try:
                index = deploy_yaml_quote_end(text, index)
            except ValueError:
                return depth
            continue
        depth += (char in "[{") - (char in "]}")
        index += 1
    return depth


def deploy_yaml_strip_comment(line):
    """`line` without a trailing `# comment` (a # inside quotes is kept)."""
    quote = None
    for index, char in enumerate(line):
        if quote:
            if char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char == "#" and (index == 0 or line[index - 1] in " \t"):
            return line[:index].rstrip()
    return line.rstrip()


def deploy_yaml_split_key(content):
    """(key, rest) of a `key: value` line, or None when it is not one."""
    match = re.match(r"""('(?:[^']|'')*'|"(?:[^"\\]|\\.)*"|[^'"\s#\[\]{},][^:#]*?)\s*:(\s|$)""",
                     content)
    if not match:
        return None
    return deploy_yaml_scalar(match.group(1)), content[match.end():].strip()


def deploy_yaml_block(lines, index, indent):
    """Parse the block (mapping or sequence) at `indent` from lines[index]; (value, next)."""
    if lines[index][2].startswith("- ") or lines[index][2] == "-":
        items = []
        while index < len(lines) and lines[index][0] == indent and (
                lines[index][2].startswith("- ") or lines[index][2] == "-"):
            number, _, content = lines[index]
            rest = content[1:].lstrip()
            if not rest:
                if index + 1 < len(lines) and lines[index + 1][0] > indent:
                    value, index = deploy_yaml_block(lines, index + 1, lines[index + 1][0])
                else:
                    value, index = None, index + 1
            elif rest.startswith("- ") or rest == "-" or (
                    rest[0] not in "[{'\"" and deploy_yaml_split_key(rest)):
                # "- key: value" ("- - item") opens a mapping (sequence) lined up after the dash
                lines[index] = (indent + len(content) - len(rest), number, rest)
                value, index = deploy_yaml_block(lines, index, lines[index][0])
            else:
                value, index = deploy_yaml_scalar(rest), index + 1
            items.append(value)
        return items, index
    mapping = {}
    while index < len(lines) and lines[index][0] == indent:
        _, number, content = lines[index]
        if content.startswith("- ") or content == "-":
            break
        split = deploy_yaml_split_key(content)
        if split is None:
            raise ValueError(f"line {number}: expected 'key: value', got {content!r}")
        key, rest = split
        index += 1
        if rest:
            mapping[key] = deploy_yaml_scalar(rest)
        elif index < len(lines) and (lines[index][0] > indent or (
                lines[index][0] == indent and lines[index][2].startswith("-"))):
            mapping[key], index = deploy_yaml_block(lines, index, lines[index][0])
        else:
            mapping[key] = None
    return mapping, index


def deploy_yaml_parse(text):
    """Parse the block-style YAML subset deploy.yaml files use (ours and PaddleSeg's).

    Mappings, sequences (also unindented under their key, as pyyaml writes them),
    "- key: value" items, flow lists/maps, quoted and plain scalars, comments.
    Raises ValueError on anything else.
    """
    lines = []
    depth = 0  # open flow brackets: a flow collection may wrap over several lines
    for number, raw in enumerate(text.splitlines(), 1):
        if "\t" in raw[:len(raw) - len(raw.lstrip())]:
            raise ValueError(f"line {number}: tab in indentation")
        content = deploy_yaml_strip_comment(raw)
        if not content.strip() or content.strip() in ("---", "..."):
            continue
        if depth > 0:
            lines[-1] = (lines[-1][0], lines[-1][1], f"{lines[-1][2]} {content.strip()}")
            depth += deploy_yaml_flow_depth(content.strip())
            continue
        lines.append((len(content) - len(content.lstrip()), number, content.strip()))
        value = content.strip()
        while value.startswith("- "):
            value = value[2:].lstrip()
        split = deploy_yaml_split_key(value) if value[:1] not in ("[", "{") else None
        value = split[1] if split else value
        if value[:1] in ("[", "{"):
            depth = deploy_yaml_flow_depth(value)
    if not lines:
        return None
    if lines[0][2][0] in "[{":
        if len(lines) > 1:
            raise ValueError(f"line {lines[1][1]}: text after a flow collection")
        return deploy_yaml_scalar(lines[0][2])
    value, index = deploy_yaml_block(lines, 0, lines[0][0])
    if index < len(lines):
        raise ValueError(f"line {lines[index][1]}: unexpected indentation")
    return value


def infer_model_files(folder, model_name):
    """The program file of an exported model in `folder` that deploy.yaml calls `model_name`.

    Paddle 3 with PIR saves the program as model.json, older Paddle as model.pdmodel;
    when the named one is missing the other is used (a PaddleSeg deploy.yaml says
    model.pdmodel even where Paddle 3 wrote model.json).
    """
    model_file = os.path.join(folder, model_name)
    if not os.path.isfile(model_file):
        stem = os.path.splitext(model_file)[0]
        for ending in (".json", ".pdmodel"):
            if os.path.isfile(stem + ending):
                return stem + ending
    return model_file


def load_deploy_config(path):
    """Read a deploy.yaml (or the folder holding one) into a dict.

    Keys: path, model_file and params_file (absolute), transforms, input_shape
    ([N, C, H, W], -1 for dynamic), output_op, output_dtype, mean and std (Normalize's,
    per RGB channel), resize ((width, height) of a Resize transform, or None) and
    padding (a Padding transform's {"size": (width, height), "value": image padding
    value}, or None).
    User errors end the program with one line (exit 2).
    """
    if os.path.isdir(path):
        path = os.path.join(path, "deploy.yaml")
    if not os.path.isfile(path):
        fail(f"{path}: deploy config not found (pass the deploy.yaml export.py wrote "
             "or its folder)")
    try:
        with open(path, encoding="utf-8") as f:
            data = deploy_yaml_parse(f.read())
    except (ValueError, UnicodeDecodeError) as error:
        fail(f"{path}: cannot parse deploy config: {error}")
    deploy = data.get("Deploy") if isinstance(data, dict) else None
    if not isinstance(deploy, dict) or "model" not in deploy or "params" not in deploy:
        fail(f"{path}: not a deploy config (no Deploy: model / params)")
    folder = os.path.dirname(os.path.abspath(path))
    try:
        config = deploy_config_fields(deploy, folder)
    except (TypeError, ValueError, IndexError, AttributeError) as error:
        fail(f"{path}: invalid deploy config ({type(error).__name__}: {error})")
    config["path"] = path
    for name in ("model_file", "params_file"):
        if not os.path.isfile(config[name]):
            fail(f"{config[name]}: model file named by {path} not found")
    for transform in config["transforms"]:
        kind = transform.get("type") if isinstance(transform, dict) else None
        if kind not in INFER_SUPPORTED_TRANSFORMS:
            fail(f"{path}: transform {kind!r} is not supported by infer.py "
                 f"(only {', '.join(INFER_SUPPORTED_TRANSFORMS)})")
    return config


def deploy_config_fields(deploy, folder):
    """load_deploy_config's dict (but `path`) from the parsed Deploy section."""
    config = {
        "model_file": infer_model_files(folder, str(deploy["model"])),
        "params_file": os.path.join(folder, str(deploy["params"])),
        "transforms": list(deploy.get("transforms") or []),
        "input_shape": [-1 if v is None else int(v)
                        for v in (deploy.get("input_shape") or [-1, 3, -1, -1])],
        "output_op": str(deploy.get("output_op") or "argmax"),
        "output_dtype": deploy.get("output_dtype"),
        "mean": [0.5, 0.5, 0.5],
        "std": [0.5, 0.5, 0.5],
        "resize": None,
        "padding": None,
    }
    for transform in config["transforms"]:
        if not isinstance(transform, dict):
            continue
        if transform.get("type") == "Normalize":
            config["mean"] = [float(v) for v in transform.get("mean", config["mean"])]
            config["std"] = [float(v) for v in transform.get("std", config["std"])]
            if len(config["mean"]) != 3 or len(config["std"]) != 3 or min(config["std"]) <= 0:
                raise ValueError("Normalize needs 3 means and 3 positive stds")
        elif transform.get("type") == "Resize":
            size = transform.get("target_size", [512, 512])
            size = [size, size] if isinstance(size, int) else size
            config["resize"] = (int(size[0]), int(size[1]))
            if config["padding"] is not None:
                raise ValueError("a Resize after a Padding is not supported; infer.py "
                                 "resizes first, then pads")
        elif transform.get("type") == "Padding":
            size = transform["target_size"]  # PaddleSeg's Padding has no default size
            size = [size, size] if isinstance(size, int) else size
            config["padding"] = {"size": (int(size[0]), int(size[1])),
                                 "value": float(transform.get("im_padding_value", 127.5))}
    if len(config["input_shape"]) != 4:
        raise ValueError("input_shape needs 4 values, N C H W")
    height, width = config["input_shape"][2:]
    if config["padding"] is not None and height > 0 and width > 0:
        if config["padding"]["size"] != (width, height):
            raise ValueError(f"Padding target_size {list(config['padding']['size'])} differs "
                             f"from the fixed input_shape's {width}x{height}")
    elif config["resize"] is None and height > 0 and width > 0:
        config["resize"] = (width, height)  # a fixed-shape export takes only that size
    return config


def create_inference_predictor(model_file, params_file, device="cpu", cpu_threads=None,
                               use_onednn=True):
    """A Paddle Inference predictor for an exported model (.json or .pdmodel program).

    On CPU oneDNN is on unless `use_onednn` is False. For a program with an op of
    ONEDNN_BROKEN_PIR_OPS the blanket oneDNN placement pass is dropped: the oneDNN
    fusion passes (conv + bn + activation and the like) still run, so convolutions
    stay on oneDNN, while the interpolation keeps its plain CPU kernel. For one of
    ONEDNN_BROKEN_CONV_FUSION_OPS the conv + activation fusion is dropped too.
    """
    config = paddle.inference.Config(model_file, params_file)
    config.disable_glog_info()
    config.switch_ir_optim(True)
    if device == "gpu":
        config.enable_use_gpu(256, 0)
    else:
        config.disable_gpu()
        config.set_cpu_math_library_num_threads(int(cpu_threads or os.cpu_count() or 1))
        if use_onednn:
            config.enable_onednn()
            if inference_program_has_broken_onednn_ops(model_file):
                config.delete_pass("onednn_placement_pass")
            if inference_program_uses(model_file, ONEDNN_BROKEN_CONV_FUSION_OPS):
                config.delete_pass("conv_activation_onednn_fuse_pass")
        else:
            config.disable_onednn()
    return paddle.inference.create_predictor(config)


def inference_program_has_broken_onednn_ops(model_file):
    """Whether the saved program uses one of ONEDNN_BROKEN_PIR_OPS."""
    return inference_program_uses(model_file, ONEDNN_BROKEN_PIR_OPS)


def inference_program_uses(model_file, op_names):
    """Whether the saved program mentions one of `op_names` (bytes)."""
    with open(model_file, "rb") as f:
        program = f.read()
    return any(name in program for name in op_names)


def run_inference_predictor(predictor, batch):
    """Run the predictor on a float32 NCHW batch; its first output as a numpy array."""
    handle = predictor.get_input_handle(predictor.get_input_names()[0])
    handle.reshape(batch.shape)
    handle.copy_from_cpu(batch)
    predictor.run()
    return predictor.get_output_handle(predictor.get_output_names()[0]).copy_to_cpu()


def infer_normalize_coefficients(mean, std):
    """Per-channel (scale, shift) so that pixel * scale + shift == (pixel / 255 - mean) / std."""
    mean = np.asarray(mean, dtype=np.float64)
    std = np.asarray(std, dtype=np.float64)
    return (1.0 / (255.0 * std)).astype(np.float32), (-mean / std).astype(np.float32)


def infer_preprocess(image, scale, shift, resize=None, padding=None):
    """BGR uint8 HxWx3 image -> normalized RGB float32 1x3xHxW batch.

    One multiply-add per channel plane straight into the output (no float64, no
    HWC->CHW transpose); `scale`, `shift` from infer_normalize_coefficients;
    `resize` an optional (width, height); `padding` an optional {"size": (width,
    height), "value": v}: the (resized) image is placed top-left and the rest filled
    with v normalized, as PaddleSeg's Padding then Normalize give. An image larger
    than the padding size is a ValueError.
    """
    if resize is not None and (image.shape[1], image.shape[0]) != tuple(resize):
        image = cv2.resize(image, tuple(resize), interpolation=cv2.INTER_LINEAR)
    height, width = image.shape[:2]
    out_width, out_height = width, height
    if padding is not None:
        out_width, out_height = padding["size"]
        if width > out_width or height > out_height:
            raise ValueError(f"image of {width}x{height} is larger than the Padding "
                             f"target_size {out_width}x{out_height}")
    batch = np.empty((1, 3, out_height, out_width), dtype=np.float32)
    planes = cv2.split(image)  # B, G, R
    for channel in range(3):
        out = batch[0, channel]
        if padding is not None:
            fill = padding["value"] * scale[channel] + shift[channel]
            out[height:] = fill
            out[:height, width:] = fill
            out = out[:height, :width]
        np.multiply(planes[2 - channel], scale[channel], out=out)
        out += shift[channel]
    return batch


def infer_postprocess(output, size=None, valid=None):
    """Class-id mask (uint8, uint16 past 255 classes) of the first image of a model output.

    `output`: argmax ids (N,1,H,W) or (N,H,W), or softmax / logits (N,C,H,W), whose
    argmax over axis 1 is taken. `valid`: optional (width, height) of the top-left
    region to keep (the image within a padded input); `size`: optional (width, height)
    to resize the result to.
    """
    if (output.ndim == 4 and output.shape[1] > 1) or np.issubdtype(output.dtype, np.floating):
        labels = np.argmax(output[0], axis=0) if output.ndim == 4 else output[0]
    else:
        labels = output[0, 0] if output.ndim == 4 else output[0]
    if valid is not None:
        labels = labels[:valid[1], :valid[0]]
    mask = labels.astype(np.uint8 if labels.max(initial=0) < 256 else np.uint16)
    if size is not None and (mask.shape[1], mask.shape[0]) != tuple(size):
        mask = cv2.resize(mask, tuple(size), interpolation=cv2.INTER_NEAREST)
    return mask


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


def overlay_segmentation(image, mask, palette, alpha=0.5):
    """The BGR image blended (1 - alpha : alpha) with the mask's pseudo colours."""
    ids = mask if mask.dtype == np.uint8 else (mask % 256).astype(np.uint8)
    colours = cv2.LUT(cv2.merge([ids, ids, ids]), palette)
    return cv2.addWeighted(image, 1.0 - alpha, colours, alpha, 0.0)


def list_infer_images(path):
    """Image paths --image names: a file, a folder (sorted) or a .txt list (first column)."""
    if os.path.isdir(path):
        images = sorted(os.path.join(path, name) for name in os.listdir(path)
                        if name.lower().endswith(INFER_IMAGE_EXTENSIONS)
                        and os.path.isfile(os.path.join(path, name)))
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


def read_infer_image(path):
    """cv2.imread as 3-channel BGR; a one-line error (exit 2) if it cannot be read."""
    if not os.path.isfile(path):
        fail(f"{path}: image not found")
    image = cv2.imread(path, cv2.IMREAD_COLOR)
    if image is None:
        fail(f"{path}: cannot be read as an image")
    return image


def infer_arguments(spec, argv):
    parser = argparse.ArgumentParser(
        description=f"Segment images with an exported {spec['name']} model (Paddle Inference).")
    parser.add_argument("--config", required=True,
                        help="deploy.yaml written by export.py, or the folder holding it")
    parser.add_argument("--image", required=True,
                        help="an image, a folder of images or a .txt list (first column)")
    parser.add_argument("--save-dir", default="output/result",
                        help="where <stem>.png masks and <stem>_overlay.jpg go "
                             "(default: %(default)s)")
    parser.add_argument("--device", choices=("cpu", "gpu"), default="cpu")
    parser.add_argument("--cpu-threads", type=int, default=os.cpu_count() or 1,
                        help="CPU math threads (default: all cores, %(default)s)")
    parser.add_argument("--no-mkldnn", dest="use_onednn", action="store_false",
                        help="do not use oneDNN (MKL-DNN) kernels on CPU")
    parser.add_argument("--onnx", nargs="?", const="", metavar="MODEL_ONNX",
                        help="run an ONNX model with onnxruntime instead (default file: "
                             f"{ONNX_MODEL_FILE} beside deploy.yaml, as export.py --onnx "
                             "writes it)")
    parser.add_argument("--benchmark", action="store_true",
                        help="time --repeats passes over the images after --warmup runs")
    parser.add_argument("--warmup", type=int, default=3,
                        help="untimed runs before a benchmark (default: %(default)s)")
    parser.add_argument("--repeats", type=int, default=10,
                        help="timed passes over the images (default: %(default)s)")
    args = parser.parse_args(argv)
    if args.cpu_threads < 1 or args.warmup < 0 or args.repeats < 1:
        parser.error("--cpu-threads and --repeats must be >= 1, --warmup >= 0")
    return args


def infer_main(spec, argv=None):
    """infer.py: segment images with an exported model and write masks and overlays."""
    args = infer_arguments(spec, argv)
    config = load_deploy_config(args.config)
    images = list_infer_images(args.image)
    if args.device == "gpu" and not paddle.is_compiled_with_cuda():
        fail("--device gpu: this Paddle is built without CUDA; use --device cpu")
    session = None if args.onnx is None else create_onnx_session(
        args.onnx or os.path.join(os.path.dirname(config["path"]), ONNX_MODEL_FILE),
        args.device, args.cpu_threads)
    try:
        predictor = None if session is not None else create_inference_predictor(
            config["model_file"], config["params_file"], args.device, args.cpu_threads,
            args.use_onednn)
    except Exception as error:  # noqa: BLE001 - a corrupt or foreign model is a user error
        reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
        fail(f"{config['model_file']}: Paddle Inference cannot load it ({reason})")
    scale, shift = infer_normalize_coefficients(config["mean"], config["std"])
    palette = segmentation_palette()
    try:
        os.makedirs(args.save_dir, exist_ok=True)
    except OSError as error:
        fail(f"{args.save_dir}: cannot create the results folder ({error.strerror})")
    if config["resize"] is not None:
        print("note: the model takes {}x{} input; images are resized to it and masks back"
              .format(*config["resize"]))
    if config["padding"] is not None:
        print("note: images are padded bottom/right to {}x{} and masks cropped back"
              .format(*config["padding"]["size"]))
    stage_names = ("read", "preprocess", "inference", "postprocess", "write")
    totals = dict.fromkeys(stage_names, 0.0)

    def process(path, name=None):
        """One image through the pipeline; its stage times in seconds."""
        clock = [time.perf_counter()]
        image = read_infer_image(path)
        clock.append(time.perf_counter())
        try:
            batch = infer_preprocess(image, scale, shift, config["resize"], config["padding"])
        except ValueError as error:
            fail(f"{path}: {error} of {config['path']}")
        clock.append(time.perf_counter())
        output = (run_inference_predictor(predictor, batch) if session is None else
                  run_onnx_session(session, batch))
        clock.append(time.perf_counter())
        size = (image.shape[1], image.shape[0])
        # the image's own region of a padded input: its size after any Resize
        valid = None if config["padding"] is None else config["resize"] or size
        mask = infer_postprocess(output, size, valid)
        overlay = overlay_segmentation(image, mask, palette)
        clock.append(time.perf_counter())
        if name is not None:
            mask_path = os.path.join(args.save_dir, f"{name}.png")
            overlay_path = os.path.join(args.save_dir, f"{name}_overlay.jpg")
            if not (cv2.imwrite(mask_path, mask) and cv2.imwrite(overlay_path, overlay)):
                fail(f"{args.save_dir}: cannot write results there")
        clock.append(time.perf_counter())
        return [clock[i + 1] - clock[i] for i in range(len(clock) - 1)]

    names = infer_output_names(images)
    started = time.perf_counter()
    if args.benchmark:
        for _ in range(args.warmup):
            process(images[0])
        runs = 0
        started = time.perf_counter()
        for repeat in range(args.repeats):
            for path, name in zip(images, names):
                times = process(path, name if repeat == 0 else None)
                for stage, seconds in zip(stage_names, times):
                    totals[stage] += seconds
                runs += 1
    else:
        runs = len(images)
        for path, name in zip(images, names):
            for stage, seconds in zip(stage_names, process(path, name)):
                totals[stage] += seconds
    elapsed = time.perf_counter() - started
    print(f"wrote {len(images)} masks and overlays to {args.save_dir}")
    counts = dict.fromkeys(stage_names, runs)
    counts["write"] = len(images)  # a benchmark writes on its first pass only
    means = ", ".join(f"{stage} {totals[stage] / counts[stage] * 1000:.1f}"
                      for stage in stage_names)
    if args.benchmark:
        where = (f"cpu, {args.cpu_threads} threads, oneDNN {'on' if args.use_onednn else 'off'}"
                 if args.device == "cpu" else "gpu")
        if session is not None:
            where = "onnxruntime, " + (f"cpu, {args.cpu_threads} threads"
                                       if args.device == "cpu" else "gpu")
        print(f"benchmark: {runs} runs ({args.repeats} x {len(images)} image(s) after "
              f"{args.warmup} warm-up) on {where}")
    else:
        print(f"{runs} image(s) in {elapsed:.2f} s (first run includes predictor warm-up)")
    print(f"mean ms per image: {means}")
