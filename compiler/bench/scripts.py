"""The generated scripts a benchmark measures: which they are, and importing one by path
(shared by `segc bench` and benchmarks/vs_paddleseg.py)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

# What a compiled combination's folder must hold to be measured; an entry's
# scripts_sha256 records these.
GENERATED_SCRIPTS = ("model.py", "train.py", "export.py", "infer.py")


def load_script(path: Path, name: str):
    """Import a generated script by path (it runs nothing on import). train.py and
    export.py import their sibling model.py as `model`: they get their own folder's."""
    sibling = path.parent / "model.py"
    saved = sys.modules.get("model")
    if path.name != "model.py" and sibling.is_file():
        sys.modules["model"] = load_script(sibling, f"{name}_model")
    try:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        if saved is None:
            sys.modules.pop("model", None)
        else:
            sys.modules["model"] = saved
