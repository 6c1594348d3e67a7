"""ONNX behind export.py --onnx and infer.py --onnx: paddle2onnx converts the saved
inference model, onnxruntime runs it. Both packages are optional extras, imported only
when asked for, with a one-line message when missing."""

import importlib
import inspect
import os

import numpy as np

from .errors import fail

# File name of the ONNX model beside deploy.yaml.
ONNX_MODEL_FILE = "model.onnx"

# Opset asked of paddle2onnx (it raises the opset itself where an op needs a newer one).
ONNX_OPSET = 11


def import_optional(module, flag):
    """Import an optional package, or stop with one line saying how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        fail(f"{flag} needs the '{module}' package: pip install {module}")


def export_onnx_model(model_file, params_file, onnx_file, opset=ONNX_OPSET):
    """Convert a saved Paddle inference model (.json or .pdmodel) to ONNX with paddle2onnx."""
    paddle2onnx = import_optional("paddle2onnx", "--onnx")
    options = {"opset_version": opset}
    # paddle2onnx's default optimizer (polygraphy) pip-installs its own dependencies at
    # run time; onnxoptimizer, which paddle2onnx requires anyway, does the same folding
    if "optimize_tool" in inspect.signature(paddle2onnx.export).parameters:
        options["optimize_tool"] = "onnxoptimizer"
    os.environ.setdefault("POLYGRAPHY_AUTOINSTALL_DEPS", "0")
    try:
        paddle2onnx.export(model_file, params_file, onnx_file, **options)
    except Exception as error:  # noqa: BLE001 - an op paddle2onnx cannot convert
        reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
        fail(f"paddle2onnx cannot convert {model_file}: {reason}", status=1)
    if not os.path.isfile(onnx_file):
        fail(f"paddle2onnx wrote no {onnx_file}", status=1)


def create_onnx_session(onnx_file, device="cpu", cpu_threads=None):
    """An onnxruntime session for `onnx_file` (CUDA first on --device gpu, when present)."""
    onnxruntime = import_optional("onnxruntime", "--onnx")
    if not os.path.isfile(onnx_file):
        fail(f"{onnx_file}: ONNX model not found (export.py --onnx writes it)")
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3  # not the converter's unused-initializer warnings
    if cpu_threads:
        options.intra_op_num_threads = int(cpu_threads)
    providers = ["CPUExecutionProvider"]
    if device == "gpu":
        providers.insert(0, "CUDAExecutionProvider")
    available = onnxruntime.get_available_providers()
    try:
        return onnxruntime.InferenceSession(
            onnx_file, options, providers=[p for p in providers if p in available]
        )
    except Exception as error:  # noqa: BLE001 - a corrupt file is a user error
        reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
        fail(f"{onnx_file}: onnxruntime cannot load it ({reason})")


def run_onnx_session(session, batch):
    """Run the session on a float32 NCHW batch; its first output as a numpy array."""
    return session.run(None, {session.get_inputs()[0].name: batch})[0]


def check_onnx_model(onnx_file, batch, expected, min_agreement, max_relative_diff):
    """Run the ONNX model with onnxruntime on `batch` and compare with `expected`, the
    Paddle Inference output; (passed, description). Class ids: share of equal pixels
    >= min_agreement; probabilities or logits: also the largest difference <=
    max_relative_diff x max(1, largest magnitude of `expected`)."""
    actual = run_onnx_session(create_onnx_session(onnx_file), batch)
    where = f"input {'x'.join(map(str, batch.shape))}"
    if actual.shape != expected.shape:
        return False, f"output shape {list(actual.shape)} vs {list(expected.shape)}"
    if not np.issubdtype(expected.dtype, np.floating):
        agreement = float((actual == expected).mean())
        return agreement >= min_agreement, (
            f"argmax agreement {agreement:.6f} on {where} (need >= {min_agreement})"
        )
    difference = float(np.abs(actual.astype(np.float64) - expected).max())
    bound = max_relative_diff * max(1.0, float(np.abs(expected).max()))
    agreement = float((actual.argmax(axis=1) == expected.argmax(axis=1)).mean())
    passed = difference <= bound and agreement >= min_agreement
    return passed, (
        f"max abs difference {difference:.3g} on {where} (need <= {bound:.3g}), "
        f"argmax agreement {agreement:.6f} (need >= {min_agreement})"
    )
