"""The compile pipeline: load -> validate -> resolve -> render -> format -> emit.

Each stage is one module; this one only strings them together and collects
the diagnostics of every spec before anything is written.
"""

from __future__ import annotations

from pathlib import Path

from .diagnostics import Diagnostic, SpecError
from .emitter import Output, sha256
from .formatter import Formatter
from .ir import Variant
from .loader import load
from .locations import zoo_dir, zoo_specs  # noqa: F401 - the pipeline's public names
from .renderer import Renderer
from .resolver import MeasuredFigures, read_measured_figures, resolve
from .validator import validate


def resolve_specs(paths: list[Path], project_root: Path) -> tuple[list[Variant], list[Diagnostic]]:
    """Variants of every spec that is valid, and the diagnostics of every one that is not.

    The figures `segc bench` measured are an input of their own: the file beside each
    spec's folder, read once per folder.
    """
    variants: list[Variant] = []
    diagnostics: list[Diagnostic] = []
    figures: dict[Path, MeasuredFigures] = {}
    made_by: dict[str, str] = {}  # output folder -> the spec that first produced it
    for path in paths:
        try:
            zoo = path.parent.resolve()
            if zoo not in figures:
                figures[zoo] = read_measured_figures(zoo, project_root)
            doc = load(path)
            validate(doc)
            resolved = resolve(doc, project_root, figures[zoo])
        except SpecError as exc:
            diagnostics.extend(exc.diagnostics)
            continue
        for index, variant in enumerate(resolved):
            # Two specs writing one folder would overwrite each other, whichever ran last.
            if variant.name in made_by:
                diagnostics.append(doc.diagnostic(
                    ("variants", index), f"output folder '{variant.name}' is also produced by "
                    f"{made_by[variant.name]}; give one of them a distinct 'name'"))
            else:
                made_by[variant.name] = variant.spec_file
                variants.append(variant)
    return variants, diagnostics


def render_outputs(variants: list[Variant], renderer: Renderer | None = None) -> list[Output]:
    """Every variant's files, formatted, with what each file was made from."""
    renderer = renderer or Renderer()
    hashes: dict[Path, str] = {}

    def recorded(path: Path) -> tuple[str, str]:
        if path not in hashes:
            hashes[path] = sha256(path.read_bytes())
        return f"templates/{path.relative_to(renderer.directory).as_posix()}", hashes[path]

    # rendered in batches, each formatted while the next one renders
    batch_size = max(1, len(variants) // 3)
    formatter = Formatter()
    rendered, batch = [], {}
    for index, variant in enumerate(variants, start=1):
        files, made_from = renderer.render(variant)
        rendered.append((variant, files, made_from))
        batch.update({f"{variant.name}/{name}": text for name, text in files.items()
                      if name.endswith(".py")})
        if index % batch_size == 0 or index == len(variants):
            formatter.submit(batch)
            batch = {}
    formatted = formatter.results()
    outputs = []
    for variant, files, made_from in rendered:
        files = {name: formatted.get(f"{variant.name}/{name}", text)
                 for name, text in files.items()}
        provenance = {
            "spec_file": variant.spec_file,
            "specs": dict(variant.sources),
            "files": {name: dict(sorted(recorded(p) for p in made_from[name]))
                      for name in sorted(files)},
        }
        outputs.append(Output(variant.name, files, provenance))
    return outputs
