"""Resolve a validated spec document into one frozen IR record per variant.

Besides the spec, a resolution takes one explicit input: the figures `segc bench`
measured for the zoo (`MeasuredFigures`), which the model cards show.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from . import catalog
from .catalog.sections import DATASET_DEFAULTS, EXPORT_DEFAULTS, TRAIN_DEFAULTS, VAL_DEFAULTS
from .diagnostics import Diagnostic, SpecError, display_name
from .ir import Call, Loss, Variant, freeze
from .loader import Document
from .locations import relative_to_root
from .model_figures import figures_path, load_figures
from .variants import output_name, variant_sections


@dataclass(frozen=True)
class MeasuredFigures:
    """`segc bench`'s figures for a zoo: {combination: figures}, and the file as recorded."""

    by_combination: dict = field(default_factory=dict)
    recorded_as: str = ""


def read_measured_figures(zoo: Path, project_root: Path) -> MeasuredFigures:
    """The figures file beside a zoo's specs (none yet: no figures)."""
    path = figures_path(zoo)
    try:
        return MeasuredFigures(load_figures(zoo), relative_to_root(path, project_root))
    except (OSError, ValueError, KeyError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else str(exc)
        raise SpecError([Diagnostic(display_name(path), None, None, "",
                                    f"cannot read the measured figures ({reason}); run "
                                    "`segc bench` again or delete the file")]) from None


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


def _ordered(section: dict, first: tuple[str, ...]) -> dict:
    """A section with its main keys first, as a person would list them."""
    return {**{k: section[k] for k in first if k in section}, **section}


def _dataset(written: dict) -> dict:
    """The dataset section with its defaults, and the class names of its type (catalog
    `extra["class_names"]`) when it names none and has as many classes."""
    dataset = dict(DATASET_DEFAULTS, **written)
    known = catalog.DATASETS[dataset["type"]].extra.get("class_names")
    if dataset.get("class_names") is None and known and len(known) == dataset["num_classes"]:
        dataset["class_names"] = list(known)
    return dataset


def resolve(doc: Document, project_root: Path, figures: MeasuredFigures) -> list[Variant]:
    data = doc.data
    spec_sources = [(relative_to_root(s, project_root), hashlib.sha256(s.read_bytes()).hexdigest())
                    for s in doc.sources]
    variants = []
    for index, written in enumerate(data["variants"]):
        name = output_name(data, index)
        measured = figures.by_combination.get(name, {})
        sources = list(spec_sources)
        if measured:  # only this variant's entry, so others' new figures do not touch it
            entry = json.dumps(measured, sort_keys=True).encode()
            sources.append((f"{figures.recorded_as}#{name}", hashlib.sha256(entry).hexdigest()))
        spec = variant_sections(data, index)
        train = _ordered(dict(TRAIN_DEFAULTS, **{k: v for k, v in spec["train"].items()
                                                 if k != "transforms"}), ("iters", "batch_size"))
        variants.append(Variant(
            arch=data["name"],
            name=name,
            title=data["title"],
            variant_title=written.get("title"),
            paper=data.get("paper", ""),
            description=data.get("description", "").strip(),
            spec_file=relative_to_root(doc.path, project_root),
            sources=tuple(sources),
            model=_call("model", spec["model"]),
            backbone=_call("backbone", spec["backbone"]) if spec["backbone"] else None,
            losses=tuple(_loss(item) for item in spec["loss"]),
            train_transforms=tuple(_call("transform", t) for t in spec["train"]["transforms"]),
            val_transforms=tuple(_call("transform", t) for t in data["val"]["transforms"]),
            eval_scales=tuple(float(s) for s in data["val"].get("scales", VAL_DEFAULTS["scales"])),
            eval_slide=freeze(data["val"].get("slide", VAL_DEFAULTS["slide"])),
            optimizer=_call("optimizer", spec["optimizer"]),
            lr_scheduler=_call("lr_scheduler", spec["lr_scheduler"]),
            dataset=freeze(_ordered(_dataset(spec["dataset"]),
                                    ("type", "root", "num_classes", "ignore_index"))),
            train=freeze(train),
            export=freeze(dict(EXPORT_DEFAULTS, **data.get("export", {}))),
            reference=freeze(written.get("reference", {})),
            measured=freeze(measured),
        ))
    return variants
