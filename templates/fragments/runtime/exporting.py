"""Export behind every generated export.py: a static inference model, a PaddleSeg
deploy.yaml (written by deploy_config), the ONNX model for the engines that read it, and
a check of every engine written for against the dynamic model, at the export size and an
odd one."""

import argparse
import json
import os
import shutil

import numpy as np
import paddle
import paddle.nn.functional as F
from paddle import nn

from .deploy_config import (
    deploy_yaml_lines,
    export_deploy_info,
    fp16_model_files,
    infer_model_files,
    load_deploy_config,
)
from .engines import (
    INFER_ENGINE_PACKAGES,
    INFER_ENGINE_TITLES,
    engine_installed,
    engine_settings,
    load_engine,
)
from .errors import fail
from .onnx_export import ONNX_MODEL_FILE, ONNX_OPSET, compare_outputs, export_onnx_model
from .predictor import create_inference_predictor, run_inference_predictor
from .quantization import prepare_quantization, quantize_arguments, quantize_exported_model

# What writes the ONNX model, as a refusal names it.
ONNX_FLAGS = "ONNX (--onnx, --engines onnxruntime or openvino)"

# Height and width the exported model is checked at when they are dynamic; and the odd
# size checked beside it: 13 rows fewer, 7 columns more (neither a power of two).
EXPORT_CHECK_SIZE = (128, 256)
EXPORT_ODD_OFFSET = (-13, 7)

# Export check thresholds. argmax: share of pixels with equal class ids. softmax /
# none: also the largest difference, at most EXPORT_MAX_RELATIVE_DIFF x max(1, largest
# logit magnitude); the logits set the scale for softmax too, because float32
# reordering (oneDNN) moves large logits (an untrained PSPNet's reach ~2000) by ~1e-2,
# which softmax turns into ~5e-4 at a near-tie pixel. oneDNN's reordering reaches
# 1.1e-4 (ANN) and 1.6e-4 (DNLNet) of the largest logit where plain CPU kernels are
# exact; a wrong layer or mode moves logits by a sizeable share of it.
EXPORT_MIN_PIXEL_AGREEMENT = 0.999
EXPORT_MAX_RELATIVE_DIFF = 1e-3
# export.py --precision fp16: float16 keeps about 3 significant digits per op, so the
# logits may move by ~1e-2 of the largest and near-tied pixels change class.
EXPORT_FP16_TOLERANCE = (0.99, 1e-2)


def export_tolerance(spec):
    """(least share of pixels with equal classes, largest difference relative to the
    largest logit, share of pixels that bound holds at or None for all): the defaults,
    or the model's own where its output is not continuous in its input (SPEC's
    `export_check`, from segc's catalog: SegNet, and ISANet's near one-hot attention)."""
    check = spec.get("export_check", {})
    return (
        check.get("min_pixel_agreement", EXPORT_MIN_PIXEL_AGREEMENT),
        check.get("max_relative_diff", EXPORT_MAX_RELATIVE_DIFF),
        check.get("pixel_share"),
    )


def onnx_input_problem(spec, input_shape, flag=ONNX_FLAGS):
    """Why `input_shape` cannot give this model an exact ONNX conversion, or None. A model
    with adaptive pooling to several bins (SPEC's `onnx_fixed_input`) converts only at a
    static size, and exactly only where each bin count divides the pooled map: at sides
    that are multiples of `multiple` pixels."""
    fixed = spec.get("onnx_fixed_input")
    if not fixed:
        return None
    height, width = input_shape[2:]
    multiple = fixed["multiple"]
    if height > 0 and width > 0 and height % multiple == 0 and width % multiple == 0:
        return None
    example = " ".join(map(str, fixed["example"]))
    return (
        f"{flag} needs a fixed --input-shape for this model, both sides multiples of "
        f"{multiple} (paddle2onnx converts the adaptive pooling in its {fixed['what']} only "
        f"at a static size, and exactly only where the bins divide it), e.g. "
        f"--input-shape 1 3 {example}"
    )


class SegExportWrapper(nn.Layer):
    """The model as deployed: main output only (auxiliary heads pruned), then the output op.

    argmax: int32 class ids, N x H x W as PaddleSeg exports them; softmax: probabilities; none: logits.
    """

    def __init__(self, model, output_op):
        super().__init__()
        self.model = model
        self.output_op = output_op

    def forward(self, x):
        return self.apply_output_op(self.model(x)[0])

    def apply_output_op(self, logit):
        if self.output_op == "argmax":
            return paddle.argmax(logit, axis=1, dtype="int32")
        if self.output_op == "softmax":
            return F.softmax(logit, axis=1)
        return logit


def export_arguments(spec, argv):
    parser = argparse.ArgumentParser(
        description=f"Export {spec['name']} to a Paddle Inference model and deploy.yaml."
    )
    parser.add_argument(
        "--model-path",
        help="trained weights: a .pdparams file, a checkpoint folder, or train.py's"
        " --save-dir (its best_model, else its latest checkpoint); without it the"
        " untrained model is exported",
    )
    parser.add_argument(
        "--save-dir",
        default="output/export",
        help="folder for the model and deploy.yaml (default: %(default)s)",
    )
    parser.add_argument(
        "--output-op",
        choices=("argmax", "softmax", "none"),
        default=spec["export"]["output_op"],
        help="op appended to the model (default: %(default)s)",
    )
    parser.add_argument(
        "--input-shape",
        type=int,
        nargs=4,
        metavar=("N", "C", "H", "W"),
        default=[1, 3, -1, -1],
        help="input shape; -1 for a dynamic size (default: 1 3 -1 -1)",
    )
    parser.add_argument(
        "--num-classes",
        type=int,
        help="class count (default: meta.json beside --model-path, else the spec's)",
    )
    parser.add_argument(
        "--engines",
        type=export_engines_flag,
        default=["paddle"],
        metavar="NAMES",
        help="engines to write for and check, comma-separated: paddle (always: the "
        f"program and deploy.yaml), onnxruntime, openvino (both read {ONNX_MODEL_FILE}, "
        "converted by paddle2onnx); each installed one is checked against Paddle "
        "Inference (default: paddle)",
    )
    parser.add_argument(
        "--onnx",
        action="store_true",
        help=f"also write {ONNX_MODEL_FILE} and check it with onnxruntime: "
        "--engines paddle,onnxruntime",
    )
    parser.add_argument(
        "--precision",
        choices=("fp32", "fp16"),
        default="fp32",
        help="fp16 (GPU only): also write the program converted to float16, "
        "model_fp16.json / .pdiparams, for infer.py --precision fp16 (default: fp32)",
    )
    parser.add_argument(
        "--onnx-opset",
        type=int,
        default=ONNX_OPSET,
        help="ONNX opset of the ONNX model (default: %(default)s)",
    )
    quantize_arguments(parser)
    args = parser.parse_args(argv)
    shape = args.input_shape
    if shape[1] != 3 or any(v == 0 or v < -1 for v in shape):
        parser.error("--input-shape takes N 3 H W, each a positive size or -1 (dynamic)")
    if args.num_classes is not None and args.num_classes < 1:
        parser.error("--num-classes must be >= 1")
    engines = ["paddle", *args.engines, *(["onnxruntime"] if args.onnx else [])]
    args.engines = [name for name in INFER_ENGINE_TITLES if name in engines]  # each once
    return args


def export_num_classes(spec, model_path, override=None):
    """--num-classes, else meta.json's num_classes beside the weights, else the spec's."""
    if override is not None:
        return override
    if model_path:
        meta_path = os.path.join(os.path.dirname(os.path.abspath(model_path)), "meta.json")
        if os.path.isfile(meta_path):
            try:
                with open(meta_path, encoding="utf-8") as f:
                    num_classes = json.load(f).get("num_classes")
            except (ValueError, AttributeError):
                fail(f"{meta_path}: not a JSON object")
            if num_classes is not None:
                return int(num_classes)
    return spec["dataset"]["num_classes"]


def find_model_weights(path):
    """The .pdparams file --model-path means: the file itself; a checkpoint folder's
    model.pdparams; or, for a training save dir, its best_model (the best evaluation) or,
    when it has none (trained with --no-eval), the checkpoint latest.json names."""
    if not os.path.isdir(path):
        if not os.path.isfile(path):
            fail(f"{path}: model weights not found")
        return path
    candidates = [
        os.path.join(path, "model.pdparams"),
        os.path.join(path, "best_model", "model.pdparams"),
    ]
    latest = os.path.join(path, "latest.json")
    if os.path.isfile(latest):
        try:
            with open(latest, encoding="utf-8") as f:
                name = json.load(f)["checkpoint"]
            candidates.append(os.path.join(path, str(name), "model.pdparams"))
        except (ValueError, KeyError, TypeError):
            fail(f"{latest}: not a checkpoint record; pass the .pdparams file instead")
    for candidate in candidates:
        if os.path.isfile(candidate):
            return candidate
    fail(
        f"{path}: a folder with no model.pdparams, best_model/ or latest.json checkpoint;"
        " pass the .pdparams file"
    )


def load_export_weights(model, path):
    """Load a full-model state dict strictly: every key present, none extra, shapes equal."""
    if not os.path.isfile(path):
        fail(f"{path}: model weights not found")
    try:
        weights = paddle.load(path)
    except Exception as error:  # noqa: BLE001 - any unreadable file is a user error
        fail(f"{path}: cannot be read as a .pdparams state dict ({type(error).__name__})")
    if not isinstance(weights, dict):
        fail(f"{path}: not a state dict")
    expected = model.state_dict()
    missing = [key for key in expected if key not in weights]
    unexpected = [key for key in weights if key not in expected]
    mismatched = [
        f"{key} {list(weights[key].shape)} vs {list(value.shape)}"
        for key, value in expected.items()
        if key in weights and list(weights[key].shape) != list(value.shape)
    ]

    def some(names):
        return ", ".join(names[:3]) + (f" (+{len(names) - 3} more)" if len(names) > 3 else "")

    problems = [
        f"{len(names)} {kind}: {some(names)}"
        for kind, names in (
            ("missing key(s)", missing),
            ("unexpected key(s)", unexpected),
            ("shape mismatch(es), file vs model", mismatched),
        )
        if names
    ]
    if problems:
        fail(
            f"{path}: does not match this model ({'; '.join(problems)}); check "
            "--num-classes and that the weights are this combination's"
        )
    model.set_state_dict(weights)


def export_check_shapes(spec, input_shape):
    """The input shapes export.py checks every engine at: the exported size
    (EXPORT_CHECK_SIZE for a dynamic side) and, where a side is dynamic, an odd size too
    (EXPORT_ODD_OFFSET from it, in steps of the model's input multiple where it needs one,
    SPEC's `input_multiple`), since the engines run sizes the export was not traced at."""
    default_size = dict(zip((2, 3), EXPORT_CHECK_SIZE))
    shape = [v if v > 0 else default_size.get(axis, 1) for axis, v in enumerate(input_shape)]
    if input_shape[2] > 0 and input_shape[3] > 0:
        return [shape]
    multiple = spec.get("input_multiple", 1)
    odd = list(shape)
    for axis, offset in zip((2, 3), EXPORT_ODD_OFFSET):
        if input_shape[axis] < 0:
            steps = -(-abs(offset) // multiple)  # at least |offset| pixels
            odd[axis] += steps * multiple * (1 if offset > 0 else -1)
    return [shape, odd]


def export_check_batch(shape):
    """The random input export.py checks at (the same for every engine)."""
    return np.random.default_rng(0).uniform(-1.0, 1.0, shape).astype(np.float32)


def output_bound(tolerance, reference):
    """The largest difference `tolerance` allows against `reference`, the logits (or, for
    a class-id output, anything: compare_outputs counts equal pixels then)."""
    return tolerance[1] * max(1.0, float(np.abs(reference).max()))


def check_exported_model(wrapped, predictor, batch, tolerance):
    """Run the saved model (`predictor`, Paddle Inference) and the dynamic one on `batch`,
    within `tolerance` (`export_tolerance`); (Paddle Inference's output, the dynamic
    model's, passed, description)."""
    static = run_inference_predictor(predictor, batch)
    with paddle.no_grad():
        logit = wrapped.model(paddle.to_tensor(batch))[0]
        dynamic = wrapped.apply_output_op(logit).numpy()
    min_agreement, _, pixel_share = tolerance
    bound = output_bound(tolerance, logit.numpy())
    where = f"input {'x'.join(map(str, batch.shape))}"
    _, passed, description = compare_outputs(
        static, dynamic, where, min_agreement, bound, pixel_share
    )
    return static, dynamic, passed, description


def check_engine(engine, batch, expected, tolerance):
    """Engine `engine`'s output on `batch` against `expected`, Paddle Inference's (the
    bound relative to its largest magnitude); (passed, description)."""
    min_agreement, _, pixel_share = tolerance
    where = f"input {'x'.join(map(str, batch.shape))}"
    _, passed, description = compare_outputs(
        engine.run(batch),
        expected,
        where,
        min_agreement,
        output_bound(tolerance, expected),
        pixel_share,
    )
    return passed, description


def export_engines_flag(text):
    """--engines: comma-separated engine names."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in INFER_ENGINE_TITLES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"engines are {', '.join(INFER_ENGINE_TITLES)} (comma-separated), not {text!r}"
        )
    return names


def check_onnx_engines(folder, engines, batches, expected, tolerance):
    """Each ONNX engine of `engines` whose package is installed, on the ONNX model in
    `folder`, against Paddle Inference's outputs `expected` on `batches`: a line per
    check, one for each engine skipped (first), exit 1 at the first disagreement."""
    config = load_deploy_config(folder)
    onnx_file = os.path.join(folder, ONNX_MODEL_FILE)
    installed = []
    for name in engines:
        if name == "paddle":
            continue
        if engine_installed(name):
            installed.append(name)
            continue
        package = INFER_ENGINE_PACKAGES[name]
        print(f"onnx check ({name}): skipped, '{package}' is not installed (pip install {package})")
    for name in installed:
        engine = load_engine(name, config, onnx_file, engine_settings(flag=f"--engines {name}"))
        for batch, reference in zip(batches, expected):
            passed, description = check_engine(engine, batch, reference, tolerance)
            if not passed:
                fail(
                    f"the ONNX model does not match Paddle Inference on {name}: {description}",
                    status=1,
                )
            print(f"onnx check ({name} vs Paddle Inference): {description}")


def export_fp16(folder, batches, dynamic_outputs):
    """export.py --precision fp16 (GPU only): the saved program converted to float16
    (float32 input and output kept) as model_fp16.json / .pdiparams beside the float32
    one, checked with Paddle Inference on the GPU against the dynamic model within
    EXPORT_FP16_TOLERANCE. Untested here: needs a CUDA build of Paddle."""
    config = load_deploy_config(folder)
    model_file, params_file = fp16_model_files(config["model_file"])
    paddle.inference.convert_to_mixed_precision(
        config["model_file"],
        config["params_file"],
        model_file,
        params_file,
        paddle.inference.PrecisionType.Half,
        paddle.inference.PlaceType.GPU,
        True,  # keep_io_types: float32 in and out, as infer.py feeds and reads it
    )
    # a converted program runs with the plain GPU configuration (Paddle's guide to it)
    predictor = create_inference_predictor(model_file, params_file, "gpu")
    min_agreement, max_relative_diff = EXPORT_FP16_TOLERANCE
    for batch, dynamic in zip(batches, dynamic_outputs):
        where = f"input {'x'.join(map(str, batch.shape))}"
        bound = max_relative_diff * max(1.0, float(np.abs(dynamic).max()))
        _, passed, description = compare_outputs(
            run_inference_predictor(predictor, batch), dynamic, where, min_agreement, bound
        )
        if not passed:
            fail(f"the float16 model does not match the dynamic model: {description}", status=1)
        print(f"fp16 check (Paddle Inference float16 vs dynamic model): {description}")


def export_main(spec, build_model, argv=None):
    """export.py: save the model for Paddle Inference, write deploy.yaml, check the result."""
    args = export_arguments(spec, argv)
    if args.quantize and "onnxruntime" not in args.engines:
        # int8 starts from the float ONNX model, checked on onnxruntime like any other
        args.engines.append("onnxruntime")
    onnx_engines = [name for name in args.engines if name != "paddle"]
    onnx_flag = "--quantize int8" if args.quantize else ONNX_FLAGS
    if onnx_engines and spec.get("onnx_wrong"):
        # paddle2onnx converts it without an error, but wrong (segc's catalog says where)
        fail(
            f"paddle2onnx cannot convert this model ({spec['onnx_wrong']}); deploy it with "
            "Paddle Inference (export.py without --onnx, --engines or --quantize)"
        )
    if onnx_engines and onnx_input_problem(spec, args.input_shape, onnx_flag):
        fail(onnx_input_problem(spec, args.input_shape, onnx_flag))
    quantization = prepare_quantization(args)  # None without --quantize
    if args.precision == "fp16" and not (
        paddle.is_compiled_with_cuda() and paddle.device.cuda.device_count() > 0
    ):
        fail(
            "--precision fp16 needs a GPU: Paddle converts the program for its float16 GPU "
            "kernels (a CUDA build of Paddle and a GPU); on CPU export in float32"
        )
    if args.model_path:
        args.model_path = find_model_weights(args.model_path)
    num_classes = export_num_classes(spec, args.model_path, args.num_classes)
    model = build_model(num_classes)
    if args.model_path:
        load_export_weights(model, args.model_path)
        print(f"loaded {args.model_path} ({num_classes} classes)")
    else:
        print(f"warning: no --model-path; exporting the UNTRAINED model ({num_classes} classes)")
    model.eval()
    wrapped = SegExportWrapper(model, args.output_op)
    wrapped.eval()

    save_dir = os.path.abspath(args.save_dir)
    if os.path.exists(save_dir) and not os.path.isdir(save_dir):
        fail(f"{args.save_dir}: exists and is not a folder")
    parent = os.path.dirname(save_dir)
    os.makedirs(parent, exist_ok=True)
    # a sibling of save_dir (same file system, so the final moves are renames)
    work = os.path.join(parent, f".{os.path.basename(save_dir)}.export-{os.getpid()}")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    try:
        spec_input = paddle.static.InputSpec(
            [None if v < 0 else v for v in args.input_shape], "float32", name="x"
        )
        static = paddle.jit.to_static(wrapped, input_spec=[spec_input], full_graph=True)
        paddle.jit.save(static, os.path.join(work, "model"))
        model_file = os.path.basename(infer_model_files(work, "model.json"))
        info = export_deploy_info(spec, model_file, args.input_shape, args.output_op, num_classes)
        with open(os.path.join(work, "deploy.yaml"), "w", encoding="utf-8") as f:
            f.write("\n".join(deploy_yaml_lines(info)) + "\n")

        tolerance = export_tolerance(spec)
        config = load_deploy_config(work)
        predictor = create_inference_predictor(config["model_file"], config["params_file"])
        batches = [
            export_check_batch(shape) for shape in export_check_shapes(spec, args.input_shape)
        ]
        expected, dynamic_outputs = [], []
        for batch in batches:
            static, dynamic, passed, description = check_exported_model(
                wrapped, predictor, batch, tolerance
            )
            if not passed:
                fail(
                    f"the exported model does not match the dynamic model: {description}",
                    status=1,
                )
            print(f"export check (Paddle Inference vs dynamic model): {description}")
            expected.append(static)
            dynamic_outputs.append(dynamic)
        if onnx_engines:
            # the flag a conversion failure names: the one that asked for the ONNX model
            asked_by = f"--engines {','.join(args.engines)}"
            if quantization or args.onnx:
                asked_by = "--quantize int8" if quantization else "--onnx"
            export_onnx_model(
                config["model_file"],
                config["params_file"],
                os.path.join(work, ONNX_MODEL_FILE),
                args.onnx_opset,
                flag=asked_by,
            )
            check_onnx_engines(work, onnx_engines, batches, expected, tolerance)
        if args.precision == "fp16":
            export_fp16(work, batches, dynamic_outputs)
        if quantization:
            quantize_exported_model(work, quantization)

        written = sorted(os.listdir(work), key=lambda name: name == "deploy.yaml")
        if not os.path.exists(save_dir):
            os.replace(work, save_dir)
        else:  # file by file into an existing folder, deploy.yaml last
            for name in written:
                os.replace(os.path.join(work, name), os.path.join(save_dir, name))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"wrote {', '.join(written)} to {args.save_dir}")
