"""The ONNX status file (benchmarks/results/onnx_status.json): what `export.py --onnx`
did for each combination and whether OpenVINO agrees with onnxruntime on the ONNX file,
as benchmarks/onnx_status.py measured it; docs/model_zoo.md shows it.

One entry per combination, keyed by its name; a run on some combinations replaces
theirs and keeps the others. The schema below documents every field. Imports nothing
heavy: the zoo page and the tests read it without Paddle.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

STATUS_FORMAT = "segc-onnx-status"
STATUS_VERSION = 1
# Beside segc bench's results file, which the zoo page is made from too.
STATUS_FILE = "onnx_status.json"
DEFAULT_STATUS = Path("benchmarks") / "results" / STATUS_FILE

# What export.py --onnx did: converted at the dynamic size; converted at a fixed size
# only (refusing any other first); refused (no converter); anything else.
STATUSES = ("converts", "fixed_input", "unsupported", "failed")


def _nullable(schema: dict) -> dict:
    return {"oneOf": [{"type": "null"}, schema]}


_SHARE = {"type": "number", "minimum": 0, "maximum": 1}

ENTRY_SCHEMA = {
    "type": "object",
    "required": ["combination", "measured_at", "status", "reason", "multiple", "input_shape",
                 "onnx_check", "onnxruntime_agreement", "openvino", "export_seconds",
                 "environment"],
    "additionalProperties": False,
    "properties": {
        "combination": {"type": "string", "description": "the generated folder's name"},
        "measured_at": {"type": "string", "description": "UTC, ISO 8601"},
        "status": {"enum": list(STATUSES)},
        "reason": {"type": ["string", "null"],
                   "description": "export.py's error line: why it stopped (unsupported, "
                   "failed), or its refusal without a fixed input size (fixed_input)"},
        "multiple": {"type": ["integer", "null"], "minimum": 1,
                     "description": "fixed_input: both sides must be multiples of it"},
        "input_shape": _nullable({"type": "array", "items": {"type": "integer"},
                                  "minItems": 4, "maxItems": 4,
                                  "description": "N C H W export.py checked the ONNX model "
                                  "at (its default check size for a dynamic export)"}),
        "onnx_check": {"type": ["string", "null"],
                       "description": "export.py's line comparing onnxruntime with Paddle "
                       "Inference"},
        "onnxruntime_agreement": _nullable(dict(_SHARE, description="share of pixels with "
                                                "the class Paddle Inference gives")),
        "openvino": _nullable({
            "type": "object",
            "required": ["f32", "default", "default_precision"],
            "additionalProperties": False,
            "description": "OpenVINO (CPU) on the same input, share of pixels with "
                           "onnxruntime's class",
            "properties": {
                "f32": dict(_SHARE, description="at f32 inference precision"),
                "default": dict(_SHARE, description="at OpenVINO's default precision"),
                "default_precision": {"type": "string",
                                      "description": "that default here (bf16 on CPUs with "
                                      "AMX or AVX512-BF16)"},
            },
        }),
        "export_seconds": {"type": ["number", "null"], "minimum": 0,
                           "description": "wall time of the converting export.py run"},
        "environment": {
            "type": "object",
            "required": ["paddle", "paddle2onnx", "onnxruntime", "openvino"],
            "properties": {name: {"type": ["string", "null"]} for name in (
                "python", "platform", "cpu_model", "paddle", "paddle2onnx", "onnxruntime",
                "openvino")},
        },
    },
}

STATUS_SCHEMA = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "title": "segc ONNX status",
    "type": "object",
    "required": ["format", "version", "entries"],
    "additionalProperties": False,
    "properties": {
        "format": {"const": STATUS_FORMAT},
        "version": {"const": STATUS_VERSION},
        "entries": {"type": "object", "additionalProperties": ENTRY_SCHEMA},
    },
}


class StatusError(Exception):
    """The status file is unreadable or breaks the schema."""


def empty_status() -> dict:
    return {"format": STATUS_FORMAT, "version": STATUS_VERSION, "entries": {}}


def validation_errors(data) -> list[str]:
    import jsonschema

    validator = jsonschema.Draft7Validator(STATUS_SCHEMA)
    errors = [f"{'/'.join(map(str, e.absolute_path)) or '(top level)'}: {e.message}"
              for e in sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))]
    if isinstance(data, dict) and isinstance(data.get("entries"), dict):
        errors += [f"entries/{key}: its combination is {entry.get('combination')!r}"
                   for key, entry in data["entries"].items()
                   if isinstance(entry, dict) and entry.get("combination") != key]
    return errors


def load_status(path: Path, missing_ok: bool = False) -> dict:
    path = Path(path)
    if not path.exists():
        if missing_ok:
            return empty_status()
        raise StatusError(f"{path}: no ONNX status file; run benchmarks/onnx_status.py")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise StatusError(f"{path}: not JSON ({exc})") from None
    errors = validation_errors(data)
    if errors:
        raise StatusError(f"{path}: does not follow its schema: {'; '.join(errors[:5])}")
    return data


def merge_status(status: dict, entries: list[dict]) -> dict:
    merged = dict(status["entries"])
    merged.update((entry["combination"], entry) for entry in entries)
    return {**status, "entries": dict(sorted(merged.items()))}


def save_status(path: Path, status: dict) -> None:
    """Validate, then write atomically."""
    errors = validation_errors(status)
    if errors:
        raise StatusError("refusing to write a status that breaks the schema: "
                          + "; ".join(errors[:5]))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(status, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)
