"""Every class of bad input: one line per problem with file:line:col, exit 2, nothing written."""

import re

import pytest

from segc import catalog

from .conftest import tree_bytes, write_spec

GOOD = """\
_base_: _base_/cityscapes.yaml
name: tiny
title: Tiny
model:
  type: FCN
variants:
  - backbone:
      type: HRNet_W18
"""


def compile_bad(run_segc, project, text, name="bad.yaml"):
    """Compile one spec into a pre-existing output dir; assert it failed cleanly."""
    out = project / "generated"
    (out / "keep").mkdir(parents=True)
    (out / "keep" / "train.py").write_text("# an earlier output\n")
    before = tree_bytes(out)
    spec = write_spec(project, name, text)
    code, _, stderr = run_segc("compile", spec, "--out", out, cwd=project)
    assert code == 2
    assert "Traceback" not in stderr
    assert tree_bytes(out) == before, "a failed compile must not write or delete anything"
    lines = stderr.strip().splitlines()
    assert lines[-1].startswith("segc: ") and "nothing was written" in lines[-1]
    return lines[:-1]


def test_good_spec_compiles(run_segc, project):
    spec = write_spec(project, "tiny.yaml", GOOD)
    code, _, err = run_segc("compile", spec, "--out", project / "generated", cwd=project)
    assert code == 0, err
    assert (project / "generated" / "tiny_hrnet_w18" / "train.py").is_file()


def test_malformed_yaml_reports_line_and_column(run_segc, project):
    lines = compile_bad(run_segc, project, "name: x\nmodel: [1, 2\ntitle: y\n")
    assert len(lines) == 1
    assert re.match(r"zoo_specs/bad\.yaml:\d+:\d+: error: invalid YAML: ", lines[0])


def test_duplicate_key(run_segc, project):
    lines = compile_bad(run_segc, project, GOOD + "name: again\n")
    assert lines == [lines[0]] and "duplicate key" in lines[0]
    assert lines[0].startswith("zoo_specs/bad.yaml:9:")


def test_unknown_key_points_at_the_key_and_suggests(run_segc, project):
    text = GOOD.replace("  type: FCN\n", "  type: FCN\n  align_corner: false\n")
    lines = compile_bad(run_segc, project, text)
    assert len(lines) == 1
    assert lines[0].startswith("zoo_specs/bad.yaml:6:3: error: model.align_corner: unknown key")
    assert "did you mean 'align_corners'?" in lines[0]


def test_wrong_type(run_segc, project):
    text = GOOD + "train:\n  iters: many\n"
    lines = compile_bad(run_segc, project, text)
    expected = "zoo_specs/bad.yaml:10:10: error: train.iters: expected integer, got str 'many'"
    assert lines == [expected]


def test_unknown_backbone_head_and_loss_all_reported_at_once(run_segc, project):
    text = GOOD.replace("type: FCN", "type: FCNN").replace("HRNet_W18", "HRNet_W81")
    text += "loss:\n  - type: CrossEntropy\n"
    lines = compile_bad(run_segc, project, text)
    assert len(lines) == 3
    joined = "\n".join(lines)
    models = ", ".join(sorted(catalog.MODELS))
    assert f"bad.yaml:5:9: error: model.type: 'FCNN' is not one of: {models}" in joined
    assert "bad.yaml:8:13: error: variants[0].backbone.type: 'HRNet_W81' is not one of" in joined
    assert "did you mean 'HRNet_W" in joined
    assert "bad.yaml:10:11: error: loss[0].type: 'CrossEntropy' is not one of" in joined


def test_missing_base(run_segc, project):
    lines = compile_bad(run_segc, project, GOOD.replace("cityscapes.yaml", "nowhere.yaml"))
    assert len(lines) == 1
    assert lines[0].startswith("zoo_specs/bad.yaml:1:9: error: _base_: base spec "
                               "'_base_/nowhere.yaml' not found")


def test_base_loop(run_segc, project):
    write_spec(project, "a.yaml", "_base_: bad.yaml\n")
    lines = compile_bad(run_segc, project, "_base_: a.yaml\n" + GOOD.split("\n", 1)[1])
    assert len(lines) == 1
    assert "_base_ loop: bad.yaml -> a.yaml -> bad.yaml" in lines[0]
    assert lines[0].startswith("zoo_specs/a.yaml:1:9: error: _base_:")


@pytest.mark.parametrize("name", ["3d_net", "My-Net", "class", "x y"])
def test_name_must_be_a_python_identifier(run_segc, project, name):
    lines = compile_bad(run_segc, project, GOOD.replace("name: tiny", f"name: '{name}'"))
    assert len(lines) == 1
    assert lines[0].startswith("zoo_specs/bad.yaml:2:7: error: name: ")
    assert "identifier" in lines[0] or "keyword" in lines[0]


def test_semantic_rules_loss_count_and_backbone_indices(run_segc, project):
    text = GOOD.replace("type: FCN", "type: FCN\n  backbone_indices: [3]")
    text += "loss:\n  - {type: CrossEntropyLoss}\n  - {type: CrossEntropyLoss, coef: 0.4}\n"
    lines = compile_bad(run_segc, project, text)
    joined = "\n".join(lines)
    assert len(lines) == 2
    assert "model.backbone_indices: index 3 is out of range: HRNet_W18 returns 1" in joined
    assert "loss: FCN with these arguments has 1 output(s)" in joined


HOSTILE = "''' + __import__('os').system('echo pwned') + \"\"\" # \\"


@pytest.mark.parametrize("field", ["title", "paper", "description"])
def test_hostile_text_reaches_code_only_as_a_literal(run_segc, project, field):
    import ast
    import json

    text = GOOD.replace("title: Tiny\n", "") + f"{field}: {json.dumps(HOSTILE)}\n"
    if field != "title":
        text += "title: Tiny\n"
    spec = write_spec(project, "hostile.yaml", text)
    out = project / "generated"
    code, _, err = run_segc("compile", spec, "--out", out, cwd=project)
    assert code == 0, err
    for script in (out / "tiny_hrnet_w18").glob("*.py"):
        tree = ast.parse(script.read_text())
        calls = {n.func.id for n in ast.walk(tree)
                 if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
        assert "__import__" not in calls
        if field in ("title", "paper") and script.name == "model.py":
            assert HOSTILE in ast.get_docstring(tree, clean=False)  # inert text, verbatim
        spec_value = next((n.value for n in tree.body
                           if isinstance(n, ast.Assign) and n.targets[0].id == "SPEC"), None)
        if field == "title" and script.name == "train.py":
            assert ast.literal_eval(spec_value)["title"] == f"{HOSTILE} (HRNet_W18)"


@pytest.mark.parametrize("field,value,message", [
    ("title", "x\nimport os", "title: must be a single line of text"),
    ("name", "__import__('os')", "name: \"__import__('os')\" is not a valid identifier"),
    ("dataset.root", "a\nb", "dataset.root: must be a single line of text"),
])
def test_hostile_strings_in_code_bearing_fields_are_rejected(run_segc, project, field, value,
                                                            message):
    import json

    if "." in field:
        section, key = field.split(".")
        text = GOOD + f"{section}:\n  {key}: {json.dumps(value)}\n"
    else:
        text = re.sub(rf"^{field}: .*$", lambda m: f"{field}: {json.dumps(value)}", GOOD,
                      flags=re.MULTILINE)
    lines = compile_bad(run_segc, project, text)
    assert len(lines) == 1 and message in lines[0], lines


def test_class_names_must_name_every_class(run_segc, project):
    text = GOOD + "dataset:\n  num_classes: 3\n  class_names: [road, sky]\n"
    lines = compile_bad(run_segc, project, text)
    assert len(lines) == 1
    assert re.match(r"zoo_specs/bad\.yaml:\d+:\d+: error: dataset\.class_names: 2 class names "
                    r"for 3 classes; give one per class", lines[0]), lines
