"""The results file of `segc bench`: its JSON Schema, reading, validating, merging, writing.

One file (by default `benchmarks/results/zoo_bench.json`) holds one entry per
combination, keyed by its name. Re-running `segc bench` on a subset replaces those
entries and keeps the others, so the zoo page can always be regenerated from the
file alone. The schema below is the documentation of every field; `version` goes up
whenever a field changes meaning or a required one is added.

Imports nothing heavy: `segc bench --report-only` and the tests use it without Paddle.
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path

RESULTS_FORMAT = "segc-zoo-bench"
RESULTS_VERSION = 1
DEFAULT_RESULTS = Path("benchmarks") / "results" / "zoo_bench.json"

# Stages of one inference, as infer.py and the seed's summary table time them.
LATENCY_STAGES = ("read", "preprocess", "inference", "postprocess")


def _number(description, minimum=0):
    return {"type": "number", "minimum": minimum, "description": description}


def _nullable(schema):
    return {"oneOf": [{"type": "null"}, schema]}


STATS_SCHEMA = {
    "type": "object",
    "description": "Milliseconds of one stage over `runs` timed runs after the warm-up.",
    "required": ["runs", "median", "mean", "min", "max", "p10", "p90", "stdev", "cpu_median"],
    "additionalProperties": False,
    "properties": {
        "runs": {"type": "integer", "minimum": 1, "description": "timed runs"},
        "median": _number("median wall-clock ms (the figure the page shows)"),
        "mean": _number("mean wall-clock ms"),
        "min": _number("fastest run, wall-clock ms"),
        "max": _number("slowest run, wall-clock ms"),
        "p10": _number("10th percentile, wall-clock ms"),
        "p90": _number("90th percentile, wall-clock ms"),
        "stdev": _number("standard deviation of the wall-clock ms (0 for one run)"),
        "cpu_median": _number("median CPU ms of the process (all its threads) in the stage: "
                              "less sensitive than wall-clock time to other load on a "
                              "shared machine"),
    },
}

ENVIRONMENT_SCHEMA = {
    "type": "object",
    "description": "The machine, device and library versions an entry was measured with.",
    "required": ["platform", "cpu_model", "logical_cpus", "python", "paddle", "device",
                 "numpy", "opencv"],
    "properties": {
        "platform": {"type": "string", "description": "platform.platform()"},
        "cpu_model": {"type": "string", "description": "model name from /proc/cpuinfo"},
        "logical_cpus": {"type": "integer", "minimum": 1},
        "memory_gib": _nullable(_number("total memory, GiB")),
        "python": {"type": "string"},
        "paddle": {"type": "string", "description": "paddle.__version__"},
        "paddle_commit": {"type": ["string", "null"]},
        "paddle_cuda": {"type": "boolean", "description": "Paddle built with CUDA"},
        "device": {"type": "string", "description": "what ran the model: 'cpu' or the GPU's "
                   "name"},
        "numpy": {"type": "string"},
        "opencv": {"type": "string"},
        "onnxruntime": {"type": ["string", "null"]},
        "paddle2onnx": {"type": ["string", "null"]},
        "load_average": {"type": "array", "items": {"type": "number"}, "maxItems": 3,
                         "description": "1, 5 and 15 minute load averages when the entry's "
                         "measurement started: a busy shared machine shows here"},
    },
}

ENTRY_SCHEMA = {
    "type": "object",
    "description": "Everything measured for one combination, and the seed's figures.",
    "required": ["combination", "arch", "backbone", "spec_file", "measured_at",
                 "segc_version", "environment", "settings", "params", "flops", "export",
                 "latency_ms", "reference", "errors"],
    "additionalProperties": False,
    "properties": {
        "combination": {"type": "string", "description": "the generated folder's name"},
        "arch": {"type": "string", "description": "the architecture's title (Model column)"},
        "backbone": {"type": "string"},
        "spec_file": {"type": "string"},
        "measured_at": {"type": "string", "description": "UTC, ISO 8601, when measured"},
        "segc_version": {"type": "string"},
        "scripts_sha256": {
            "type": "object", "additionalProperties": {"type": "string"},
            "description": "sha256 of the generated train.py, export.py and infer.py measured",
        },
        "environment": ENVIRONMENT_SCHEMA,
        "settings": {
            "type": "object",
            "description": "How the entry was measured.",
            "required": ["device", "input_shape", "warmup", "runs"],
            "properties": {
                "device": {"enum": ["cpu", "gpu"]},
                "cpu_threads": {"type": ["integer", "null"], "minimum": 1},
                "onednn": {"type": "boolean"},
                "input_shape": {"type": "array", "items": {"type": "integer"},
                                "minItems": 4, "maxItems": 4,
                                "description": "N C H W of the FLOPs count and the latency "
                                "input"},
                "warmup": {"type": "integer", "minimum": 0},
                "runs": {"type": "integer", "minimum": 1},
                "output_op": {"type": "string", "description": "export.py --output-op"},
                "engines": {"type": "array", "items": {"type": "string"},
                            "description": "export.py --engines; each one's model run is "
                            "in engine_latency_ms"},
            },
        },
        "params": {
            "type": "object",
            "required": ["total", "eval"],
            "additionalProperties": False,
            "properties": {
                "total": {"type": "integer", "minimum": 0,
                          "description": "every parameter of the model (auxiliary heads "
                          "that only train included)"},
                "eval": {"type": ["integer", "null"], "minimum": 0,
                         "description": "parameters of the layers an eval forward pass runs, "
                         "as paddle.flops counts them (the seed's Params(M)); null when "
                         "FLOPs were not measured"},
            },
        },
        "flops": _nullable({
            "type": "object",
            "required": ["flops", "gflops"],
            "additionalProperties": False,
            "description": "paddle.flops conventions (a multiply-add counts once) at "
                           "settings.input_shape, eval mode",
            "properties": {"flops": {"type": "integer", "minimum": 0},
                           "gflops": _number("flops / 1e9")},
        }),
        "export": _nullable({
            "type": "object",
            "required": ["seconds", "check"],
            "properties": {
                "seconds": _number("wall time of the generated export.py"),
                "check": {"type": "string", "description": "export.py's own check of the "
                          "exported model against the dynamic one"},
                "onnx_check": {"type": ["string", "null"],
                               "description": "export.py --onnx's check of the ONNX model"},
            },
        }),
        "latency_ms": _nullable({
            "type": "object",
            "description": "Paddle Inference at batch 1 through infer.py's functions: read "
                           "(decode the PNG), preprocess (to the normalized input), inference "
                           "(predictor run, copies included), postprocess (to a label mask)",
            "required": list(LATENCY_STAGES),
            "additionalProperties": False,
            "properties": {stage: STATS_SCHEMA for stage in LATENCY_STAGES},
        }),
        "onnx_latency_ms": _nullable({**STATS_SCHEMA, "description": (
            "onnxruntime's model run, as `segc bench --onnx` recorded it before "
            "engine_latency_ms (kept in older entries)")}),
        "engine_latency_ms": _nullable({
            "type": "object",
            "description": "The model run alone (the preprocessed image in, the output "
                           "out) on each engine `segc bench --engines` named, loaded as "
                           "infer.py --engine loads it: paddle, onnxruntime, openvino",
            "additionalProperties": STATS_SCHEMA,
        }),
        "reference": {
            "type": "object",
            "description": "The spec's `reference:` (the seed's figures), carried as is.",
            "properties": {
                "config": {"type": "string"},
                "miou": {"type": "number"},
                "gflops": {"type": "number"},
                "params_m": {"type": "number"},
                "inference_ms": {"type": "number"},
                "preprocess_ms": {"type": "number"},
                "postprocess_ms": {"type": "number"},
                "note": {"type": "string"},
            },
        },
        "errors": {"type": "array", "items": {"type": "string"},
                   "description": "'step: message' for each step that failed; its figures "
                   "are null"},
    },
}

RESULTS_SCHEMA = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "title": "segc bench results",
    "description": "Figures `segc bench` measured per combination; `segc bench --report-only` "
                   "turns them into docs/model_zoo.md and its charts.",
    "type": "object",
    "required": ["format", "version", "entries"],
    "additionalProperties": False,
    "properties": {
        "format": {"const": RESULTS_FORMAT},
        "version": {"const": RESULTS_VERSION},
        "entries": {"type": "object", "additionalProperties": ENTRY_SCHEMA,
                    "description": "one entry per combination, keyed by its name"},
    },
}


class ResultsError(Exception):
    """The results file is missing, unreadable or breaks the schema."""


def empty_results() -> dict:
    return {"format": RESULTS_FORMAT, "version": RESULTS_VERSION, "entries": {}}


def validation_errors(data) -> list[str]:
    """Every schema violation of `data`, as 'path: message' lines (empty when valid)."""
    import jsonschema
    from jsonschema.exceptions import best_match

    validator = jsonschema.Draft7Validator(RESULTS_SCHEMA)
    errors = []
    for error in sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path)):
        # "null or an object": report what is wrong inside the object, not the whole value
        def not_null_branch(e):
            return not (e.validator == "type" and e.validator_value == "null")

        while error.context and any(not_null_branch(e) for e in error.context):
            error = best_match(e for e in error.context if not_null_branch(e))
        where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
        errors.append(f"{where}: {error.message}")
    if isinstance(data, dict) and isinstance(data.get("entries"), dict):
        for key, entry in data["entries"].items():
            if isinstance(entry, dict) and entry.get("combination") != key:
                errors.append(f"entries/{key}: its combination is "
                              f"{entry.get('combination')!r}, not its key")
    return errors


def load_results(path: Path, missing_ok: bool = False) -> dict:
    path = Path(path)
    if not path.exists():
        if missing_ok:
            return empty_results()
        raise ResultsError(f"{path}: no results file; run `segc bench` first")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ResultsError(f"{path}: not JSON ({exc})") from None
    errors = validation_errors(data)
    if errors:
        shown = "; ".join(errors[:5]) + (f" (+{len(errors) - 5} more)" if len(errors) > 5 else "")
        raise ResultsError(f"{path}: does not follow the results schema: {shown}")
    return data


# What a run can leave out (segc bench --no-flops / --no-latency), and the entry fields
# that part fills.
PART_FIELDS = {"flops": ("flops",), "latency": ("export", "latency_ms", "engine_latency_ms")}


def merge_entries(results: dict, entries: list[dict], not_measured=()) -> dict:
    """`results` with `entries` replacing those of the same combinations, keys sorted.
    The parts named in `not_measured` ("flops", "latency": what this run skipped) keep
    the replaced entry's figures where it measured them at the same input size, so that
    a latency-only run does not erase the FLOPs an earlier run counted."""
    merged = dict(results["entries"])
    for entry in entries:
        previous = merged.get(entry["combination"])
        if previous is not None and (previous["settings"]["input_shape"]
                                     == entry["settings"]["input_shape"]):
            entry = copy.deepcopy(entry)
            for part in not_measured:
                for field in PART_FIELDS[part]:
                    entry[field] = previous.get(field)
                if part == "flops":
                    entry["params"]["eval"] = previous["params"].get("eval")
        merged[entry["combination"]] = entry
    return {**results, "entries": dict(sorted(merged.items()))}


def schema_text() -> str:
    """RESULTS_SCHEMA as the JSON file committed beside the results
    (benchmarks/results/zoo_bench.schema.json)."""
    return json.dumps(RESULTS_SCHEMA, indent=2, ensure_ascii=False) + "\n"


def dumps(results: dict) -> str:
    return json.dumps(results, indent=2, sort_keys=False, ensure_ascii=False) + "\n"


def schema_path(path: Path) -> Path:
    """Where the schema goes beside a results file: zoo_bench.json -> zoo_bench.schema.json."""
    path = Path(path)
    return path.with_name(f"{path.stem}.schema.json")


def save_results(path: Path, results: dict) -> None:
    """Validate, then write atomically (a kill never leaves half a file), with the schema
    beside it."""
    errors = validation_errors(results)
    if errors:
        raise ResultsError("refusing to write results that break the schema: " + "; ".join(
            errors[:5]))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(dumps(results), encoding="utf-8")
    os.replace(tmp, path)
    schema = schema_path(path)
    if not schema.is_file() or schema.read_text(encoding="utf-8") != schema_text():
        schema.write_text(schema_text(), encoding="utf-8")
