"""ONNX behind export.py --engines onnxruntime,openvino (--onnx) and infer.py --engine:
paddle2onnx converts the saved inference model, onnxruntime (or OpenVINO, runtime/engines)
runs it; the comparison of two outputs of one model that export.py's checks use. The
packages are optional extras, imported only when asked for, with a one-line message when
missing."""

import json
import os
import re
import signal
import subprocess
import sys

import numpy as np

from .errors import fail, import_optional

# File name of the ONNX model beside deploy.yaml.
ONNX_MODEL_FILE = "model.onnx"

# Opset asked of paddle2onnx (it raises the opset itself where an op needs a newer one).
ONNX_OPSET = 11


# paddle2onnx.export in a child process: on an operator it cannot convert, paddle2onnx
# aborts the whole process (SIGABRT from C++), which must not take export.py with it.
CONVERT_IN_CHILD = """
import inspect, os, sys
import paddle2onnx
model_file, params_file, onnx_file, opset = sys.argv[1:5]
options = {"opset_version": int(opset)}
# paddle2onnx's default optimizer (polygraphy) pip-installs its own dependencies at run
# time; onnxoptimizer, which paddle2onnx requires anyway, does the same folding
if "optimize_tool" in inspect.signature(paddle2onnx.export).parameters:
    options["optimize_tool"] = "onnxoptimizer"
os.environ.setdefault("POLYGRAPHY_AUTOINSTALL_DEPS", "0")
paddle2onnx.export(model_file, params_file, onnx_file, **options)
"""

# Operators of segc's models that paddle2onnx has no converter for, and what they are.
ONNX_UNSUPPORTED_OPS = {
    "unpool": "max_unpool2d, the unpooling with max-pooling indices of SegNet and ENet",
    "trunc": "paddle.trunc, in GSCNN's in-graph Canny edge detector",
}


def program_op_names(model_file):
    """The operator names of a saved PIR program (model.json), e.g. {"conv2d", "unpool"};
    empty for the older .pdmodel format."""
    if not model_file.endswith(".json"):
        return set()
    with open(model_file, encoding="utf-8") as f:
        program = json.load(f)
    names, pending = set(), [program.get("program", {})]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            if isinstance(node.get("#"), str) and "O" in node:
                names.add(node["#"].split(".", 1)[-1])
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    return names


def conversion_failure(model_file, output, returncode=1):
    """One line saying why paddle2onnx failed on `model_file` and what to do, from its
    output and exit status (it names no operator itself when it aborts)."""
    unsupported = sorted(program_op_names(model_file) & set(ONNX_UNSUPPORTED_OPS))
    if unsupported:
        ops = "; ".join(f"{op} ({ONNX_UNSUPPORTED_OPS[op]})" for op in unsupported)
        return (
            f"paddle2onnx cannot convert this model: it has no converter for {ops}; "
            "deploy it with Paddle Inference (infer.py without --onnx)"
        )
    if "only support static input shape" in output:
        return (
            "paddle2onnx cannot convert this model with a dynamic input size (its adaptive "
            "pooling needs a fixed one): export again with --input-shape 1 3 HEIGHT WIDTH"
        )
    reasons = converter_errors(output)
    if reasons:
        reason = "; ".join(reasons)
    elif returncode < 0:  # killed by a signal: a crash inside paddle2onnx
        reason = f"it crashed with {signal.Signals(-returncode).name}"
    else:
        reason = "it stopped without a message"
    return (
        f"paddle2onnx cannot convert this model ({reason}); "
        "deploy it with Paddle Inference (infer.py without --onnx)"
    )


# What paddle2onnx wraps its error lines in: colour codes, a time stamp, tags.
CONVERTER_LINE_NOISE = re.compile(
    r"\x1b\[[0-9;]*m|\d{4}-\d\d-\d\d \d\d:\d\d:\d\d|\[ERROR\]|\[Paddle2ONNX\]"
)


def converter_errors(output):
    """paddle2onnx's own error lines, bare and each once, most specific first (its
    closing 'There are unsupported features.' only when it said nothing else)."""
    reasons = []
    for line in output.splitlines():
        if "[ERROR]" in line:
            reason = CONVERTER_LINE_NOISE.sub("", line).strip()
            if reason and reason not in reasons:
                reasons.append(reason)
    specific = [r for r in reasons if r != "There are unsupported features."]
    return specific or reasons


def export_onnx_model(model_file, params_file, onnx_file, opset=ONNX_OPSET, flag="--onnx"):
    """Convert a saved Paddle inference model (.json or .pdmodel) to ONNX with paddle2onnx,
    run in a child process; one line and exit 2 when it cannot (or, naming `flag`, when
    paddle2onnx is not installed)."""
    import_optional("paddle2onnx", flag)
    completed = subprocess.run(
        [sys.executable, "-c", CONVERT_IN_CHILD, model_file, params_file, onnx_file, str(opset)],
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0 or not os.path.isfile(onnx_file):
        fail(
            conversion_failure(
                model_file, completed.stdout + completed.stderr, completed.returncode
            )
        )


def create_onnx_session(onnx_file, device="cpu", cpu_threads=None, flag="--onnx"):
    """An onnxruntime session for `onnx_file` (CUDA first on --device gpu, when present);
    `flag` is what asked for it, named when the package is missing."""
    onnxruntime = import_optional("onnxruntime", flag)
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


def compare_outputs(actual, expected, where, min_agreement, bound, pixel_share=None):
    """Compare two outputs of one model on one input; (figure, passed, description).

    Class ids: the share of equal pixels must be >= min_agreement. Probabilities or
    logits: the class maps likewise, and the largest difference must be <= bound; with
    `pixel_share`, the largest among that share of pixels (those differing least), for
    a model whose output jumps under float32 reordering (SegNet's unpooling moves a
    value when two maxima are near-tied), where a few pixels may differ entirely.
    """
    if actual.shape != expected.shape:
        return None, False, f"output shape {list(actual.shape)} vs {list(expected.shape)}"
    if not np.issubdtype(expected.dtype, np.floating):
        agreement = float((actual == expected).mean())
        description = f"argmax agreement {agreement:.6f} on {where} (need >= {min_agreement})"
        return agreement, agreement >= min_agreement, description
    per_pixel = np.abs(actual.astype(np.float64) - expected).max(axis=1)
    if pixel_share is None:
        difference, scope = float(per_pixel.max()), ""
    else:
        difference = float(np.quantile(per_pixel, pixel_share))
        scope = f", {pixel_share:.1%} of pixels"
    agreement = float((actual.argmax(axis=1) == expected.argmax(axis=1)).mean())
    passed = difference <= bound and agreement >= min_agreement
    description = (
        f"max abs difference {difference:.3g} on {where}{scope} (need <= {bound:.3g}), "
        f"argmax agreement {agreement:.6f} (need >= {min_agreement})"
    )
    return difference, passed, description


def check_onnx_model(
    onnx_file, batch, expected, min_agreement, max_relative_diff, pixel_share=None
):
    """Run the ONNX model with onnxruntime on `batch` and compare with `expected`, the
    Paddle Inference output (`compare_outputs`; the bound is max_relative_diff x
    max(1, largest magnitude of `expected`)); (passed, description)."""
    actual = run_onnx_session(create_onnx_session(onnx_file), batch)
    bound = max_relative_diff * max(1.0, float(np.abs(expected).max()))
    where = f"input {'x'.join(map(str, batch.shape))}"
    _, passed, description = compare_outputs(
        actual, expected, where, min_agreement, bound, pixel_share
    )
    return passed, description
