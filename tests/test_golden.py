"""Golden tests: small spec folders and what segc must make of them, byte for byte.

See tests/golden/README.md. `SEGC_UPDATE_GOLDEN=1` rewrites the expected files instead
of comparing (review their diff as you would any change).
"""

import os
import shutil
from pathlib import Path

from .conftest import REPO

GOLDEN = Path(__file__).resolve().parent / "golden"
# CI always compares, whatever its environment says
UPDATE = os.environ.get("SEGC_UPDATE_GOLDEN") == "1" and os.environ.get("CI") != "true"


def project_copy(case: str, tmp_path: Path) -> Path:
    project = tmp_path / case
    shutil.copytree(GOLDEN / case / "zoo_specs", project / "zoo_specs")
    shutil.copytree(REPO / "schema", project / "schema")
    return project


def compare_tree(generated: Path, expected: Path, whole: bool):
    """Every expected file equals the generated one; `whole`: and nothing else is there.
    Folders must be the same either way."""
    # the manifest records a fingerprint of the compiler's code, which every change to
    # segc moves; test_compile holds what the manifest says
    made = {p.relative_to(generated).as_posix(): p.read_bytes()
            for p in sorted(generated.rglob("*")) if p.is_file() and p.name != "manifest.json"}
    if UPDATE:
        kept = set(made) if whole else {p.relative_to(expected).as_posix()
                                        for p in expected.rglob("*") if p.is_file()}
        shutil.rmtree(expected, ignore_errors=True)
        for rel in sorted(kept):
            (expected / rel).parent.mkdir(parents=True, exist_ok=True)
            (expected / rel).write_bytes(made[rel])
        return
    wanted = {p.relative_to(expected).as_posix(): p.read_bytes()
              for p in sorted(expected.rglob("*")) if p.is_file()}
    assert wanted, f"no expected files under {expected}"
    folders = {rel.split("/")[0] for rel in made if "/" in rel}
    assert folders == {rel.split("/")[0] for rel in wanted if "/" in rel}
    if whole:
        assert sorted(made) == sorted(wanted)
    for rel, data in wanted.items():
        assert rel in made, f"segc did not write {rel}"
        assert made[rel] == data, f"{rel} differs from {expected / rel}"


def test_a_model_without_backbone_on_a_resize_only_recipe(run_segc, tmp_path):
    project = project_copy("no_backbone", tmp_path)
    code, _, err = run_segc("compile", "--all", cwd=project)
    assert code == 0, err
    assert sorted(p.name for p in (project / "generated").iterdir()) == [
        "manifest.json", "portrait_unet"]
    compare_tree(project / "generated", GOLDEN / "no_backbone" / "expected", whole=True)


def test_named_variants_that_are_not_backbones(run_segc, tmp_path):
    project = project_copy("named_variants", tmp_path)
    code, _, err = run_segc("compile", "--all", cwd=project)
    assert code == 0, err
    compare_tree(project / "generated", GOLDEN / "named_variants" / "expected", whole=False)


def test_every_class_of_spec_error(run_segc, tmp_path):
    project = project_copy("errors", tmp_path)
    code, out, err = run_segc("validate", "--all", cwd=project)
    assert code == 2 and out == ""
    assert "Traceback" not in err
    expected = GOLDEN / "errors" / "expected_stderr.txt"
    if UPDATE:
        expected.write_text(err, encoding="utf-8")
    assert err == expected.read_text(encoding="utf-8")
    # one spec per class of error: each spec is named in the report
    for spec in (project / "zoo_specs").glob("*.yaml"):
        assert f"zoo_specs/{spec.name}" in err, spec.name
