"""Assemble a standalone script from a skeleton body and the fragment library.

Fragments are plain Python modules. Each top-level definition (class,
function, constant) is a unit; a script gets exactly the units its body
reaches, directly or through other units, under one merged import block. So a
PSPNet script carries no HRNet code even though both live in the library.
"""

from __future__ import annotations

import ast
import builtins
import inspect
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

THIRD_PARTY = ("cv2", "numpy", "paddle")  # all a generated script may import besides stdlib
# A line of a skeleton where the units it needs are placed (see FragmentLibrary.assemble).
UNITS_MARKER = "# @units"


class FragmentError(Exception):
    """The fragment library breaks a convention (see templates/fragments/CONVENTIONS.md)."""


@dataclass(frozen=True)
class Import:
    module: str  # "paddle.nn" for `import paddle.nn as nn` and `from paddle import nn`
    name: str | None  # the imported attribute for `from` imports
    alias: str  # the local name it binds

    @property
    def top_module(self) -> str:
        return self.module.split(".")[0]


@dataclass
class Unit:
    name: str
    fragment: str
    lineno: int
    source: str
    uses: set[str] = field(default_factory=set)
    is_constant: bool = False  # an assignment, not a def or class


def _names_used(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _imports_of(stmt: ast.stmt) -> list[Import]:
    if isinstance(stmt, ast.Import):
        return [Import(a.name, None, a.asname or a.name.split(".")[0]) for a in stmt.names]
    return [Import(stmt.module, a.name, a.asname or a.name) for a in stmt.names]


def _unit_source(lines: list[str], node: ast.stmt) -> tuple[int, str]:
    """A definition's text: decorators and the comment block directly above it included."""
    start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])]) - 1
    while start > 0 and lines[start - 1].lstrip().startswith("#"):
        start -= 1
    return start, "\n".join(lines[start : node.end_lineno]).rstrip() + "\n"


def _relative_fragment(fragment: str, stmt: ast.ImportFrom) -> str:
    """The fragment a relative import names: `from ..layers.basic import x` in
    models/pspnet is layers/basic."""
    package = fragment.split("/")[:-1]
    if stmt.level > 1:
        package = package[: len(package) - (stmt.level - 1)]
    return "/".join(package + (stmt.module or "").split("."))


def _bound_names(stmt: ast.stmt) -> list[str]:
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [stmt.name]
    if isinstance(stmt, ast.Assign):
        return [n.id for t in stmt.targets for n in ast.walk(t) if isinstance(n, ast.Name)]
    if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
        return [stmt.target.id]
    return []


class FragmentLibrary:
    """Every top-level unit of every fragment, indexed by name."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.units: dict[str, Unit] = {}
        self.imports: dict[str, Import] = {}
        self.fragment_deps: dict[str, set[str]] = {}
        self.fragment_sources: dict[str, str] = {}
        self.fragment_docs: dict[str, str] = {}
        for path in sorted(directory.rglob("*.py")):
            if path.name != "__init__.py":
                self._add(path)
        self._check_fragment_imports()
        self._check_shadowing()

    def _add(self, path: Path) -> None:
        # a fragment is known by its path below the library, e.g. "models/pspnet"
        fragment = path.relative_to(self.directory).with_suffix("").as_posix()
        text = path.read_text(encoding="utf-8")
        self.fragment_sources[fragment] = text
        lines = text.splitlines()
        deps: set[str] = set()
        for stmt in ast.parse(text, filename=str(path)).body:
            if isinstance(stmt, ast.ImportFrom) and stmt.level:
                deps.add(_relative_fragment(fragment, stmt))
                continue
            if isinstance(stmt, (ast.Import, ast.ImportFrom)):
                if isinstance(stmt, ast.ImportFrom) and stmt.module == "__future__":
                    continue
                for imp in _imports_of(stmt):
                    self._add_import(imp, fragment)
                continue
            if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
                self.fragment_docs[fragment] = inspect.cleandoc(str(stmt.value.value))
                continue
            names = _bound_names(stmt)
            if not names:
                raise FragmentError(
                    f"{fragment}.py:{stmt.lineno}: only imports and definitions "
                    "may stand at the top level of a fragment"
                )
            start, source = _unit_source(lines, stmt)
            for name in names:
                if name in self.units:
                    other = self.units[name].fragment
                    raise FragmentError(
                        f"{fragment}.py:{stmt.lineno}: '{name}' is also defined "
                        f"in {other}.py; top-level names must be unique"
                    )
                self.units[name] = Unit(
                    name,
                    fragment,
                    start,
                    source,
                    _names_used(stmt),
                    isinstance(stmt, (ast.Assign, ast.AnnAssign)),
                )
        self.fragment_deps[fragment] = deps

    def _add_import(self, imp: Import, fragment: str) -> None:
        if imp.top_module not in THIRD_PARTY and imp.top_module not in sys.stdlib_module_names:
            raise FragmentError(
                f"{fragment}.py imports '{imp.module}': generated scripts may "
                "import only the standard library, paddle, numpy and cv2"
            )
        known = self.imports.get(imp.alias)
        meaning = (imp.module, imp.name)
        if known and (known.module, known.name) != meaning:

            def full(i):
                return f"{i.module}.{i.name}" if i.name else i.module

            if full(known) != full(imp):
                raise FragmentError(
                    f"{fragment}.py binds '{imp.alias}' to {full(imp)}, another "
                    f"fragment to {full(known)}; use one meaning per name"
                )
        self.imports.setdefault(imp.alias, imp)

    def _check_shadowing(self) -> None:
        """A unit may not take the name of an import or a builtin: in one generated file
        the later binding would silently replace the earlier one."""
        for name, unit in sorted(self.units.items()):
            if name in self.imports:
                imp = self.imports[name]
                raise FragmentError(
                    f"{unit.fragment}.py:{unit.lineno + 1}: '{name}' shadows "
                    f"the import of {imp.module} that other fragments use"
                )
            if name in dir(builtins):
                raise FragmentError(
                    f"{unit.fragment}.py:{unit.lineno + 1}: '{name}' shadows a Python builtin"
                )

    def _check_fragment_imports(self) -> None:
        """Relative imports must name existing fragments and must not form a cycle."""
        visiting: set[str] = set()
        done: set[str] = set()

        def visit(fragment: str) -> None:
            if fragment in done:
                return
            if fragment in visiting:
                raise FragmentError(f"import cycle between fragments at {fragment}.py")
            visiting.add(fragment)
            for dep in self.fragment_deps[fragment]:
                if dep not in self.fragment_deps:
                    raise FragmentError(f"{fragment}.py imports missing fragment '{dep}'")
                visit(dep)
            visiting.discard(fragment)
            done.add(fragment)

        for fragment in sorted(self.fragment_deps):
            visit(fragment)

    def closure(self, roots: list[str], stop: set[str] = frozenset()) -> list[Unit]:
        """The units reachable from `roots`, grouped by fragment, in source order.

        Fragments come in the order the roots first reach them (so a script reads
        backbone before head when its body builds them in that order), each after
        the fragments it imports from.
        """
        reached: dict[str, Unit] = {}
        fragment_order: list[str] = []

        def place(fragment: str) -> None:
            if fragment in fragment_order:
                return
            for dep in sorted(self.fragment_deps[fragment]):
                place(dep)
            fragment_order.append(fragment)

        def reach(name: str) -> None:
            if name in reached or name not in self.units or name in stop:
                return
            unit = self.units[name]
            reached[name] = unit
            for used in sorted(unit.uses):
                reach(used)
            place(unit.fragment)

        for root in roots:
            reach(root)
        rank = {f: i for i, f in enumerate(fragment_order)}
        units = {id(u): u for u in reached.values()}  # one unit may bind two names
        return sorted(units.values(), key=lambda u: (rank[u.fragment], u.lineno))

    def assemble(self, body: str, banner: str) -> str:
        """The assembled script's text (see `assemble_with_sources`)."""
        return self.assemble_with_sources(body, banner)[0]

    def assemble_with_sources(self, body: str, banner: str,
                              siblings: list[tuple[str, set[str]]] = ()
                              ) -> tuple[str, list[str], set[str]]:
        """banner + body docstring + merged imports + body, with the units `body` needs;
        the fragments those units came from; and the names of those units.

        `siblings` = [(module, names), ...]: units sibling modules of the generated folder
        already define (model.py's, train.py's), imported from the first that defines
        each instead of written again.

        The units go where the body has a line `# @units` (so a script can put its
        recipe above the generic code and its entry point below), else before the body.
        """
        tree = ast.parse(body)
        lines = body.splitlines()
        docstring = ""
        body_imports: dict[str, Import] = {}
        skip: set[int] = set()
        for index, stmt in enumerate(tree.body):
            if index == 0 and isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
                docstring = "\n".join(lines[stmt.lineno - 1 : stmt.end_lineno])
                skip.update(range(stmt.lineno - 1, stmt.end_lineno))
            elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
                for imp in _imports_of(stmt):
                    body_imports[imp.alias] = imp
                skip.update(range(stmt.lineno - 1, stmt.end_lineno))
            else:
                for name in _bound_names(stmt):
                    if name in self.units:
                        unit = self.units[name]
                        raise FragmentError(
                            f"the skeleton defines '{name}', which shadows the "
                            f"unit of {unit.fragment}.py; rename one"
                        )
        kept = [line for i, line in enumerate(lines) if i not in skip]
        if UNITS_MARKER in kept:
            at = kept.index(UNITS_MARKER)
            above, below = "\n".join(kept[:at]), "\n".join(kept[at + 1 :])
        else:
            above, below = "", "\n".join(kept)

        # Roots in the order the body first mentions them.
        names = sorted(
            (n for n in ast.walk(tree) if isinstance(n, ast.Name)),
            key=lambda n: (n.lineno, n.col_offset),
        )
        roots = list(
            dict.fromkeys(
                n.id for n in names if n.id not in dir(builtins) and n.id not in body_imports
            )
        )
        provided = set().union(*(names for _, names in siblings))
        units = self.closure(roots, stop=provided)
        needed = set(roots).union(*(unit.uses for unit in units))
        for name in sorted(needed & provided):
            module = next(module for module, names in siblings if name in names)
            body_imports.setdefault(name, Import(module, name, name))
        imports = {alias: imp for alias, imp in self.imports.items() if alias in needed}
        for alias, imp in body_imports.items():
            if alias in imports and imports[alias] != imp:
                raise FragmentError(
                    f"the skeleton imports '{alias}' from {imp.module}, "
                    f"which the fragments bind to {imports[alias].module}"
                )
            imports[alias] = imp

        header = banner.rstrip("\n") + ("\n" + docstring if docstring else "")
        text = header
        import_block = _format_imports(imports.values()).strip("\n")
        if import_block:
            text += "\n\n" + import_block
        # what comes next: the recipe above the units, the units, the entry point below
        blocks = [above.strip("\n")] if above.strip() else []
        previous = None
        for unit in units:
            if previous is None or unit.fragment != previous.fragment:
                blocks.append(self.section_header(unit.fragment) + "\n\n" + unit.source.strip("\n"))
            else:  # constants of one fragment stay together, definitions get two lines
                both_constants = previous.is_constant and unit.is_constant
                blocks[-1] += ("\n\n" if both_constants else "\n\n\n") + unit.source.strip("\n")
            previous = unit
        if below.strip():
            blocks.append(below.strip("\n"))
        for index, block in enumerate(blocks):
            # isort's rule, which ruff checks: one blank line after the imports unless a
            # def or class follows them; two between top-level blocks
            after_imports = index == 0 and import_block
            one = after_imports and not block.startswith(("def ", "class ", "@"))
            text += ("\n\n" if one else "\n\n\n") + block
        used = sorted({unit.fragment for unit in units})
        placed = {id(unit) for unit in units}
        names = {name for name, unit in self.units.items() if id(unit) in placed}
        return text + "\n", used, names

    def section_header(self, fragment: str) -> str:
        """`# ---- models/pspnet.py ----`, then the fragment's docstring as comments: the
        paper, the idea and where names follow PaddleSeg stay with the code."""
        lines = [f"# ---- {fragment}.py " + "-" * max(4, 66 - len(fragment))]
        doc = self.fragment_docs.get(fragment)
        if doc:
            lines.append("#")
            lines.extend(f"# {line}".rstrip() for line in doc.splitlines())
        return "\n".join(lines)


def _import_group(imp: Import) -> int:
    """isort's sections: standard library, third party, then the script's own siblings."""
    if imp.top_module in sys.stdlib_module_names:
        return 0
    return 1 if imp.top_module in THIRD_PARTY else 2


# Paddle's import warns that ccache is missing (it is a build cache for custom C++
# operators, which no generated script compiles): the first thing a newcomer would read
# from every script. Paddle's imports go inside this block, which silences only that.
PADDLE_IMPORT_GUARD = """with warnings.catch_warnings():
    # Paddle warns at import when ccache, a build cache for custom C++ operators, is not
    # installed; these scripts compile no operators, so the warning is only noise.
    warnings.filterwarnings("ignore", message="No ccache found")
"""


def _format_imports(imports) -> str:
    """isort-style sections; plain imports before from-imports within each. Paddle's own
    imports come after the other third-party ones, inside `PADDLE_IMPORT_GUARD`."""
    imports = list(imports)
    paddle = [imp for imp in imports if imp.top_module == "paddle"]
    if paddle:
        imports = [imp for imp in imports if imp.top_module != "paddle"]
        imports.append(Import("warnings", None, "warnings"))
    sections = _import_sections(imports)
    if paddle:
        guarded = textwrap.indent(_import_sections(paddle)[1], "    ")
        sections[1] = (sections[1] + "\n\n" if 1 in sections else "") + (
            PADDLE_IMPORT_GUARD + guarded)
    return "\n\n".join(sections[group] for group in sorted(sections)) + "\n"


def _member_key(name: str) -> tuple:
    """isort's (and ruff's) order of the names of one from-import: constants, then
    classes, then everything else, each case-insensitively."""
    kind = 0 if name.isupper() and len(name) > 1 else 1 if name[:1].isupper() else 2
    return kind, name.lower(), name


def _import_sections(imports) -> dict[int, str]:
    """The import lines of each non-empty isort section (0 standard library, 1 third
    party, 2 the script's siblings)."""
    groups: dict[int, dict] = {0: {}, 1: {}, 2: {}}
    for imp in imports:
        group = groups[_import_group(imp)]
        if imp.name is None:
            bare = imp.alias == imp.top_module  # `import os.path` binds `os`
            line = f"import {imp.module}" + ("" if bare else f" as {imp.alias}")
            group[(0, imp.module, imp.alias)] = line
        else:
            names = group.setdefault((1, imp.module, ""), set())
            names.add(imp.name if imp.alias == imp.name else f"{imp.name} as {imp.alias}")
    sections = {}
    for section in sorted(groups):
        lines = []
        for (kind, module, _), entry in sorted(groups[section].items()):
            lines.append(entry if kind == 0 else
                         f"from {module} import {', '.join(sorted(entry, key=_member_key))}")
        if lines:
            sections[section] = "\n".join(lines)
    return sections
