"""int8 post-training quantization behind export.py --quantize int8.

NNCF (OpenVINO's Neural Network Compression Framework), through its ONNX backend,
quantizes the exported ONNX model: calibration images, preprocessed exactly as infer.py
does (deploy.yaml's transforms at the export's input shape), set the range of each
quantized activation; weights get one int8 scale per output channel. The result is a
QDQ ONNX file (QuantizeLinear/DequantizeLinear pairs around each quantized op) beside
deploy.yaml, which onnxruntime and OpenVINO both run with int8 kernels; deploy.yaml and
the float model stay as they are. Two steps before NNCF matter for speed: onnxruntime's
basic graph optimizations fold every BatchNorm into its convolution (a Conv, Q/DQ, then
BN would keep the convolution in float), and the model is converted at opset 13, the
first whose DequantizeLinear takes per-channel scales.

Quantization moves class maps a little; how much is measured, not assumed: int8 and
float class maps are compared with onnxruntime on the calibration images and on
held-out ones, printed, and written to quantization.json with the method, the package
versions and the calibration set. A low agreement is a warning in both places. nncf,
onnx, onnxruntime and paddle2onnx are optional extras, imported only here.
"""

import importlib
import json
import logging
import os

import paddle

from ..data.datasets import DEMO_DATA_DIR
from ..data.image_files import ImageFileError, read_image_file
from ..data.infer_transforms import (
    infer_normalize_coefficients,
    infer_postprocess,
)
from .deploy_config import load_deploy_config
from .errors import fail
from .infer_cli import list_infer_images, preprocess_as_deployed
from .onnx_export import ONNX_MODEL_FILE, create_onnx_session, run_onnx_session

# Files export.py --quantize int8 writes beside deploy.yaml.
QUANTIZED_ONNX_FILE = "model_int8.onnx"
QUANTIZATION_RECORD_FILE = "quantization.json"

# The packages --quantize int8 needs, by import name (pip names are the same).
QUANTIZE_PACKAGES = ("paddle2onnx", "onnx", "onnxruntime", "nncf")

# Per-channel QuantizeLinear/DequantizeLinear (their `axis`) came with opset 13; at 11,
# onnxruntime dequantizes per-channel weights to float and runs the convolution in float.
QUANTIZE_ONNX_OPSET = 13

# Calibration images used by default (NNCF's statistics settle within a few dozen for
# these models), and images after them kept apart for the agreement check.
QUANTIZE_CALIB_COUNT = 32
QUANTIZE_HELDOUT_COUNT = 8

# Share of pixels whose int8 class equals the float one, below which export.py warns.
# A proxy for mIoU, loose for a weak model: the demo's PP-LiteSeg (mIoU 0.59) has many
# near-tied pixels, agrees at 0.97 on held-out images and gains a point of mIoU.
QUANTIZE_MIN_AGREEMENT = 0.95


def quantize_arguments(parser):
    """export.py's --quantize flags."""
    parser.add_argument(
        "--quantize",
        choices=("int8",),
        help=f"also write {QUANTIZED_ONNX_FILE}, an int8 QDQ ONNX model (NNCF post-training "
        "quantization, calibrated on --calib-data), and quantization.json with its check "
        "against the float model; implies --onnx, at opset 13 or later",
    )
    parser.add_argument(
        "--calib-data",
        metavar="DIR|LIST|demo",
        help="--quantize's calibration images: a folder, a .txt list (first column) or "
        f"'demo' ({DEMO_DATA_DIR}/train.txt, as train.py --data demo writes it)",
    )
    parser.add_argument(
        "--calib-count",
        type=int,
        default=QUANTIZE_CALIB_COUNT,
        help="calibration images used, the first of --calib-data; up to "
        f"{QUANTIZE_HELDOUT_COUNT} after them are held out for the check (default: %(default)s)",
    )


def prepare_quantization(args):
    """Check --quantize's flags, packages and calibration images before anything is
    exported; {"source", "calibration", "heldout"} (image paths), or None without
    --quantize. Sets what quantizing needs: the ONNX file, at opset 13 or later."""
    if not args.quantize:
        if args.calib_data is not None:
            fail("--calib-data goes with --quantize int8")
        return None
    if args.calib_data is None:
        fail("--quantize int8 needs calibration images: --calib-data DIR|LIST.txt|demo")
    if args.calib_count < 1:
        fail("--calib-count must be >= 1")
    missing = []
    for name in QUANTIZE_PACKAGES:
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
    if missing:
        fail(
            f"--quantize int8 needs the {', '.join(missing)} package(s): "
            f"pip install {' '.join(QUANTIZE_PACKAGES)}"
        )
    calibration, heldout = calibration_image_lists(args.calib_data)
    args.onnx = True
    args.onnx_opset = max(args.onnx_opset, QUANTIZE_ONNX_OPSET)
    count = args.calib_count
    heldout = heldout if heldout is not None else calibration[count:]
    return {
        "source": args.calib_data,
        "calibration": calibration[:count],
        "heldout": heldout[:QUANTIZE_HELDOUT_COUNT],
    }


def calibration_image_lists(source):
    """(calibration images, held-out images or None) of --calib-data: 'demo' is the demo
    data's training list, its validation list held out; else a folder, a .txt list or
    one image, whose images after the calibration ones are held out."""
    if source == "demo":
        train_list = os.path.join(DEMO_DATA_DIR, "train.txt")
        if not os.path.isfile(train_list):
            fail(
                f"--calib-data demo: {train_list} not found here; run export.py where "
                "train.py --data demo wrote demo_data/, or pass a folder of images"
            )
        val_list = os.path.join(DEMO_DATA_DIR, "val.txt")
        heldout = list_infer_images(val_list) if os.path.isfile(val_list) else []
        return list_infer_images(train_list), heldout
    if not os.path.exists(source):
        fail(
            f"--calib-data {source}: no such folder or file (a folder of images, a .txt list or demo)"
        )
    return list_infer_images(source), None


def calibration_batches(config, paths):
    """Each image as infer.py feeds it to the model: deploy.yaml's transforms, 1x3xHxW."""
    scale, shift = infer_normalize_coefficients(config["mean"], config["std"])
    batches = []
    for path in paths:
        try:
            image = read_image_file(path)
            batches.append(preprocess_as_deployed(image, scale, shift, config))
        except ImageFileError as error:
            fail(f"--calib-data: {error}")
        except ValueError as error:
            fail(f"--calib-data: {path}: {error} of {config['path']}")
    return batches


def prepare_onnx_for_int8(onnx_file, prepared_file):
    """The float model as NNCF should see it: onnxruntime's basic, hardware-independent
    graph optimizations (BatchNorm folded into convolutions, constants folded), saved."""
    onnx = importlib.import_module("onnx")
    onnxruntime = importlib.import_module("onnxruntime")
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_BASIC
    options.optimized_model_filepath = prepared_file
    onnxruntime.InferenceSession(onnx_file, options, providers=["CPUExecutionProvider"])
    model = onnx.load(prepared_file)
    # onnxruntime declares every domain it knows; keep those the graph uses
    used = {node.domain for node in model.graph.node} | {""}
    kept = [opset for opset in model.opset_import if opset.domain in used]
    del model.opset_import[:]
    model.opset_import.extend(kept)
    return model


def quantize_onnx_int8(onnx_file, int8_file, batches):
    """NNCF post-training quantization of `onnx_file` calibrated on `batches`, saved as
    `int8_file` (QDQ). Its own errors end the program in one line (exit 1)."""
    onnx = importlib.import_module("onnx")
    nncf = importlib.import_module("nncf")
    nncf.set_log_level(logging.ERROR)  # not its per-node notes
    prepared_file = int8_file + ".float.onnx"
    try:
        model = prepare_onnx_for_int8(onnx_file, prepared_file)
        name = model.graph.input[0].name
        dataset = nncf.Dataset(batches, lambda batch: {name: batch})
        quantized = nncf.quantize(
            model,
            dataset,
            # symmetric int8 activations: the int8 kernels of both engines take them
            # without a zero-point correction (MIXED's asymmetric ones fail in OpenVINO)
            preset=nncf.QuantizationPreset.PERFORMANCE,
            subset_size=len(batches),
        )
        onnx.save(quantized, int8_file)
    except Exception as error:  # noqa: BLE001 - NNCF's failure is reported, not a traceback
        reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
        fail(f"NNCF cannot quantize this model ({reason})", status=1)
    finally:
        if os.path.exists(prepared_file):
            os.remove(prepared_file)


def class_map_agreement(session, other, batches):
    """Share of pixels where two ONNX sessions give the same class, over `batches`."""
    equal = total = 0
    for batch in batches:
        first = infer_postprocess(run_onnx_session(session, batch))
        second = infer_postprocess(run_onnx_session(other, batch))
        equal += int((first == second).sum())
        total += first.size
    return equal / total


def quantized_model_facts(model_file):
    """(its QuantizeLinear and DequantizeLinear counts, its ONNX opset)."""
    model = importlib.import_module("onnx").load(model_file)
    counts = dict.fromkeys(("QuantizeLinear", "DequantizeLinear"), 0)
    for node in model.graph.node:
        if node.op_type in counts:
            counts[node.op_type] += 1
    return counts, max(opset.version for opset in model.opset_import if opset.domain == "")


def quantize_exported_model(folder, quantization):
    """export.py --quantize int8: quantize `folder`'s ONNX model, check it against the
    float one and write QUANTIZED_ONNX_FILE and QUANTIZATION_RECORD_FILE there."""
    config = load_deploy_config(folder)
    onnx_file = os.path.join(folder, ONNX_MODEL_FILE)
    int8_file = os.path.join(folder, QUANTIZED_ONNX_FILE)
    calibration = calibration_batches(config, quantization["calibration"])
    heldout = calibration_batches(config, quantization["heldout"])
    print(f"quantizing to int8 with NNCF on {len(calibration)} calibration image(s)")
    quantize_onnx_int8(onnx_file, int8_file, calibration)

    counts, opset = quantized_model_facts(int8_file)
    sessions = create_onnx_session(onnx_file), create_onnx_session(int8_file)
    agreement = class_map_agreement(*sessions, calibration)
    heldout_agreement = class_map_agreement(*sessions, heldout) if heldout else None
    lowest = min(a for a in (agreement, heldout_agreement) if a is not None)
    check = {
        "engine": "onnxruntime",
        "what": "share of pixels whose int8 class equals the float model's",
        "calibration_images": len(calibration),
        "calibration_agreement": round(agreement, 6),
        "heldout_images": len(heldout),
        "heldout_agreement": None if heldout_agreement is None else round(heldout_agreement, 6),
        "min_agreement": QUANTIZE_MIN_AGREEMENT,
        "passed": lowest >= QUANTIZE_MIN_AGREEMENT,
    }
    where = f"{agreement:.4f} on {len(calibration)} calibration image(s)"
    if heldout_agreement is not None:
        where += f", {heldout_agreement:.4f} on {len(heldout)} held-out image(s)"
    else:
        where += " (no held-out image: pass more than --calib-count images to have some)"
    print(f"int8 check (onnxruntime, int8 vs float class maps): agreement {where}")
    record = {
        "file": QUANTIZED_ONNX_FILE,
        "float_file": ONNX_MODEL_FILE,
        "format": "QDQ ONNX: int8 weights (per output channel), int8/uint8 activations",
        "method": "NNCF post-training quantization (ONNX backend), BatchNorm folded first",
        "preset": "performance",
        "opset": opset,
        "quantize_dequantize_nodes": counts,
        "packages": quantization_package_versions(),
        "calibration": {
            "source": quantization["source"],
            "images": len(calibration),
            "input_shapes": sorted({"x".join(map(str, b.shape)) for b in calibration}),
        },
        "check": check,
    }
    if not check["passed"]:
        record["warning"] = (
            f"int8 class maps agree with the float model's on only {lowest:.2%} of pixels "
            f"(below {QUANTIZE_MIN_AGREEMENT:.0%}): measure its mIoU before deploying it, "
            "or calibrate on more images like those it will see"
        )
        print(f"WARNING: {record['warning']}")
    with open(os.path.join(folder, QUANTIZATION_RECORD_FILE), "w", encoding="utf-8") as f:
        json.dump(record, f, indent=2)
        f.write("\n")


def quantization_package_versions():
    """Versions of the packages that made the int8 model, for quantization.json."""
    versions = {"paddlepaddle": paddle.__version__}
    for name in QUANTIZE_PACKAGES:
        versions[name] = getattr(importlib.import_module(name), "__version__", "unknown")
    return versions
