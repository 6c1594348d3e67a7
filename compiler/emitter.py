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
import sys
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
    report = [f"interrupted {path} (a killed compile; 'segc compile' finishes it)"
              for path in interrupted(out_dir)]
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
    report += _not_as_recorded(out_dir, manifest)
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


def _not_as_recorded(out_dir: Path, manifest: dict) -> list[str]:
    """Files that differ from what the compile that wrote the manifest wrote: a tree that
    is no single compile's output (a hand edit, or files from another compile)."""
    found = []
    for folder, entry in sorted(manifest.items()):
        files = entry.get("files", {}) if isinstance(entry, dict) else {}
        for name, recorded in sorted(files.items()):
            path = out_dir / folder / name
            if path.is_file() and sha256(path.read_bytes()) != recorded.get("sha256"):
                found.append(f"mixed {path} (not what the compile that wrote "
                             f"{out_dir / MANIFEST} made)")
    return found


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


# A compile replaces many files; killed half-way it must not leave a tree mixing old and
# new ones. So it first writes every new file beside its target (NAME + STAGED), then
# records the whole change in JOURNAL (one atomic write: the commit point), then moves the
# staged files into place and deletes what goes. A run killed before the journal exists
# left only staged files, which the next run drops (the old tree is intact); killed after,
# the next run (`recover`) carries the journal out. `--check` reports either state.
JOURNAL = ".segc-journal.json"
STAGED = ".segc-new"


def write(outputs: list[Output], out_dir: Path, complete: bool,
          unchanged: dict[str, dict] | None = None) -> list[Path]:
    """Write every output folder; drop files (and, if complete, folders) no spec makes now.
    `unchanged`: folders known fresh, kept as they are with their manifest entries. All
    or nothing: see JOURNAL."""
    recover(out_dir)
    unchanged = unchanged or {}
    changed: dict[Path, str] = {}
    delete_files: list[Path] = []
    manifest = _read_manifest(out_dir).get("outputs", {})
    folders = {out.folder for out in outputs} | set(unchanged)
    for out in outputs:
        folder = out_dir / out.folder
        for name, text in sorted(out.files.items()):
            path = folder / name
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                changed[path] = text
        delete_files += [folder / old for old in manifest.get(out.folder, {}).get("files", {})
                         if old not in out.files]
    delete_folders = []
    if complete:
        manifest = {k: v for k, v in manifest.items() if k in folders}
        delete_folders = manifest_folders_to_remove(out_dir, folders)
    manifest.update(unchanged)
    manifest.update({out.folder: _manifest_entry(out) for out in outputs})
    text = _manifest_text(manifest)
    if _read_text(out_dir / MANIFEST) != text:
        changed[out_dir / MANIFEST] = text
    if not (changed or delete_files or delete_folders):
        return []
    for path, text in changed.items():
        _atomic_write(path.with_name(path.name + STAGED), text)
    journal = {
        "replace": [_relative(p, out_dir) for p in changed],
        "delete_files": [_relative(p, out_dir) for p in delete_files],
        "delete_folders": [_relative(p, out_dir) for p in delete_folders],
    }
    _atomic_write(out_dir / JOURNAL, json.dumps(journal, indent=2) + "\n")
    _carry_out(out_dir, journal)
    return [p for p in changed if p.name != MANIFEST]


def _relative(path: Path, out_dir: Path) -> str:
    return path.relative_to(out_dir).as_posix()


def _carry_out(out_dir: Path, journal: dict) -> None:
    """Move the staged files into place, delete what goes, then drop the journal; safe to
    run again from the start after a kill at any point."""
    for rel in journal["replace"]:
        staged = out_dir / (rel + STAGED)
        if staged.exists():
            os.replace(staged, out_dir / rel)
    for rel in journal["delete_files"]:
        (out_dir / rel).unlink(missing_ok=True)
    for rel in journal["delete_folders"]:
        shutil.rmtree(out_dir / rel, ignore_errors=True)
    (out_dir / JOURNAL).unlink()


def interrupted(out_dir: Path) -> list[str]:
    """What a killed compile left in out_dir: its journal (a change half carried out) and
    any staged or temporary files; empty when none."""
    if not out_dir.is_dir():
        return []
    found = [str(out_dir / JOURNAL)] if (out_dir / JOURNAL).exists() else []
    found += [str(p) for p in sorted(out_dir.rglob(f"*{STAGED}"))]
    return found


def recover(out_dir: Path) -> bool:
    """Finish an interrupted compile: carry out its journal if it has one, else drop the
    files it staged (the old tree is whole). True when there was something to do."""
    if not interrupted(out_dir):
        return False
    journal_path = out_dir / JOURNAL
    if journal_path.exists():
        _carry_out(out_dir, json.loads(journal_path.read_text(encoding="utf-8")))
    for staged in out_dir.rglob(f"*{STAGED}"):
        staged.unlink()
    print(f"segc: finished a compile of {out_dir} that was interrupted", file=sys.stderr)
    return True


def manifest_folders_to_remove(out_dir: Path, keep: set[str]) -> list[Path]:
    """Folders a previous compile made (they hold a train.py) that no spec makes now."""
    if not out_dir.is_dir():
        return []
    return [p for p in sorted(out_dir.iterdir())
            if p.is_dir() and p.name not in keep and (p / "train.py").is_file()]
