"""The compile pipeline: load -> validate -> resolve -> render -> emit.

Each stage is one module; this one only strings them together and collects
the diagnostics of every spec before anything is written.
"""

from __future__ import annotations

from pathlib import Path

from .diagnostics import Diagnostic, SpecError
from .emitter import Output, sha256, syntax_check
from .ir import Variant
from .loader import load
from .renderer import Renderer
from .resolver import resolve
from .validator import validate


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


def resolve_specs(paths: list[Path], project_root: Path) -> tuple[list[Variant], list[Diagnostic]]:
    """Variants of every spec that is valid, and the diagnostics of every one that is not."""
    variants: list[Variant] = []
    diagnostics: list[Diagnostic] = []
    for path in paths:
        try:
            doc = load(path)
            validate(doc)
            variants.extend(resolve(doc, project_root))
        except SpecError as exc:
            diagnostics.extend(exc.diagnostics)
    return variants, diagnostics


def render_outputs(variants: list[Variant], renderer: Renderer | None = None) -> list[Output]:
    renderer = renderer or Renderer()
    template_hashes = {f"templates/{f.relative_to(renderer.directory).as_posix()}":
                       sha256(f.read_bytes()) for f in renderer.template_files()}
    outputs = []
    for variant in variants:
        provenance = {"specs": dict(variant.sources), "templates": template_hashes}
        outputs.append(Output(variant.name, renderer.render(variant), provenance))
    problems = syntax_check(outputs)
    if problems:
        raise RuntimeError("templates produced invalid Python (a segc bug):\n"
                           + "\n".join(problems))
    return outputs

