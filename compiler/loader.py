"""Load a spec: YAML with source positions, `_base_` documents merged in.

The result is plain Python data (dict, list, str, int, float, bool, None) plus
a map from each JSON path to the file, line and column it came from, so later
stages can point at the exact place of a problem even after merging.
"""

from __future__ import annotations

import copy
import datetime
from dataclasses import dataclass, field
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from .diagnostics import Diagnostic, SpecError, display_name, format_path

BASE_KEY = "_base_"


@dataclass(frozen=True)
class Pos:
    file: str
    line: int  # 1-based
    col: int  # 1-based


@dataclass
class Document:
    """A loaded spec: data plus where every value (and every mapping key) was written."""

    path: Path
    display: str  # the file name as diagnostics show it
    data: dict
    value_pos: dict[tuple, Pos] = field(default_factory=dict)
    key_pos: dict[tuple, Pos] = field(default_factory=dict)
    sources: tuple[Path, ...] = ()  # this file and every base it merged, in load order

    def position(self, path: tuple) -> Pos | None:
        """Where `path` was written, or its nearest written ancestor."""
        path = tuple(path)
        while True:
            if path in self.value_pos:
                return self.value_pos[path]
            if not path:
                return None
            path = path[:-1]

    def diagnostic(self, path, message: str, at_key: bool = False) -> Diagnostic:
        pos = self.key_pos.get(tuple(path)) if at_key else None
        pos = pos or self.position(path)
        if pos is None:
            return Diagnostic(self.display, None, None, format_path(path), message)
        return Diagnostic(pos.file, pos.line, pos.col, format_path(path), message)


def _plain(node, file: str, path: tuple, value_pos: dict, key_pos: dict):
    """Convert ruamel's round-trip node to plain data, recording positions."""
    if isinstance(node, CommentedMap):
        result = {}
        for key, value in node.items():
            key_text = key if isinstance(key, str) else str(key)
            child = path + (key_text,)
            kl, kc = node.lc.key(key)
            vl, vc = node.lc.value(key)
            key_pos[child] = Pos(file, kl + 1, kc + 1)
            value_pos[child] = Pos(file, vl + 1, vc + 1)
            result[key_text] = _plain(value, file, child, value_pos, key_pos)
        return result
    if isinstance(node, CommentedSeq):
        result = []
        for index, value in enumerate(node):
            child = path + (index,)
            line, col = node.lc.item(index)
            value_pos[child] = Pos(file, line + 1, col + 1)
            result.append(_plain(value, file, child, value_pos, key_pos))
        return result
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, str):
        return str(node)
    if isinstance(node, (datetime.date, datetime.datetime)):
        return node.isoformat()  # a date where a string was meant; the schema decides
    return str(node)


# (resolved path, display name, text) -> (data, value positions, key positions). The zoo's
# specs share a few bases; parsing each once per process halves the time of
# `segc compile --all`. Callers get copies, so nothing they do reaches the cache.
_PARSED: dict[tuple, tuple] = {}


def _parse_cached(path: Path, display: str, value_pos: dict, key_pos: dict):
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return _parse(path, display, value_pos, key_pos)  # it reports the problem
    key = (path.resolve(), display, text)
    if key not in _PARSED:
        values, keys = {}, {}
        _PARSED[key] = (_parse(path, display, values, keys), values, keys)
    data, values, keys = _PARSED[key]
    value_pos.update(values)
    key_pos.update(keys)
    return copy.deepcopy(data)


def _parse(path: Path, display: str, value_pos: dict, key_pos: dict):
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError([Diagnostic(display, None, None, "", "file not found")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise SpecError([Diagnostic(display, None, None, "", f"cannot read: {reason}")]) from None
    try:
        node = YAML(typ="rt").load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        if "found duplicate key" in str(exc):
            problem = "duplicate key; each key may appear once in a mapping"
        line, col = (mark.line + 1, mark.column + 1) if mark else (None, None)
        raise SpecError([Diagnostic(display, line, col, "", f"invalid YAML: {problem}")]) from None
    except YAMLError as exc:
        raise SpecError([Diagnostic(display, None, None, "", f"invalid YAML: {exc}")]) from None
    if not isinstance(node, CommentedMap):
        raise SpecError([Diagnostic(display, 1, 1, "",
                                    "a spec must be a YAML mapping of keys to values")])
    value_pos[()] = Pos(display, 1, 1)
    return _plain(node, display, (), value_pos, key_pos)


def _merge(base: dict, override: dict, base_pos: tuple[dict, dict], over_pos: tuple[dict, dict],
           path: tuple = ()) -> dict:
    """Deep-merge mappings; anything else in `override` replaces the base value whole, and
    so does a mapping naming another component `type` than the base's (the base's
    arguments belong to its component: an Adam over a base's SGD must not inherit its
    momentum, which PaddleSeg's configs spell `_inherited_: False`)."""
    merged = dict(base)
    for key, value in override.items():
        child = path + (key,)
        if (isinstance(value, dict) and isinstance(merged.get(key), dict)
                and value.get("type", merged[key].get("type")) == merged[key].get("type")):
            merged[key] = _merge(merged[key], value, base_pos, over_pos, child)
        else:
            # the replaced subtree's positions must not linger
            for positions in base_pos:
                for stale in [p for p in positions if p[: len(child)] == child]:
                    del positions[stale]
            merged[key] = value
    return merged


def load(path: str | Path, _stack: tuple[Path, ...] = ()) -> Document:
    """Load `path` and merge its `_base_` documents (paths relative to it)."""
    path = Path(path)
    display = display_name(path)
    value_pos: dict = {}
    key_pos: dict = {}
    data = _parse_cached(path, display, value_pos, key_pos)
    sources = [path.resolve()]

    bases = data.pop(BASE_KEY, None)
    if bases is None:
        return Document(path, display, data, value_pos, key_pos, tuple(sources))
    if isinstance(bases, str):
        bases = [bases]
        base_paths = [(BASE_KEY,)]
    elif isinstance(bases, list) and all(isinstance(b, str) for b in bases):
        base_paths = [(BASE_KEY, i) for i in range(len(bases))]
    else:
        raise SpecError([Document(path, display, data, value_pos, key_pos).diagnostic(
            (BASE_KEY,), "must be a file path or a list of file paths")])

    merged: dict = {}
    merged_pos: tuple[dict, dict] = ({}, {})
    diagnostics = []
    here = Document(path, display, data, value_pos, key_pos)
    for base, where in zip(bases, base_paths):
        base_file = (path.parent / base).resolve()
        if base_file in _stack + (path.resolve(),):
            chain = " -> ".join(p.name for p in _stack + (path.resolve(), base_file))
            diagnostics.append(here.diagnostic(where, f"_base_ loop: {chain}"))
            continue
        if not base_file.is_file():
            diagnostics.append(here.diagnostic(
                where, f"base spec '{base}' not found (looked for {display_name(base_file)})"))
            continue
        try:
            base_doc = load(base_file, _stack + (path.resolve(),))
        except SpecError as exc:
            diagnostics.extend(exc.diagnostics)
            continue
        merged = _merge(merged, base_doc.data, merged_pos, (base_doc.value_pos, base_doc.key_pos))
        merged_pos[0].update(base_doc.value_pos)
        merged_pos[1].update(base_doc.key_pos)
        sources.extend(s for s in base_doc.sources if s not in sources)
    if diagnostics:
        raise SpecError(diagnostics)
    for positions in (value_pos, key_pos):
        for stale in [p for p in positions if p[:1] == (BASE_KEY,)]:
            del positions[stale]
    data = _merge(merged, data, merged_pos, (value_pos, key_pos))
    merged_pos[0].update(value_pos)
    merged_pos[1].update(key_pos)
    merged_pos[0][()] = Pos(display, 1, 1)
    return Document(path, display, data, merged_pos[0], merged_pos[1], tuple(sources))
