"""Emit rendered files: compare (--check) or write atomically, keep a manifest. (The
formatter has parsed every generated Python file by now: a syntax error stops there.)

The manifest (`<out>/manifest.json`) records what each output folder was made
from: its spec files, and for every output file its hash and the templates and
fragments it was made from (with content hashes), and the segc version.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from . import __version__
from .freshness import toolchain_fingerprint

MANIFEST = "manifest.json"


@dataclass
class Output:
    folder: str  # the variant's folder under the output dir
    files: dict[str, str]  # file name -> text
    provenance: dict  # spec/template sources with hashes


def sha256(text: str | bytes) -> str:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return hashlib.sha256(data).hexdigest()


def _manifest_entry(out: Output) -> dict:
    """What a folder was made from: its specs, and per file only the templates and
    fragments that file contains, so a new or changed fragment restales just its users."""
    return {
        "spec_file": out.provenance["spec_file"],
        "specs": out.provenance["specs"],
        "segc_version": __version__,
        "files": {name: {"sha256": sha256(text), "made_from": out.provenance["files"][name]}
                  for name, text in sorted(out.files.items())},
    }


def _read_manifest(out_dir: Path) -> dict:
    try:
        return json.loads((out_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _manifest_text(entries: dict) -> str:
    return json.dumps({"generator": "segc", "toolchain": toolchain_fingerprint(),
                       "outputs": dict(sorted(entries.items()))},
                      indent=2, sort_keys=True) + "\n"


def check(outputs: list[Output], out_dir: Path, complete: bool,
          unchanged: dict[str, dict] | None = None) -> list[str]:
    """What differs on disk from `outputs`: 'missing', a unified diff, or 'extra' (complete
    only). `unchanged`: folders known fresh (their manifest entries), not rendered again."""
    unchanged = unchanged or {}
    report = []
    expected = {}
    for out in outputs:
        for name, text in sorted(out.files.items()):
            expected[f"{out.folder}/{name}"] = text
    for rel, text in sorted(expected.items()):
        path = out_dir / rel
        if not path.is_file():
            report.append(f"missing {path}")
            continue
        current = path.read_text(encoding="utf-8")
        if current != text:
            diff = difflib.unified_diff(current.splitlines(True), text.splitlines(True),
                                        f"{path} (on disk)", f"{path} (from specs)", n=2)
            report.append(f"stale {path}\n" + "".join(diff).rstrip("\n"))
    folders = {out.folder for out in outputs} | set(unchanged)
    manifest = _read_manifest(out_dir).get("outputs", {})
    if complete:
        for folder in sorted(p.name for p in out_dir.iterdir() if p.is_dir()) \
                if out_dir.is_dir() else []:
            if folder not in folders:
                report.append(f"extra {out_dir / folder} (no spec produces it)")
        entries = {k: v for k, v in manifest.items() if k in folders}
    else:
        entries = dict(manifest)
    entries.update(unchanged)
    entries.update({out.folder: _manifest_entry(out) for out in outputs})
    wanted = _manifest_text(entries)
    manifest_path = out_dir / MANIFEST
    if not manifest_path.is_file():
        report.append(f"missing {manifest_path}")
    elif manifest_path.read_text(encoding="utf-8") != wanted:
        report.append(f"stale {manifest_path}")
    return report


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return None


def _file_mode() -> int:
    """rw for everyone the umask lets read and write, as `open()` would create the file
    (mkstemp's own 0600 would make copied or shipped scripts unreadable to others)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, _file_mode())
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write(outputs: list[Output], out_dir: Path, complete: bool,
          unchanged: dict[str, dict] | None = None) -> list[Path]:
    """Write every output folder; drop files (and, if complete, folders) no spec makes now.
    `unchanged`: folders known fresh, kept as they are with their manifest entries."""
    unchanged = unchanged or {}
    written = []
    manifest = _read_manifest(out_dir).get("outputs", {})
    folders = {out.folder for out in outputs} | set(unchanged)
    for out in outputs:
        folder = out_dir / out.folder
        for name, text in sorted(out.files.items()):
            path = folder / name
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                _atomic_write(path, text)
                written.append(path)
        for old in manifest.get(out.folder, {}).get("files", {}):
            if old not in out.files:
                (folder / old).unlink(missing_ok=True)
    if complete:
        manifest = {k: v for k, v in manifest.items() if k in folders}
        for folder in manifest_folders_to_remove(out_dir, folders):
            shutil.rmtree(folder)
    manifest.update(unchanged)
    manifest.update({out.folder: _manifest_entry(out) for out in outputs})
    text = _manifest_text(manifest)
    if _read_text(out_dir / MANIFEST) != text:
        _atomic_write(out_dir / MANIFEST, text)
    return written


def manifest_folders_to_remove(out_dir: Path, keep: set[str]) -> list[Path]:
    """Folders a previous compile made (they hold a train.py) that no spec makes now."""
    if not out_dir.is_dir():
        return []
    return [p for p in sorted(out_dir.iterdir())
            if p.is_dir() and p.name not in keep and (p / "train.py").is_file()]
