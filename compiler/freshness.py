"""Which outputs are still fresh: made from inputs that have not changed since.

The manifest records, per output folder, the sha256 of every spec, base and measured
figure it was made from and, per file, of the file itself and of the templates and
fragments it contains; at its top, a fingerprint of the compiler's own code and of the
formatter. An output whose recorded inputs all hash the same today, and whose files on
disk are the ones that were written, would render byte for byte as it is, so
`segc compile` (and `--check`) skip loading, validating and rendering its spec, the way
a build system skips an up-to-date target. `--full` renders everything regardless.

Shared ground below the pipeline stages: it reads files and the manifest, nothing else.
"""

from __future__ import annotations

import hashlib
import json
from importlib import metadata
from pathlib import Path

from . import __version__
from .model_figures import FIGURES_FILE, load_figures

# Subpackages of segc that are not the compiler's code: benchmarking decides nothing an
# output holds, and templates, schema and zoo (installed inside segc/ from a wheel, beside
# it in a checkout) are hashed as inputs of their own.
_NOT_COMPILING = ("bench", "templates", "schema", "zoo_specs")


def toolchain_fingerprint() -> str:
    """sha256 over segc's compiling code and the formatter's version."""
    digest = hashlib.sha256(f"segc {__version__}\n".encode())
    package = Path(__file__).resolve().parent
    for path in sorted(package.rglob("*.py")):
        rel = path.relative_to(package)
        if rel.parts[0] in _NOT_COMPILING:
            continue
        digest.update(rel.as_posix().encode() + b"\0" + path.read_bytes())
    try:
        digest.update(f"ruff {metadata.version('ruff')}".encode())
    except metadata.PackageNotFoundError:
        pass
    return digest.hexdigest()


def _sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


class _Hashes:
    """Each file hashed once, however many outputs were made from it."""

    def __init__(self):
        self.known: dict[Path, str | None] = {}

    def __call__(self, path: Path) -> str | None:
        if path not in self.known:
            self.known[path] = _sha256(path)
        return self.known[path]


def fresh_outputs(spec_paths: list[Path], out_dir: Path, recorded_name, templates_dir: Path
                  ) -> tuple[dict[str, dict], list[Path]]:
    """({folder: its manifest entry} of every fresh output, the specs to compile anew).

    `recorded_name(path)` is how outputs record a spec path (resolver.relative_to_root).
    """
    try:
        manifest = json.loads((out_dir / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}, list(spec_paths)
    if manifest.get("toolchain") != toolchain_fingerprint():
        return {}, list(spec_paths)
    entries = manifest.get("outputs", {})
    hashes = _Hashes()
    fresh: dict[str, dict] = {}
    stale: list[Path] = []
    figures_by_zoo: dict[Path, dict] = {}
    for path in spec_paths:
        recorded = recorded_name(path)
        folders = {name: entry for name, entry in entries.items()
                   if isinstance(entry, dict) and entry.get("spec_file") == recorded}
        anchor = _anchor(path, recorded)
        zoo = path.resolve().parent
        if zoo not in figures_by_zoo:
            try:
                figures_by_zoo[zoo] = load_figures(zoo)
            except (OSError, ValueError, KeyError):
                figures_by_zoo[zoo] = None  # unreadable: the full path reports it
        figures = figures_by_zoo[zoo]
        if (not folders or anchor is None or figures is None or not all(
                _is_fresh(name, entry, anchor, figures, out_dir, templates_dir, hashes)
                for name, entry in folders.items())):
            stale.append(path)
            continue
        fresh.update(folders)
    return fresh, stale


def _anchor(path: Path, recorded: str) -> Path | None:
    """The folder recorded names are relative to (the project root, or the zoo's parent)."""
    parts = Path(recorded).parts
    resolved = path.resolve().parts
    if ".." in parts or resolved[-len(parts):] != parts:
        return None
    return Path(*resolved[:-len(parts)])


def _is_fresh(name: str, entry: dict, anchor: Path, figures: dict, out_dir: Path,
              templates_dir: Path, hashes: _Hashes) -> bool:
    if entry.get("segc_version") != __version__:
        return False
    specs = entry.get("specs", {})
    measured_key = next((k for k in specs if k.endswith(f"{FIGURES_FILE}#{name}")), None)
    if name in figures:
        text = json.dumps(figures[name], sort_keys=True).encode()
        if measured_key is None or specs[measured_key] != hashlib.sha256(text).hexdigest():
            return False
    elif measured_key is not None:
        return False
    for source, digest in specs.items():
        if source != measured_key and hashes(anchor / source) != digest:
            return False
    for file_name, record in entry.get("files", {}).items():
        if hashes(out_dir / name / file_name) != record.get("sha256"):
            return False
        for template, digest in record.get("made_from", {}).items():
            if hashes(templates_dir / template.removeprefix("templates/")) != digest:
                return False
    return bool(entry.get("files"))
