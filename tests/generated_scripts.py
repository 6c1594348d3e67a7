"""Import generated scripts by path (they are standalone files, not a package)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from .conftest import GENERATED


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
