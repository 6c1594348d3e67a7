"""Resolve a validated spec document into one frozen IR record per variant."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from . import catalog
from .diagnostics import Diagnostic, SpecError
from .ir import Call, Loss, Variant, freeze
from .loader import Document, display_name
from .model_figures import figures_path, load_figures
from .validator import output_name, variant_sections

TRAIN_DEFAULTS = {"save_interval": 1000, "eval_interval": 1000, "log_interval": 10,
                  "num_workers": 2, "seed": None}
DATASET_DEFAULTS = {"root": "data", "ignore_index": 255, "train_list": None, "val_list": None}


def _call(kind: str, written: dict) -> Call:
    component = catalog.KINDS[kind][written["type"]]
    args = catalog.defaults(component)
    args.update({k: v for k, v in written.items() if k in args})
    overrides = {a.name: a.runtime_override for a in component.args if a.runtime_override}
    return Call(kind, component.name, component.symbol, freeze(args), freeze(overrides),
                component.runtime_args)


def _loss(written: dict) -> Loss:
    call = _call("loss", written)
    target = catalog.LOSSES[call.type].target(call.args)
    return Loss(call, float(written.get("coef", 1.0)), target)


def relative_to_root(path: Path, root: Path) -> str:
    """A spec path as outputs record it, '/'-separated and machine-independent.

    Relative to the project root (the output folder's parent) when the spec is
    inside it; a spec from elsewhere in a zoo (such as the zoo bundled with segc)
    is recorded from its zoo folder on, so both give `zoo_specs/x.yaml`.
    """
    path, root = path.resolve(), root.resolve()
    if path.is_relative_to(root):
        return path.relative_to(root).as_posix()
    for parent in path.parents:
        if parent.name == "zoo_specs":
            return path.relative_to(parent.parent).as_posix()
    return Path(os.path.relpath(path, root)).as_posix()


def _measured_figures(doc: Document, project_root: Path):
    """The figures `segc bench` recorded beside the spec, and the file as outputs record it."""
    path = figures_path(doc.path.parent)
    try:
        return load_figures(doc.path.parent), relative_to_root(path, project_root)
    except (OSError, ValueError, KeyError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else str(exc)
        raise SpecError([Diagnostic(display_name(path), None, None, "",
                                    f"cannot read the measured figures ({reason}); run "
                                    "`segc bench` again or delete the file")]) from None


def resolve(doc: Document, project_root: Path) -> list[Variant]:
    data = doc.data
    figures, figures_file = _measured_figures(doc, project_root)
    variants = []
    for index in range(len(data["variants"])):
        name = output_name(data, index)
        measured = figures.get(name, {})
        sources = [(relative_to_root(s, project_root), hashlib.sha256(s.read_bytes()).hexdigest())
                   for s in doc.sources]
        if measured:  # only this variant's entry, so others' new figures do not touch it
            entry = json.dumps(measured, sort_keys=True).encode()
            sources.append((f"{figures_file}#{name}", hashlib.sha256(entry).hexdigest()))
        spec = variant_sections(data, index)
        dataset = dict(DATASET_DEFAULTS, **spec["dataset"])
        train = dict(TRAIN_DEFAULTS, **{k: v for k, v in spec["train"].items()
                                        if k != "transforms"})
        variants.append(Variant(
            arch=data["name"],
            name=name,
            title=data["title"],
            paper=data.get("paper", ""),
            description=data.get("description", "").strip(),
            spec_file=relative_to_root(doc.path, project_root),
            sources=tuple(sources),
            model=_call("model", spec["model"]),
            backbone=_call("backbone", spec["backbone"]),
            losses=tuple(_loss(item) for item in spec["loss"]),
            train_transforms=tuple(_call("transform", t) for t in spec["train"]["transforms"]),
            val_transforms=tuple(_call("transform", t) for t in data["val"]["transforms"]),
            optimizer=_call("optimizer", spec["optimizer"]),
            lr_scheduler=_call("lr_scheduler", spec["lr_scheduler"]),
            dataset=freeze(dataset),
            train=freeze(train),
            export=freeze({"output_op": data.get("export", {}).get("output_op", "argmax")}),
            reference=freeze(data["variants"][index].get("reference", {})),
            measured=freeze(measured),
        ))
    return variants

