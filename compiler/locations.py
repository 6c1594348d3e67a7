"""Where things are: the zoo of specs, the templates, and how outputs name a spec's path.

Shared ground: the CLI reads it before deciding whether any stage needs to run, so it
imports nothing heavy.
"""

from __future__ import annotations

import os
from pathlib import Path


def zoo_dir(explicit: Path | None = None) -> Path:
    """`--zoo`, else ./zoo_specs, else the zoo that ships with segc."""
    if explicit is not None:
        return explicit
    local = Path("zoo_specs")
    if local.is_dir():
        return local
    from . import zoo_specs

    return Path(zoo_specs.__file__).resolve().parent


def zoo_specs(directory: Path) -> list[Path]:
    return sorted(p for p in directory.glob("*.yaml"))


def templates_dir() -> Path:
    """The templates folder, in a source checkout or an installed wheel."""
    from . import templates  # segc/templates, both in a checkout and in a wheel

    return Path(templates.__file__).resolve().parent


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
