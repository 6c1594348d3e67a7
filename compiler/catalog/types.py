"""What a catalog entry is: a component a spec may name, and its arguments."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Arg:
    name: str
    schema: dict
    default: object
    description: str
    # When set, the rendered call lets a runtime value of this name (a flag
    # of the generated script) replace the spec's value, e.g. --crop-size.
    runtime_override: str | None = None


@dataclass(frozen=True)
class ExtraOutput:
    """A training output of a model after its main logits, consumed by one loss each."""

    name: str  # what it is, for messages and model cards, e.g. "auxiliary"
    # the model argument that, when true, adds this output; or a predicate of all the
    # model's arguments (SETR: how many auxiliary heads depends on its head and indices);
    # None: always there
    when: str | Callable[[dict], bool] | None = None

    def present(self, args: dict) -> bool:
        """Whether a model built with `args` returns this output."""
        if self.when is None:
            return True
        return bool(self.when(args) if callable(self.when) else args[self.when])


@dataclass(frozen=True)
class Requirement:
    """Something a component needs another component of the recipe to provide."""

    name: str  # what is provided, e.g. "fixed_size"
    why: str  # the diagnostic when nothing provides it: what needs it and why


@dataclass(frozen=True)
class Component:
    name: str  # the name written in specs
    symbol: str  # the fragment callable that builds it
    description: str
    args: tuple[Arg, ...] = ()
    # backbones: how many feature maps forward() returns
    num_features: int = 0
    # models: the training outputs after the main logits, in order
    extra_outputs: tuple[ExtraOutput, ...] = ()
    # models: backbone families this head is known to work with
    backbones: tuple[str, ...] = ()
    # models: whether a variant names a backbone (False: the model builds its own layers)
    takes_backbone: bool = True
    # what this component guarantees to the rest of the recipe (transforms: "fixed_size")
    provides: tuple[str, ...] = ()
    # what it needs another component of the recipe to provide
    requires: tuple[Requirement, ...] = ()
    # values the generated code supplies at run time, as (parameter, expression)
    runtime_args: tuple[tuple[str, str], ...] = ()
    # losses: the argument that, when true, makes the loss compare its output with the
    # label's edge map instead of the label (PaddleSeg's `edge_label`); None: the label
    edge_map_when: str | None = None
    extra: dict = field(default_factory=dict)

    def arg(self, name: str) -> Arg:
        return next(a for a in self.args if a.name == name)

    def output_names(self, args: dict) -> list[str]:
        """Names of the training outputs a model built with `args` returns, main first."""
        return ["main"] + [o.name for o in self.extra_outputs if o.present(args)]

    def target(self, args: dict) -> str:
        """What a loss built with `args` compares its output with: "label" or "edge"."""
        return "edge" if self.edge_map_when is not None and args[self.edge_map_when] else "label"


def defaults(component: Component) -> dict:
    return {a.name: a.default for a in component.args}


INT = {"type": "integer"}
POS_INT = {"type": "integer", "minimum": 1}
NUM = {"type": "number"}
BOOL = {"type": "boolean"}
PROB = {"type": "number", "minimum": 0, "maximum": 1}
INT_LIST = {"type": "array", "items": {"type": "integer"}, "minItems": 1}
# [width, height] in pixels; 16384 bounds a typo (a crop of 1e9) far above any real image.
MAX_SIDE = 16384
SIZE = {"type": "array", "items": {"type": "integer", "minimum": 1, "maximum": MAX_SIDE},
        "minItems": 2, "maxItems": 2}
RGB = {"type": "array", "items": {"type": "number"}, "minItems": 3, "maxItems": 3}
