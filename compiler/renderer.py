"""Render a variant's IR into source text, one string per output file.

Python computes everything a template shows (call expressions, literals);
Jinja only lays it out. Spec values reach code only through `py_literal`.
"""

from __future__ import annotations

import ast
import math
import pprint
import re
import textwrap
from pathlib import Path

import jinja2

from . import catalog
from .assembler import FragmentLibrary
from .ir import Call, Loss, Variant, thaw
from .locations import templates_dir

# model.py first, then train.py: the scripts after them import from them
SCRIPTS = ("model.py", "train.py", "export.py", "infer.py", "evaluate.py", "predict.py")
# The siblings each script imports from rather than repeat what they define.
SIBLINGS = {"train.py": ("model",), "export.py": ("model",),
            "evaluate.py": ("model", "train"), "predict.py": ("model", "train")}
LINE_WIDTH = 96  # for text the formatter does not touch: docstrings, literals in comments


def py_literal(value) -> str:
    """A Python literal for plain data; refuses anything that is not plain data."""
    if value is None or isinstance(value, (bool, int, str)):
        return repr(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"non-finite number {value!r} cannot be a literal")
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(py_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{py_literal(str(k))}: {py_literal(v)}"
                               for k, v in value.items()) + "}"
    thawed = thaw(value)
    if thawed is not value:
        return py_literal(thawed)
    raise TypeError(f"{type(value).__name__} is not plain data")


def pretty_literal(value) -> str:
    """A multi-line literal for big values; checked to equal `value` when evaluated."""
    text = pprint.pformat(thaw(value), width=LINE_WIDTH - 8, sort_dicts=False)
    if ast.literal_eval(text) != thaw(value):  # pformat of plain data is a literal
        raise ValueError("pretty literal does not round-trip")
    return text


def call_expr(call: Call | None) -> str | None:
    """`Symbol(runtime=expr, arg=literal, ...)` on one line; the formatter wraps it."""
    if call is None:
        return None
    args = [f"{param}={expr}" for param, expr in call.runtime_args]
    for name, value in call.args.items():
        override = call.overrides.get(name)
        literal = py_literal(value)
        # a flag left unset (None) keeps the spec's value; 0 is a value (--warmup-iters 0)
        args.append(f"{name}={literal} if {override} is None else {override}" if override
                    else f"{name}={literal}")
    return f"{call.symbol}({', '.join(args)})"


def loss_entry(loss: Loss) -> str:
    """`(Loss(...), coef, target)`."""
    return f"({call_expr(loss.call)}, {py_literal(loss.coef)}, {py_literal(loss.target)})"


_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def comment_text(text: str) -> str:
    """Text safe inside a `#` comment: one line, no control or bidi characters."""
    return _CONTROL.sub(" ", str(text))


def docstring_text(text: str) -> str:
    """Text safe inside a triple-quoted docstring: one line, no escapes, no closing quotes."""
    text = comment_text(text).replace("\\", "\\\\")
    return text.replace('"""', '\\"\\"\\"')


# What would make a line of free text a heading, list item, rule, quote or code fence:
# the marker (after any indentation) gets a backslash so that it shows as written.
_BLOCK_MARKER = re.compile(r"^(\s*)([#=+*`~-]|\d+(?=[.)]))", re.MULTILINE)


def markdown_text(text: str) -> str:
    """Free spec text for the model card: no HTML, no table breaks, no control characters,
    and no line that Markdown would read as a heading, list, rule, quote or code block."""
    text = _CONTROL.sub(" ", str(text)) if "\n" not in str(text) else str(text)
    text = (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace("|", "\\|"))
    text = "\n".join(line.lstrip() for line in text.split("\n"))  # indentation: code block
    return _BLOCK_MARKER.sub(lambda m: m[1] + (m[2] + "\\" if m[2].isdigit() else "\\" + m[2]),
                             text)


def _figure(value) -> str:
    return "–" if value is None else f"{value:.2f}"


def figure_rows(variant: Variant) -> list[list[str]]:
    """The model card's figures: PaddleSeg's model zoo beside what `segc bench` measured."""
    ref, ours = variant.reference, variant.measured
    source = ("PaddleSeg model zoo (Cityscapes val; V100 inference)"
              if variant.dataset["type"] == "Cityscapes" else "PaddleSeg model zoo")
    rows = [[source, _figure(ref.get("miou")),
             _figure(ref.get("gflops")), _figure(ref.get("params_m")),
             _figure(ref.get("inference_ms"))]]
    if ours:
        rows.append(["this model, measured by `segc bench` (eval mode, paddle.flops)", "–",
                     _figure(ours["gflops"]), _figure(ours["params_m"]),
                     "docs/model_zoo.md (machine-dependent)"])
    else:
        rows.append(["this model: not measured yet (`segc bench " + variant.name + "`)",
                     "–", "–", "–", "–"])
    return rows


def _environment(directory: Path) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(directory)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
    env.filters["py"] = py_literal
    env.filters["comment"] = comment_text
    env.filters["docstring"] = docstring_text
    env.filters["md"] = markdown_text
    return env


def _banner(variant: Variant, script: str) -> str:
    return (f"# Generated by segc from {comment_text(variant.spec_file)} "
            f"(variant {variant.name}): do not edit.\n"
            "# Change the spec or the templates and run `segc compile` again.")


def onnx_unsupported(variant: Variant) -> str | None:
    """Why paddle2onnx cannot convert this combination (its catalog components say it,
    under `extra["onnx_unsupported"]`), or None."""
    components = [catalog.MODELS[variant.model.type]]
    if variant.backbone:
        components.append(catalog.BACKBONES[variant.backbone.type])
    reasons = [c.extra[key] for c in components for key in ("onnx_unsupported", "onnx_wrong")
               if key in c.extra]
    return "; ".join(reasons) or None


def onnx_fixed_input(variant: Variant) -> dict | None:
    """For a model whose adaptive pooling paddle2onnx converts only at a static input size,
    and exactly only where each bin count divides the pooled map (catalog
    `extra["onnx_fixed_input"]`): what pools, the map's stride, the bins, the multiple of
    pixels both sides must be, and an example size near 512x1024; else None."""
    fixed = catalog.MODELS[variant.model.type].extra.get("onnx_fixed_input")
    if not fixed:
        return None
    bins = fixed["bins"]
    bins = list(variant.model.args[bins] if isinstance(bins, str) else bins)
    stride = fixed.get("stride") or variant.backbone.args["output_stride"]
    multiple = stride * math.lcm(*bins)
    example = [max(1, round(side / multiple)) * multiple for side in (512, 1024)]
    return {"what": fixed["what"], "stride": stride, "bins": bins, "multiple": multiple,
            "example": example}


def export_spec(variant: Variant) -> dict:
    """export.py's SPEC: the variant's, plus the export check its model asks for (catalog
    `extra["export_check"]`, for a model whose output is not continuous in its input, or
    too sensitive to float32 summation order: SegNet, ISANet),
    the multiple both input sides must be for a model that takes no other size
    (`extra["input_multiple"]`: export.py checks an odd size in its steps) and the input
    multiple its ONNX conversion needs (`onnx_fixed_input`), and why ONNX is refused for a
    model paddle2onnx converts wrong (`onnx_wrong`)."""
    spec = variant.export_spec()
    extra = catalog.MODELS[variant.model.type].extra
    check = extra.get("export_check")
    if check:
        spec["export_check"] = dict(check)
    if extra.get("input_multiple"):
        spec["input_multiple"] = extra["input_multiple"]
    if extra.get("onnx_wrong"):  # converts without an error, but wrong: refused first
        spec["onnx_wrong"] = extra["onnx_wrong"]
    fixed = onnx_fixed_input(variant)
    if fixed:
        spec["onnx_fixed_input"] = {k: fixed[k] for k in ("what", "multiple", "example")}
    return spec


class Renderer:
    def __init__(self, directory: Path | None = None):
        self.directory = directory or templates_dir()
        self.env = _environment(self.directory)
        self.library = FragmentLibrary(self.directory / "fragments")

    def context(self, variant: Variant) -> dict:
        return {
            "v": variant,
            "display_title": variant.display_title,
            "description_lines": textwrap.wrap(variant.description, LINE_WIDTH - 8),
            "spec_literal": pretty_literal(variant.train_spec()),
            "export_spec_literal": pretty_literal(export_spec(variant)),
            "infer_spec_literal": pretty_literal(variant.infer_spec()),
            "backbone_expr": call_expr(variant.backbone),
            "model_expr": call_expr(variant.model),
            "train_transform_exprs": [call_expr(t) for t in variant.train_transforms],
            "val_transform_exprs": [call_expr(t) for t in variant.val_transforms],
            "loss_entries": [loss_entry(loss) for loss in variant.losses],
            "lr_expr": call_expr(variant.lr_scheduler),
            "optimizer_expr": call_expr(variant.optimizer),
            "reference": thaw(variant.reference),
            "figure_rows": figure_rows(variant),
            "onnx_unsupported": onnx_unsupported(variant),
            "onnx_fixed_input": onnx_fixed_input(variant),
        }

    def render(self, variant: Variant) -> tuple[dict[str, str], dict[str, list[Path]]]:
        """({file name: text}, {file name: the templates and fragments it was made from})
        for one variant; Python files are still unformatted."""
        context = self.context(variant)
        files, made_from = {}, {}
        defined: dict[str, set[str]] = {}  # sibling module: the names it defines
        for script in SCRIPTS:
            body = self.env.get_template(f"{script}.j2").render(context)
            siblings = [(module, defined[module]) for module in SIBLINGS.get(script, ())]
            files[script], fragments, names = self.library.assemble_with_sources(
                body, _banner(variant, script), siblings)
            if script == "model.py":
                defined["model"] = names | {"build_model", "NUM_CLASSES"}
            elif script == "train.py":
                defined["train"] = names
            made_from[script] = [self.directory / f"{script}.j2"] + [
                self.library.directory / f"{fragment}.py" for fragment in fragments]
        files["README.md"] = self.env.get_template("README.md.j2").render(context)
        made_from["README.md"] = [self.directory / "README.md.j2"]
        return files, made_from

    def template_files(self) -> list[Path]:
        """Every file rendering reads (for the manifest's provenance record)."""
        files = sorted(self.directory.glob("*.j2")) + sorted(
            (self.directory / "fragments").rglob("*.py"))
        return [f for f in files if f.name != "__init__.py"]
