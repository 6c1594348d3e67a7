"""Build the JSON Schema of a spec from the catalog.

`schema/segspec.schema.json` is this function's output, committed so editors
(yaml-language-server) can use it; a test keeps the two equal. Draft-07 is the
newest draft yaml-language-server fully supports.
"""

from __future__ import annotations

import json

from . import catalog
from .catalog.sections import DATASET_DEFAULTS, EXPORT_DEFAULTS, TRAIN_DEFAULTS, VAL_DEFAULTS
from .catalog.types import SIZE

IDENTIFIER = "^[a-z][a-z0-9_]*$"
ONE_LINE = "^[^\\r\\n]*$"
# Bounds on sizes of time and memory: a typo (1e9 for a crop, 1e21 iterations) is a spec
# error rather than a run that never ends or never fits. Ten times PaddleSeg's longest
# schedule and its largest batches, with room to spare.
MAX_ITERS = 100_000_000
MAX_BATCH = 4096
MAX_WORKERS = 256


def _text(description: str, *, one_line: bool = True, examples=None) -> dict:
    schema = {"type": "string", "description": description}
    if one_line:
        schema["pattern"] = ONE_LINE
    if examples:
        schema["examples"] = examples
    return schema


def _component(kind: str, components: dict, description: str, extra_props: dict | None = None,
               examples=None) -> dict:
    """A `{type: Name, arg: value, ...}` object whose allowed args depend on `type`."""
    names = sorted(components)
    type_schema = {
        "description": f"Which {kind.replace('_', ' ')} to use.",
        "enum": names,
        "oneOf": [{"const": n, "description": components[n].description} for n in names],
    }
    branches = []
    for name in names:
        props = {"type": {"const": name}}
        props.update(extra_props or {})
        for arg in components[name].args:
            prop = dict(arg.schema)
            prop["description"] = arg.description
            prop["default"] = arg.default
            props[arg.name] = prop
        branches.append({
            "if": {"properties": {"type": {"const": name}}, "required": ["type"]},
            "then": {"properties": props, "additionalProperties": False},
        })
    schema = {
        "type": "object",
        "description": description,
        "required": ["type"],
        "properties": {"type": type_schema},
        "allOf": branches,
    }
    if examples:
        schema["examples"] = examples
    return schema


REQUIRED_TOP_LEVEL = ["name", "title", "dataset", "train", "val", "optimizer", "lr_scheduler",
                      "loss", "model", "variants"]


def build() -> dict:
    num = {"type": ["number", "null"], "minimum": 0}
    reference = {
        "type": "object",
        "description": "Reference figures of this combination from PaddleSeg's model zoo.",
        "additionalProperties": False,
        "properties": {
            "config": _text("PaddleSeg config file this variant reproduces.",
                            examples=["pspnet_resnet50_os8_cityscapes_1024x512_80k.yml"]),
            "miou": dict(num, maximum=100, description="Reference mIoU in percent."),
            "gflops": dict(num, description="Reference GFLOPs at 1x3x512x1024."),
            "params_m": dict(num, description="Reference parameters, millions (eval mode)."),
            "inference_ms": dict(num, description="Reference inference time (V100), ms."),
            "preprocess_ms": dict(num, description="Reference preprocess time, ms."),
            "postprocess_ms": dict(num, description="Reference postprocess time, ms."),
            "note": _text("Where the figures come from, or how this variant deviates."),
            "gflops_differs": _text(
                "Why the GFLOPs segc bench measures cannot equal `gflops`, the model zoo's "
                "own figure, although the model is PaddleSeg's (the parity test); the "
                "figure tests then check that they do differ, so the reason cannot go "
                "stale unnoticed."),
        },
    }
    transform = _component("transform", catalog.TRANSFORMS, "One data transform.",
                           examples=[{"type": "RandomHorizontalFlip"}])
    loss = _component(
        "loss", catalog.LOSSES,
        "Loss applied to the model output at the same position (main output first, "
        "then auxiliary outputs), weighted by `coef`.",
        extra_props={"coef": {"type": "number", "minimum": 0, "default": 1.0,
                              "description": "Weight of this loss in the total."}},
        examples=[{"type": "CrossEntropyLoss", "coef": 0.4}])
    backbone = _component("backbone", catalog.BACKBONES, "The backbone network.",
                          examples=[{"type": "ResNet50_vd", "output_stride": 8}])
    model = _component("model", catalog.MODELS,
                       "The segmentation architecture and its arguments.",
                       examples=[{"type": "PSPNet", "enable_auxiliary_loss": True}])
    optimizer = _component("optimizer", catalog.OPTIMIZERS, "The optimizer.",
                           examples=[{"type": "SGD", "momentum": 0.9, "weight_decay": 4.0e-5}])
    lr_scheduler = _component("lr_scheduler", catalog.LR_SCHEDULERS,
                              "The learning-rate schedule.",
                              examples=[{"type": "PolynomialDecay", "learning_rate": 0.01}])
    transforms = {"type": "array", "items": {"$ref": "#/definitions/transform"},
                  "description": "Transforms applied in order; the last must be Normalize."}
    dataset_types = sorted(catalog.DATASETS)
    overridable = {
        # merged key by key over the spec's model (validated once merged), so a variant
        # that changes one argument (SegFormer's widths, U-Net's upsampling) gives only it
        "model": {
            "type": "object",
            "description": "Model arguments merged over the spec's `model`, key by key; "
            "give `type` only to change the model itself.",
            "examples": [{"use_deconv": True}],
        },
        "loss": {"$ref": "#/definitions/losses"},
        "optimizer": {"$ref": "#/definitions/optimizer"},
        "lr_scheduler": {"$ref": "#/definitions/lr_scheduler"},
        "train": {"$ref": "#/definitions/train"},
    }
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": "https://segc.dev/schema/segspec.schema.json",
        "title": "segc model spec",
        "description": "One segmentation architecture and its backbone variants, compiled by "
        "segc into standalone PaddlePaddle train/export/infer scripts.",
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "_base_": {
                "description": "Spec file(s) this one extends, relative to it; mappings are "
                "merged key by key, any other value is replaced whole.",
                "oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}],
                "examples": ["_base_/cityscapes.yaml"],
            },
            "name": {"type": "string", "pattern": IDENTIFIER,
                     "description": "Architecture identifier (lower-case Python name); it "
                     "prefixes every output folder.", "examples": ["pspnet"]},
            "title": _text("Display name of the architecture.", examples=["PSPNet"]),
            "paper": _text("The paper that introduced the architecture."),
            "description": _text("A few sentences on the architecture for the model card.",
                                 one_line=False),
            "dataset": {"$ref": "#/definitions/dataset"},
            "train": {"$ref": "#/definitions/train"},
            "val": {
                "type": "object", "additionalProperties": False,
                "description": "Evaluation settings.",
                "properties": {
                    "transforms": transforms,
                    "scales": {
                        "type": "array", "minItems": 1, "default": VAL_DEFAULTS["scales"],
                        "items": {"type": "number", "exclusiveMinimum": 0, "maximum": 4},
                        "description": "Evaluation scales (PaddleSeg's test_config "
                        "aug_eval scales): the image is resized by each factor, the model's "
                        "logits resized back to the image size and summed; [1.0] "
                        "evaluates each image as it is. train.py's --eval-scales "
                        "overrides it.",
                        "examples": [[0.5], [0.75, 1.0, 1.25]],
                    },
                    "slide": {
                        "oneOf": [
                            {"type": "null", "description": "The whole image at once."},
                            {
                                "type": "object", "additionalProperties": False,
                                "required": ["crop_size", "stride"],
                                "description": "Sliding windows.",
                                "properties": {
                                    "crop_size": dict(SIZE, description="Window [width, "
                                                      "height] in pixels."),
                                    "stride": dict(SIZE, description="Step between windows, "
                                                   "[width, height]; at most crop_size."),
                                },
                            },
                        ],
                        "default": VAL_DEFAULTS["slide"],
                        "description": "Sliding-window evaluation (PaddleSeg's test_config "
                        "is_slide, crop_size, stride): windows of crop_size every stride "
                        "pixels, the last one moved back to the border, logits averaged where "
                        "they overlap; for models trained on crops smaller than the "
                        "evaluation images (SETR, Segmenter). train.py's evaluation and "
                        "evaluate.py use it; evaluate.py's --whole-image turns it off.",
                        "examples": [{"crop_size": [769, 769], "stride": [512, 512]}],
                    },
                },
            },
            "optimizer": {"$ref": "#/definitions/optimizer"},
            "lr_scheduler": {"$ref": "#/definitions/lr_scheduler"},
            "loss": {"$ref": "#/definitions/losses"},
            "model": {"$ref": "#/definitions/model"},
            "export": {
                "type": "object", "additionalProperties": False,
                "description": "Defaults of the generated export.py.",
                "properties": {"output_op": {
                    "enum": ["argmax", "softmax", "none"],
                    "default": EXPORT_DEFAULTS["output_op"],
                    "description": "Operation appended to the exported model's output."}},
            },
            "variants": {
                "type": "array", "minItems": 1,
                "description": "Variants; each compiles to its own output folder. A variant is "
                "a backbone, a named set of model arguments (SegFormer B0-B5), or both.",
                "items": {
                    "type": "object", "additionalProperties": False,
                    "description": "One variant: a backbone (when the model takes one) and/or "
                    "overrides of spec sections, such as the model's arguments.",
                    "properties": dict(
                        {
                            "name": {"type": "string", "pattern": IDENTIFIER,
                                     "description": "Output folder name; default "
                                     "<name>_<backbone>[_os<N>], lower-case, or the spec's "
                                     "name for a model without a backbone."},
                            "title": _text("Display name of this variant, e.g. SegFormer-B0; "
                                           "default: the spec's title and the backbone."),
                            "backbone": {"$ref": "#/definitions/backbone"},
                            "reference": reference,
                        },
                        **overridable,
                    ),
                },
            },
        },
        "definitions": {
            "completeSpec": {
                "description": "What a spec must define once its bases are merged.",
                "required": REQUIRED_TOP_LEVEL,
            },
            "dataset": {
                "type": "object", "additionalProperties": False,
                "description": "The dataset the recipe trains on.",
                "properties": {
                    "type": {"enum": dataset_types, "description": "Dataset layout.",
                             "oneOf": [{"const": n, "description": catalog.DATASETS[n].description}
                                       for n in dataset_types]},
                    "root": dict(_text("Default dataset root (the --data flag overrides it).",
                                       examples=["data/cityscapes"]),
                                 default=DATASET_DEFAULTS["root"]),
                    "num_classes": {"type": "integer", "minimum": 2, "maximum": 255,
                                    "description": "Number of classes."},
                    "ignore_index": {"type": "integer", "minimum": 0, "maximum": 255,
                                     "default": DATASET_DEFAULTS["ignore_index"],
                                     "description": "Label value excluded from loss and metrics."},
                    "train_list": {"type": ["string", "null"], "pattern": ONE_LINE,
                                   "default": DATASET_DEFAULTS["train_list"],
                                   "description": "FileList: training list relative to root."},
                    "val_list": {"type": ["string", "null"], "pattern": ONE_LINE,
                                 "default": DATASET_DEFAULTS["val_list"],
                                 "description": "FileList: validation list relative to root."},
                    "class_names": {
                        "type": "array", "minItems": 2, "maxItems": 255,
                        "items": {"type": "string", "minLength": 1, "pattern": ONE_LINE},
                        "description": "Names of the classes in class-id order, one per class "
                        "(evaluate.py reports per-class figures by them); default: the dataset "
                        "type's own (Cityscapes', EG1800's), else 'class 0', 'class 1'...",
                        "examples": [["background", "person"]]},
                },
            },
            "train": {
                "type": "object", "additionalProperties": False,
                "description": "Training schedule and data pipeline.",
                "properties": {
                    "iters": {"type": "integer", "minimum": 1, "maximum": MAX_ITERS,
                              "description": f"Iterations (at most {MAX_ITERS:,})."},
                    "batch_size": {"type": "integer", "minimum": 1, "maximum": MAX_BATCH,
                                   "description": "Images per device per iteration "
                                   f"(at most {MAX_BATCH})."},
                    "transforms": transforms,
                    "save_interval": {
                        "type": "integer", "minimum": 1, "maximum": MAX_ITERS,
                        "default": TRAIN_DEFAULTS["save_interval"],
                        "description": "Checkpoint every N iterations."},
                    "eval_interval": {
                        "type": "integer", "minimum": 1, "maximum": MAX_ITERS,
                        "default": TRAIN_DEFAULTS["eval_interval"],
                        "description": "Evaluate every N iterations."},
                    "log_interval": {
                        "type": "integer", "minimum": 1, "maximum": MAX_ITERS,
                        "default": TRAIN_DEFAULTS["log_interval"],
                        "description": "Log every N iterations."},
                    "num_workers": {
                        "type": "integer", "minimum": 0, "maximum": MAX_WORKERS,
                        "default": TRAIN_DEFAULTS["num_workers"],
                        "description": "DataLoader worker processes."},
                    "seed": {"type": ["integer", "null"], "minimum": 0, "maximum": 2**32 - 1,
                             "default": TRAIN_DEFAULTS["seed"],
                             "description": "Random seed; null for a non-reproducible run."},
                },
            },
            "transform": transform,
            "losses": {"type": "array", "minItems": 1, "items": loss,
                       "description": "One loss per model output, main output first."},
            "backbone": backbone,
            "model": model,
            "optimizer": optimizer,
            "lr_scheduler": lr_scheduler,
        },
    }


def dumps() -> str:
    return json.dumps(build(), indent=2, sort_keys=False) + "\n"
