"""Validate a loaded spec: the JSON Schema first, then rules a schema cannot say.

Every problem becomes a Diagnostic pointing at the file, line and column where
the offending value (or key) was written; all of a spec's problems are
reported together.
"""

from __future__ import annotations

import difflib
import keyword
import math
from functools import lru_cache

from jsonschema import Draft7Validator, ValidationError, validators

from . import catalog, spec_schema
from .diagnostics import Diagnostic, SpecError
from .loader import Document
from .variants import output_name, variant_sections, where


def _is_integer(_checker, value) -> bool:
    # JSON Schema counts 5.0 as an integer; a model built with num_classes=5.0 fails, so
    # segc's rule is: integers are written as integers, everywhere a spec expects one.
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(_checker, value) -> bool:
    # YAML's .nan and .inf are floats; no setting of a recipe means anything with them.
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value))


def _same_value(choice, value) -> bool:
    """Enum membership by the integer rule too: 8.0 is not the 8 of output_stride."""
    if isinstance(choice, bool) or isinstance(value, bool):
        return choice is value
    if isinstance(value, float) and isinstance(choice, int):
        return False
    return choice == value


def _enum(_validator, choices, instance, _schema):
    if not any(_same_value(choice, instance) for choice in choices):
        yield ValidationError(f"{instance!r} is not one of {choices!r}")


SpecValidator = validators.extend(
    Draft7Validator,
    validators={"enum": _enum},
    type_checker=Draft7Validator.TYPE_CHECKER.redefine_many(
        {"integer": _is_integer, "number": _is_number}),
)


@lru_cache(maxsize=1)
def _validators() -> tuple[Draft7Validator, Draft7Validator, Draft7Validator]:
    """The whole spec, what a merged spec must have, and one model section."""
    schema = spec_schema.build()
    complete = dict(schema["definitions"]["completeSpec"])
    return (SpecValidator(schema), SpecValidator(complete),
            SpecValidator(schema["definitions"]["model"]))


def _integer_hint(value) -> str:
    """What to write instead of an integral float, e.g. 5 for 5.0."""
    if isinstance(value, float) and abs(value) < 1e12 and value.is_integer():
        return f": write {int(value)}, without a decimal point"
    return ""


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _suggest(value, choices) -> str:
    if not isinstance(value, str):
        return ""
    match = difflib.get_close_matches(value, [str(c) for c in choices], n=1, cutoff=0.6)
    if not match:
        match = [c for c in choices if isinstance(c, str) and c.lower() == value.lower()]
    return f"; did you mean '{match[0]}'?" if match else ""


def _schema_diagnostics(doc: Document, error) -> list[Diagnostic]:
    path = tuple(error.absolute_path)
    kind = error.validator
    if kind == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - set(allowed))
        return [doc.diagnostic(path + (key,),
                               f"unknown key '{key}'{_suggest(key, allowed)} "
                               f"(allowed here: {', '.join(allowed)})", at_key=True)
                for key in extra]
    if kind == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        return [doc.diagnostic(path, f"missing required key '{missing}'")]
    if kind == "enum":
        choices = error.validator_value
        listed = ", ".join("null" if c is None else str(c) for c in choices)
        hint = _integer_hint(error.instance)
        if hint and not any(_same_value(c, int(error.instance)) for c in choices):
            hint = ""
        return [doc.diagnostic(path, f"{_short(error.instance)} is not one of: {listed}"
                                     f"{_suggest(error.instance, choices)}{hint}")]
    if kind == "oneOf" and all("const" in s for s in error.validator_value):
        return []  # the sibling `enum` says the same, with the list of choices
    if kind == "type":
        expected = error.validator_value
        expected = " or ".join(expected) if isinstance(expected, list) else expected
        value = error.instance
        if isinstance(value, float) and not math.isfinite(value):
            return [doc.diagnostic(path, f"must be a finite number, got {_short(value)}")]
        hint = _integer_hint(value) if "integer" in expected else ""
        got = type(value).__name__.replace("NoneType", "null").replace("dict", "mapping")
        return [doc.diagnostic(path, f"expected {expected}, got {got} {_short(value)}{hint}")]
    if kind == "pattern":
        if error.validator_value == spec_schema.IDENTIFIER:
            return [doc.diagnostic(path, f"{_short(error.instance)} is not a valid identifier: "
                                         "use lower-case letters, digits and '_', starting "
                                         "with a letter")]
        if error.validator_value == spec_schema.ONE_LINE:
            return [doc.diagnostic(path, "must be a single line of text")]
    if kind in ("minItems", "maxItems"):
        size = error.validator_value
        word = "at least" if kind == "minItems" else "at most"
        return [doc.diagnostic(path, f"must have {word} {size} item(s), got {len(error.instance)}")]
    if kind in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        relation = {"minimum": ">=", "maximum": "<=", "exclusiveMinimum": ">",
                    "exclusiveMaximum": "<"}[kind]
        return [doc.diagnostic(path, f"must be {relation} {error.validator_value}, "
                                     f"got {_short(error.instance)}")]
    message = error.message if len(error.message) <= 200 else error.message[:197] + "..."
    return [doc.diagnostic(path, message)]


def _variant_model_errors(doc: Document, model_validator: Draft7Validator):
    """Schema errors of each variant's model once its override is merged over the spec's,
    each placed where the offending key was written: in the variant or in the spec."""
    data = doc.data
    if not isinstance(data.get("model"), dict) or not isinstance(data.get("variants"), list):
        return
    for index, variant in enumerate(data["variants"]):
        override = variant.get("model") if isinstance(variant, dict) else None
        if not isinstance(override, dict):
            continue
        for error in model_validator.iter_errors({**data["model"], **override}):
            first = error.relative_path[0] if error.relative_path else None
            in_spec = first is not None and first not in override
            for item in reversed(("model",) if in_spec else ("variants", index, "model")):
                error.relative_path.appendleft(item)
            yield error


def schema_check(doc: Document) -> list[Diagnostic]:
    full, complete, model = _validators()
    diagnostics: list[Diagnostic] = []
    for validator in (full, complete):
        for error in validator.iter_errors(doc.data):
            diagnostics.extend(_schema_diagnostics(doc, error))
    for error in _variant_model_errors(doc, model):
        diagnostics.extend(_schema_diagnostics(doc, error))
    unique = {}
    for d in diagnostics:
        unique.setdefault((d.file, d.line, d.col, d.path, d.message), d)
    return list(unique.values())


def _semantic_check(doc: Document) -> list[Diagnostic]:
    data = doc.data
    found: list[Diagnostic] = []
    if keyword.iskeyword(data["name"]):
        found.append(doc.diagnostic(("name",), f"'{data['name']}' is a Python keyword; "
                                               "choose another name"))
    if data["dataset"].get("type") == "FileList":
        for key in ("train_list", "val_list"):
            if not data["dataset"].get(key):
                found.append(doc.diagnostic(("dataset",), f"a FileList dataset needs '{key}'"))
    names = data["dataset"].get("class_names")
    if names is not None and len(names) != data["dataset"].get("num_classes", len(names)):
        found.append(doc.diagnostic(("dataset", "class_names"),
                                    f"{len(names)} class names for "
                                    f"{data['dataset']['num_classes']} classes; give one per class"))
    # required once the bases are merged (an editor checks each file alone, so the schema
    # cannot ask it of every file)
    for key in ("type", "num_classes"):
        if key not in data["dataset"]:
            found.append(doc.diagnostic(("dataset",), f"missing required key '{key}'"))

    seen_names: dict[str, int] = {}
    for index in range(len(data["variants"])):
        spec = variant_sections(data, index)
        model = catalog.MODELS[spec["model"]["type"]]
        model_args = {**catalog.defaults(model), **spec["model"]}

        outputs = model.output_names(model_args)
        if len(spec["loss"]) != len(outputs):
            found.append(doc.diagnostic(
                where(data, index, "loss"),
                f"{model.name} with these arguments has {len(outputs)} output(s) "
                f"({', '.join(outputs)}) but {len(spec['loss'])} loss(es) are "
                "listed; give exactly one loss per output"))
        found.extend(_backbone_check(doc, index, model, model_args, spec["backbone"]))

        for section in ("train",):
            transforms = spec[section].get("transforms", [])
            at = where(data, index, section) + ("transforms",)
            names = [t["type"] for t in transforms]
            if not names or names[-1] != "Normalize" or names.count("Normalize") != 1:
                found.append(doc.diagnostic(at, "the transform list must end with exactly "
                                                "one Normalize"))
            found.extend(_requirement_check(doc, at, data["dataset"], transforms))
        val_names = [t["type"] for t in data["val"].get("transforms", [])]
        if index == 0 and (not val_names or val_names[-1] != "Normalize"
                           or val_names.count("Normalize") != 1):
            found.append(doc.diagnostic(("val", "transforms"), "the transform list must end "
                                                               "with exactly one Normalize"))
        slide = data["val"].get("slide")
        if index == 0 and slide and any(s > c for s, c in zip(slide["stride"], slide["crop_size"])):
            found.append(doc.diagnostic(("val", "slide", "stride"), "a stride larger than the "
                                        "crop size leaves pixels out; make it at most crop_size"))

        name = output_name(data, index)
        if name in seen_names:
            found.append(doc.diagnostic(
                ("variants", index), f"output folder '{name}' is also produced by "
                                     f"variants[{seen_names[name]}]; give one a distinct 'name'"))
        seen_names.setdefault(name, index)
    return found


def _backbone_check(doc: Document, index: int, model, model_args: dict,
                    backbone_spec: dict | None) -> list[Diagnostic]:
    """A model that takes a backbone gets one it can read; a model without one gets none."""
    data = doc.data
    if not model.takes_backbone:
        if backbone_spec:
            return [doc.diagnostic(("variants", index, "backbone"),
                                   f"{model.name} has no separate backbone; remove "
                                   "'backbone' (name the variant with 'name' instead)",
                                   at_key=True)]
        return []
    if not backbone_spec:
        return [doc.diagnostic(("variants", index),
                               f"{model.name} needs a backbone; add 'backbone' with one of: "
                               f"{', '.join(sorted(catalog.BACKBONES))}")]
    found = []
    backbone = catalog.BACKBONES[backbone_spec["type"]]
    indices = model_args.get("backbone_indices", [])
    wanted = model.extra.get("num_backbone_indices")
    if callable(wanted):  # depends on other arguments (SETR's head)
        wanted = wanted(model_args)
    at = where(data, index, "model") + ("backbone_indices",)
    if wanted is not None and len(indices) != wanted:
        found.append(doc.diagnostic(at, f"{model.name} reads {wanted} backbone feature "
                                        f"map(s); got {len(indices)} indices"))
    for i in indices:
        if not -backbone.num_features <= i < backbone.num_features:
            found.append(doc.diagnostic(
                at, f"index {i} is out of range: {backbone.name} returns "
                    f"{backbone.num_features} feature map(s)"))
    # a head built for the backbone's map widths (`extra["backbone_channels_arg"]`) gets
    # those the backbone returns (`extra["feat_channels"]`), else its first conv fails
    channels_arg, channels = model.extra.get("backbone_channels_arg"), backbone.extra.get(
        "feat_channels")
    if channels_arg and channels and list(model_args[channels_arg]) != list(channels):
        found.append(doc.diagnostic(
            where(data, index, "model") + (channels_arg,),
            f"{backbone.name} returns maps of {channels} channels; {model.name}'s "
            f"{channels_arg} must be {channels}"))
    if model.backbones and not any(backbone.name.startswith(b) for b in model.backbones):
        found.append(doc.diagnostic(
            ("variants", index, "backbone", "type"),
            f"{model.name} is not built for {backbone.name}; use one of "
            f"{', '.join(model.backbones)}"))
    return found


def _requirement_check(doc: Document, at: tuple, dataset: dict,
                       transforms: list[dict]) -> list[Diagnostic]:
    """What the training data's components require of its transforms, and whether some
    transform provides it (e.g. batching needs every sample at one size)."""
    provided = {p for t in transforms for p in catalog.TRANSFORMS[t["type"]].provides}
    found = []
    if dataset.get("type") not in catalog.DATASETS:
        return []  # reported as a missing key
    dataset_component = catalog.DATASETS[dataset["type"]]
    for requirement in dataset_component.requires:
        if requirement.name not in provided:
            givers = sorted(n for n, c in catalog.TRANSFORMS.items()
                            if requirement.name in c.provides)
            found.append(doc.diagnostic(at, f"{requirement.why}; add one of: "
                                            f"{', '.join(givers)}"))
    return found


def validate(doc: Document) -> None:
    """Raise SpecError with every problem of `doc`, or return if it is valid."""
    diagnostics = schema_check(doc)
    if not diagnostics:
        diagnostics = _semantic_check(doc)
    if diagnostics:
        raise SpecError(diagnostics)
