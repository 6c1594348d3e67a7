"""The catalog and the fragments agree: every entry's symbol builds it with the catalog's args.

The renderer writes each backbone, model, loss, transform, optimizer and learning-rate
schedule as `Symbol(runtime_param=expr, ..., arg=literal, ...)` (`renderer.call_expr`),
with every catalog argument spelled out. So for each catalog entry this test checks that

- its symbol is a top-level unit of the fragment library (`FragmentLibrary`), or, for a
  dotted `paddle.*` symbol, an attribute of paddle that the skeleton's `import paddle`
  reaches;
- every argument it declares, and every runtime argument (`Component.runtime_args`), is a
  keyword parameter of the constructor (a class's `__init__`; a factory function taking
  `**kwargs`, such as `ResNet50_vd`, is followed to the single class call it returns,
  less the keywords the factory fixes itself), and none is given twice;
- each declared default equals the code's default where the code has one (lists and
  tuples compare by value; a catalog default for a required parameter is fine);
- no parameter the constructor requires is left unsupplied.

What it does not check, and why:

- Not all defaults of paddle's own classes (`paddle.optimizer.Momentum`): their defaults
  are paddle's API, not ours, and the catalog's are PaddleSeg's recipe values (its
  Cityscapes configs' weight decay). Those are compared too, except the entries listed in
  `RECIPE_DEFAULTS`, which differ on purpose, with the reason; the test checks each still
  differs, so the list cannot go stale. Argument names and required parameters of paddle's
  classes are checked as for fragments.
- Optional parameters of the code that the catalog does not declare are not flagged: a
  spec cannot set them, and that may be intended (paddle's Momentum has several; today
  no fragment constructor has one).
- Datasets are not built by a rendered call: `load_dataset` in data/datasets dispatches on
  the spec's `dataset.type` to the fragment function the entry names, passing the spec's
  `dataset` section (root, split, file lists), which the resolver defaults, not catalog
  args. Only that the symbol exists, that `load_dataset` calls it, and that dataset entries
  declare no args, is checked.
- Values, not names: that an argument means in the code what its description says, and
  that a catalog default is the value PaddleSeg uses, are what the parity and
  architecture tests hold; the schema's ranges are not checked against the code.
- Whether the rendered call runs (arguments of the right type and shape) is the compile
  and build tests' job.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import textwrap
from dataclasses import dataclass, field

import pytest

from segc import catalog
from segc.assembler import FragmentLibrary
from segc.catalog import Arg, Component

from .conftest import REPO

FRAGMENTS = REPO / "templates" / "fragments"
LIBRARY = FragmentLibrary(FRAGMENTS)

# Catalog defaults that differ on purpose from the default of a class that is not ours:
# (kind, entry, argument) -> why.
RECIPE_DEFAULTS = {
    ("optimizer", "SGD", "weight_decay"):
        "paddle.optimizer.Momentum defaults to no weight decay; PaddleSeg's Cityscapes "
        "recipes (the catalog's defaults) use 4e-5",
}

ENTRIES = [(kind, component) for kind, components in catalog.KINDS.items()
           for component in components.values()]
# kinds built by a fragment function from the spec, not by a rendered call -> that function
NOT_CALLED = {"dataset": "load_dataset"}


@dataclass
class Constructor:
    """What a rendered call `symbol(...)` reaches, and the parameters it takes."""

    where: str  # e.g. "ResNet50_vd (backbones/resnet_vd) -> ResNet_vd.__init__"
    params: dict[str, inspect.Parameter]
    fixed: set[str] = field(default_factory=set)  # set by a factory, not by the caller


def _signature_params(obj) -> dict[str, inspect.Parameter]:
    target = obj.__init__ if inspect.isclass(obj) else obj
    params = dict(inspect.signature(target).parameters)
    if inspect.isclass(obj):
        params.pop(next(iter(params)))  # self
    return params


def _forwarded_call(function) -> ast.Call | None:
    """The `return Class(...)` of a factory function, when it has exactly one return."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    returns = [n for n in ast.walk(tree.body[0]) if isinstance(n, ast.Return)]
    if len(returns) == 1 and isinstance(returns[0].value, ast.Call):
        call = returns[0].value
        if isinstance(call.func, ast.Name):
            return call
    return None


def constructor(symbol: str) -> Constructor:
    if "." in symbol:
        module_name, _, attribute = symbol.rpartition(".")
        obj = getattr(importlib.import_module(module_name), attribute)
        return Constructor(f"{symbol}.__init__", _signature_params(obj))
    unit = LIBRARY.units[symbol]
    module = importlib.import_module("segc.templates.fragments." + unit.fragment.replace("/", "."))
    obj = getattr(module, symbol)
    where = f"{symbol} ({unit.fragment})"
    params = _signature_params(obj)
    if inspect.isclass(obj):
        return Constructor(f"{where} __init__", params)
    if not any(p.kind is p.VAR_KEYWORD for p in params.values()):
        return Constructor(where, params)
    # a factory such as ResNet50_vd(**kwargs): follow it to the class it builds
    call = _forwarded_call(obj)
    assert call is not None, f"{where} takes **kwargs but returns no single Class(...) call"
    target = getattr(module, call.func.id)
    assert inspect.isclass(target), f"{where} returns {call.func.id}(...), not a class"
    target_params = _signature_params(target)
    positional = [n for n, p in target_params.items()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    fixed = {kw.arg for kw in call.keywords if kw.arg}
    fixed |= set(positional[:len([a for a in call.args if not isinstance(a, ast.Starred)])])
    own = {n: p for n, p in params.items() if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)}
    return Constructor(f"{where} -> {target.__name__}.__init__", {**target_params, **own}, fixed)


def same_default(a, b) -> bool:
    """Equal as values (1 == 1.0; lists and tuples alike); bool and None equal only themselves."""
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same_default(x, y) for x, y in zip(a, b))
    if a is None or b is None or isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    return type(a) is type(b) and a == b


def problems(kind: str, component) -> list[str]:
    """Every way `component` disagrees with the code that builds it, one message each."""
    entry = f"{kind} '{component.name}'"
    if "." in component.symbol and component.symbol.split(".")[0] != "paddle":
        return [(f"{entry}: dotted symbol '{component.symbol}' is not paddle's; generated "
                "scripts import only paddle, numpy and cv2 besides their fragments")]
    if component.symbol not in LIBRARY.units and "." not in component.symbol:
        where = FRAGMENTS.relative_to(REPO)
        return [(f"{entry}: symbol '{component.symbol}' is not a top-level unit of any "
                f"fragment in {where}")]
    if kind in NOT_CALLED:
        found = []
        if component.symbol not in LIBRARY.units[NOT_CALLED[kind]].uses:
            found.append(f"{entry}: symbol '{component.symbol}' is never called by "
                         f"{NOT_CALLED[kind]}, which builds every {kind}")
        if component.args:
            found.append(f"{entry}: declares args {[a.name for a in component.args]}, but "
                         f"{NOT_CALLED[kind]} builds a {kind} from the spec's section, "
                         "not from catalog args")
        return found
    built = constructor(component.symbol)
    found = []
    keyword = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    supplied = [(a.name, "argument") for a in component.args]
    supplied += [(param, "runtime argument") for param, _ in component.runtime_args]
    seen: set[str] = set()
    for name, what in supplied:
        if name in seen:
            found.append(f"{entry}: {what} '{name}' is given twice in the rendered call")
        seen.add(name)
        param = built.params.get(name)
        if name in built.fixed:
            found.append(f"{entry}: {what} '{name}' is fixed by the factory {built.where}")
        elif param is None or param.kind not in keyword:
            found.append(f"{entry}: {what} '{name}' is not a keyword parameter of "
                         f"{built.where}; it takes {list(built.params)}")
    for arg in component.args:
        param = built.params.get(arg.name)
        if param is None or arg.name in built.fixed or param.default is inspect.Parameter.empty:
            continue
        key = (kind, component.name, arg.name)
        differs = not same_default(arg.default, param.default)
        if key in RECIPE_DEFAULTS:
            if not differs:
                found.append(f"{entry}: argument '{arg.name}': catalog default "
                             f"{arg.default!r} now equals {built.where}'s; drop it from "
                             "RECIPE_DEFAULTS")
        elif differs:
            found.append(f"{entry}: argument '{arg.name}': catalog default {arg.default!r} "
                         f"!= code default {param.default!r} in {built.where}")
    for name, param in built.params.items():
        if (param.kind in keyword and param.default is inspect.Parameter.empty
                and name not in seen and name not in built.fixed):
            found.append(f"{entry}: {built.where} requires '{name}', which neither the "
                         "catalog's args nor its runtime_args supply")
    return found


@pytest.mark.parametrize(("kind", "component"), ENTRIES,
                         ids=[f"{kind}:{component.name}" for kind, component in ENTRIES])
def test_catalog_entry_matches_its_constructor(kind, component):
    found = problems(kind, component)
    assert not found, "\n".join(found)


def test_the_check_sees_factories_and_recipe_defaults():
    # the factories are followed to the class they build, less what they fix
    resnet = constructor("ResNet50_vd")
    assert resnet.where.endswith("ResNet_vd.__init__") and resnet.fixed == {"layers"}
    hrnet = constructor("HRNet_W18")
    assert hrnet.where.endswith("HRNet.__init__") and hrnet.fixed == {"width"}
    for kind, name, _ in RECIPE_DEFAULTS:
        assert name in catalog.KINDS[kind], f"RECIPE_DEFAULTS names unknown {kind} '{name}'"
        assert "." in catalog.KINDS[kind][name].symbol, \
            f"RECIPE_DEFAULTS is for classes not ours; {kind} '{name}' is a fragment's"


def test_the_check_reports_each_kind_of_mismatch():
    def broken(symbol, args=(), runtime_args=()):
        return problems("model", Component(name="Broken", symbol=symbol, description="",
                                           args=tuple(Arg(n, {}, d, "") for n, d in args),
                                           runtime_args=runtime_args))

    assert "is not a top-level unit" in broken("NoSuchModel")[0]
    assert "is not paddle's" in broken("torch.nn.Linear")[0]
    resnet = "\n".join(broken("ResNet50_vd", [
        ("layers", 50), ("output_stride", 16), ("multi_grid", [1, 1, 1]), ("in_channels", 3),
        ("dilation", 2)]))
    assert "argument 'layers' is fixed by the factory ResNet50_vd" in resnet
    assert "argument 'dilation' is not a keyword parameter of ResNet50_vd" in resnet
    assert "argument 'output_stride': catalog default 16 != code default 8 in ResNet50_vd" \
        in resnet
    assert "argument 'multi_grid'" not in resnet  # [1, 1, 1] equals the code's (1, 1, 1)
    schedule = "\n".join(broken("PolynomialLR", [("learning_rate", 0.01), ("power", 0.9)],
                                (("power", "power"),)))
    assert "runtime argument 'power' is given twice" in schedule
    assert "requires 'decay_steps', which neither" in schedule
