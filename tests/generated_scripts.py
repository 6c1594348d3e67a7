"""Import generated scripts by path (they are standalone files, not a package), and
segc's resolved spec of each combination (what the tests read instead of a script's
SPEC, which holds only what that script reads)."""

from __future__ import annotations

import copy
import functools
import importlib.util
import sys
from pathlib import Path

from .conftest import GENERATED, REPO, ZOO


def _exec(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


# The sibling modules each generated script imports (model.py first).
SIBLINGS = {"model.py": (), "infer.py": (), "train.py": ("model",), "export.py": ("model",),
            "evaluate.py": ("model", "train"), "predict.py": ("model", "train")}


def load_script(combination: str, script: str = "train.py", root: Path = GENERATED):
    """A generated script as a module. Scripts import their siblings (model.py as `model`,
    train.py as `train`): each gets its own folder's, under a name of its own, so the
    combinations of one test session never share a `model` or `train` module."""
    path = root / combination / script
    name = f"segc_generated_{root.name}_{combination}_{path.stem}"
    if name in sys.modules:
        return sys.modules[name]
    siblings = {sibling: load_script(combination, f"{sibling}.py", root)
                for sibling in SIBLINGS.get(script, ("model",))}
    saved = {sibling: sys.modules.get(sibling) for sibling in siblings}
    sys.modules.update(siblings)
    try:
        return _exec(path, name)
    finally:
        for sibling, module in saved.items():
            if module is None:
                sys.modules.pop(sibling, None)
            else:
                sys.modules[sibling] = module


def combinations() -> list[str]:
    return sorted(p.parent.name for p in GENERATED.glob("*/model.py"))


@functools.cache
def _resolved_specs() -> dict[str, dict]:
    from segc.pipeline import resolve_specs, zoo_specs

    variants, diagnostics = resolve_specs(zoo_specs(ZOO), REPO)
    assert not diagnostics, [d.format() for d in diagnostics]
    return {variant.name: variant.plain() for variant in variants}


def resolved_spec(combination: str) -> dict:
    """segc's resolved spec of `combination` as plain data (`Variant.plain()`, what
    `segc show` prints: name, arch, backbone, dataset, components, reference...),
    resolved once per session from zoo_specs/; a copy, so a test may change it."""
    return copy.deepcopy(_resolved_specs()[combination])


def normalize_args(combination: str) -> dict:
    """Mean and std of the combination's evaluation Normalize."""
    transforms = resolved_spec(combination)["components"]["val_transforms"]
    normalize = next(t for t in transforms if t["type"] == "Normalize")
    return {"mean": normalize["mean"], "std": normalize["std"]}
