"""Format generated Python the way a person would: ruff's formatter, run once per compile.

Templates and fragments decide what the code says; the formatter alone decides line
breaks and quotes, so no template has to imitate a code style. The ruff version is
pinned in pyproject.toml: another version could format differently, and the output
must be byte-identical from one machine to the next. `--isolated` keeps a user's own
ruff configuration out of it.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

LINE_LENGTH = 100  # the project's ruff line length (pyproject.toml)


class FormatError(Exception):
    """The formatter could not parse a generated file (a template bug, never a user error)."""


def ruff_binary() -> str:
    try:
        from ruff.__main__ import find_ruff_bin
    except ImportError as exc:  # pragma: no cover - ruff is a dependency of segc
        raise FormatError("segc needs the 'ruff' package to format generated code: "
                          "pip install ruff") from exc
    return str(find_ruff_bin())


def _scratch_dir() -> str | None:
    """Memory-backed scratch space where there is some: the formatter's files live for
    a fraction of a second, and creating and deleting ~150 of them on a disk costs more
    than formatting them."""
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None


class Formatter:
    """Formats batches of files, each in a ruff process of its own that runs while the
    caller renders the next batch: rendering keeps one core busy, ruff the other."""

    def __init__(self):
        self.jobs: list[tuple[tempfile.TemporaryDirectory, subprocess.Popen, list[str]]] = []

    def submit(self, sources: dict[str, str]) -> None:
        """Start formatting {relative path: source}; `results()` collects it."""
        if not sources:
            return
        scratch = tempfile.TemporaryDirectory(prefix="segc-format-", dir=_scratch_dir())
        root = Path(scratch.name)
        for rel, text in sources.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8", newline="\n")
        process = subprocess.Popen(
            [ruff_binary(), "format", "--isolated", "--no-cache",
             "--line-length", str(LINE_LENGTH), "--target-version", "py310", "."],
            cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.jobs.append((scratch, process, list(sources)))

    def results(self) -> dict[str, str]:
        """{relative path: formatted source} of every batch submitted."""
        formatted: dict[str, str] = {}
        try:
            for scratch, process, paths in self.jobs:
                out, err = process.communicate()
                if process.returncode != 0:
                    raise FormatError("templates produced invalid Python (a segc bug):\n"
                                      + (err or out).strip())
                root = Path(scratch.name)
                formatted.update({rel: (root / rel).read_text(encoding="utf-8")
                                  for rel in paths})
        finally:
            for scratch, process, _ in self.jobs:
                if process.poll() is None:
                    process.kill()
                    process.wait()
                scratch.cleanup()
            self.jobs = []
        return formatted
