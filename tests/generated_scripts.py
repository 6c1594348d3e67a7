"""Import generated scripts by path (they are standalone files, not a package), and
segc's resolved spec of each combination (what the tests read instead of a script's
SPEC, whose contents are the generated scripts' business)."""

from __future__ import annotations

import copy
import functools
import importlib.util
import sys
from pathlib import Path

from segc.pipeline import resolve_specs, zoo_specs

from .conftest import GENERATED, REPO, ZOO


def load_script(combination: str, script: str = "train.py", root: Path = GENERATED):
    path = root / combination / script
    name = f"segc_generated_{combination}_{path.stem}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def combinations() -> list[str]:
    return sorted(p.parent.name for p in GENERATED.glob("*/train.py"))


@functools.cache
def _resolved_specs() -> dict[str, dict]:
    variants, diagnostics = resolve_specs(zoo_specs(ZOO), REPO)
    assert not diagnostics, [str(d) for d in diagnostics]
    return {variant.name: variant.plain() for variant in variants}


def resolved_spec(combination: str) -> dict:
    """segc's resolved spec of `combination` as plain data (`Variant.plain()`: name,
    arch, backbone, dataset, normalize, components, reference...), resolved once per
    session from zoo_specs/; a copy, so a test may change it."""
    return copy.deepcopy(_resolved_specs()[combination])
