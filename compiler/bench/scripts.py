"""The generated scripts a benchmark measures: which they are, and importing one by path
(shared by `segc bench` and benchmarks/vs_paddleseg.py)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

# What a compiled combination's folder must hold to be measured; an entry's
# scripts_sha256 records these.
GENERATED_SCRIPTS = ("train.py", "export.py", "infer.py")


def load_script(path: Path, name: str):
    """Import a generated script by path (it runs nothing on import)."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
