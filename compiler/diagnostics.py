"""Diagnostics: what a stage reports about a spec, with where it happened.

Every stage collects problems instead of stopping at the first, so a user sees
all errors of a spec at once, formatted the way compilers and linters do:
``zoo_specs/x.yaml:12:5: error: model.backbone.type: 'resnet5' is not one of ...``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Diagnostic:
    file: str
    line: int | None  # 1-based, None when the problem has no single place
    col: int | None
    path: str  # JSON path in the spec, e.g. "variants[0].backbone.type"; "" for the document
    message: str

    def format(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}:{self.col or 1}"
        subject = f"{self.path}: " if self.path else ""
        # One line per diagnostic, whatever the message carries.
        text = f"{where}: error: {subject}{self.message}"
        return " ".join(text.split("\n"))


class SpecError(Exception):
    """Raised by a stage when a spec has one or more problems."""

    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = sorted(
            diagnostics, key=lambda d: (d.file, d.line or 0, d.col or 0, d.path, d.message)
        )
        super().__init__("\n".join(d.format() for d in self.diagnostics))


class UsageError(Exception):
    """A user mistake that is not about a spec's content (bad paths, bad flags)."""


def format_path(path) -> str:
    """Render a path tuple like ("variants", 0, "backbone") as variants[0].backbone."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def display_name(path: Path) -> str:
    """A file as diagnostics show it: relative to the working directory when below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
