"""The oracle's registry of Paddle 3.3 fixes fails loudly: a key that is not a PaddleSeg
model type, a fix module that does not import, or a model type misspelt where a fix is
asked for, raises (naming the problem) instead of running PaddleSeg unfixed."""

import contextlib
import sys

import pytest

from .generated_scripts import combinations, resolved_spec
from .oracle import (
    MODEL_FIXES,
    UnknownModelType,
    check_model_type,
    check_registry,
    oracle_fix,
    paddleseg_model_types,
)


def test_the_registry_names_paddleseg_model_types():
    assert set(MODEL_FIXES) == {"DecoupledSegNet", "PointRend", "SFNet", "SegmentationTransformer",
                                "LinearSegmenter", "MaskSegmenter"}
    assert set(MODEL_FIXES) <= paddleseg_model_types()
    assert check_registry(MODEL_FIXES) is MODEL_FIXES


def test_a_misnamed_fix_fails_naming_itself():
    registry = {"SFnet": lambda: contextlib.nullcontext(), "PointRend": MODEL_FIXES["PointRend"]}
    with pytest.raises(UnknownModelType, match=r"MODEL_FIXES key 'SFnet' is not a PaddleSeg "
                                               r"2\.8 model type; did you mean 'SFNet'"):
        check_registry(registry, name="MODEL_FIXES")


def test_asking_for_a_misnamed_model_type_fails():
    with pytest.raises(UnknownModelType, match="'Pointrend' is not .*did you mean 'PointRend'"):
        oracle_fix("Pointrend")
    with pytest.raises(UnknownModelType, match="'NoSuchNet' is not a PaddleSeg 2.8 model type$"):
        check_model_type("NoSuchNet")


def test_a_model_type_without_a_fix_runs_unchanged_and_one_with_a_fix_patches():
    from paddleseg.models.sfnet import AlignedModule

    assert isinstance(oracle_fix("PSPNet"), contextlib.nullcontext)
    original = AlignedModule.flow_warp
    with oracle_fix("SFNet"):
        assert AlignedModule.flow_warp is not original
    assert AlignedModule.flow_warp is original


def test_every_zoo_architecture_is_a_paddleseg_model_type():
    for combination in combinations():
        check_model_type(resolved_spec(combination)["arch"])


@contextlib.contextmanager
def fresh_oracle_import():
    """Import tests.oracle anew (as a process would the first time), then put the
    modules this session already holds back."""
    held = {name: module for name, module in sys.modules.items()
            if name == "tests.oracle" or name.startswith("tests.oracle.")}
    package = sys.modules["tests"]
    attribute = package.__dict__.get("oracle")
    for name in held:
        del sys.modules[name]
    try:
        yield
    finally:
        for name in [n for n in sys.modules if n == "tests.oracle" or n.startswith("tests.oracle.")]:
            del sys.modules[name]
        sys.modules.update(held)
        package.oracle = attribute


def test_an_import_error_in_a_fix_module_propagates(monkeypatch):
    # What a fix module imports from PaddleSeg is missing: importing the oracle fails
    # with that error, instead of leaving SFNet without its fix.
    monkeypatch.setitem(sys.modules, "paddleseg.models.sfnet", None)
    with fresh_oracle_import(), pytest.raises(ImportError, match="paddleseg.models.sfnet"):
        import tests.oracle  # noqa: F401
    assert oracle_fix("SFNet") is not None  # this session's oracle is untouched
