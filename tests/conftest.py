"""Shared helpers: run the segc CLI in-process, and a scratch copy of the zoo; and how
tests/run.sh's parallel workers (pytest-xdist, --dist loadgroup) share the tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from segc.cli import main as segc_main

REPO = Path(__file__).resolve().parent.parent
ZOO = REPO / "zoo_specs"
GENERATED = REPO / "generated"


def pytest_collection_modifyitems(config, items):
    """Keep the tests that share an expensive fixture on one xdist worker, which then
    builds it once: tests of one combination's oracle pair (session-scoped per
    combination), and the tests of a module with a module-scoped fixture (a trained or
    exported model). Other tests go to whichever worker is free."""
    for item in items:
        fixtures = getattr(item, "_fixtureinfo", None)
        definitions = fixtures.name2fixturedefs if fixtures else {}
        if "built_oracle_pair" in item.fixturenames:
            group = f"oracle-{item.callspec.params['combination']}"
        elif any(defs[-1].scope == "module" for defs in definitions.values()):
            group = item.module.__name__
        else:
            continue
        item.add_marker(pytest.mark.xdist_group(group))


@pytest.fixture
def run_segc(capsys, monkeypatch):
    """Run `segc ARGS...` in a given working directory; returns (exit code, stdout, stderr)."""

    def run(*args, cwd: Path):
        monkeypatch.chdir(cwd)
        code = segc_main([str(a) for a in args])
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture
def project(tmp_path) -> Path:
    """A scratch project holding a copy of the zoo specs (and the schema, for modelines)."""
    shutil.copytree(ZOO, tmp_path / "zoo_specs", ignore=shutil.ignore_patterns("__*"))
    shutil.copytree(REPO / "schema", tmp_path / "schema", ignore=shutil.ignore_patterns("__*"))
    return tmp_path


@pytest.fixture(scope="session")
def built_oracle_pair(combination):
    """PaddleSeg's model and segc's for `combination` (a tests.oracle.ModelPair), built
    once for every test that compares them: such tests parametrize `combination` with
    scope="session", so that pytest runs them together, combination by combination,
    and keeps one pair alive at a time."""
    from .generated_scripts import load_script, resolved_spec
    from .oracle import ModelPair

    return ModelPair(resolved_spec(combination), load_script(combination).build_model)


@pytest.fixture
def oracle_pair(built_oracle_pair):
    """The shared pair as built (ModelPair.reset), whatever an earlier test did to it."""
    return built_oracle_pair.reset()


def write_spec(project: Path, name: str, text: str) -> Path:
    path = project / "zoo_specs" / name
    path.write_text(text, encoding="utf-8")
    return path


def tree_bytes(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}
