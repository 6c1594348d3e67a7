"""Compiling: deterministic bytes, --check, atomic output, the repo's generated/ is current."""

import json
import os
import re
import shutil
from pathlib import Path

import pytest

from .conftest import GENERATED, REPO, tree_bytes, write_spec


def test_two_compiles_give_identical_bytes(run_segc, project):
    for out in ("gen_a", "gen_b"):
        code, _, err = run_segc("compile", "--all", "--out", out, cwd=project)
        assert code == 0, err
    first, second = tree_bytes(project / "gen_a"), tree_bytes(project / "gen_b")
    assert first == second
    assert "pspnet_resnet101_vd_os8/train.py" in first


def test_output_does_not_depend_on_the_working_directory(run_segc, project):
    code, _, _ = run_segc("compile", "--all", "--out", "generated", cwd=project)
    assert code == 0
    sub = project / "zoo_specs"
    code, _, err = run_segc("compile", "--all", "--zoo", ".", "--out", "../generated",
                            "--check", cwd=sub)
    assert code == 0, err


def test_check_reports_stale_missing_and_extra(run_segc, project):
    run_segc("compile", "--all", cwd=project)
    code, out, _ = run_segc("compile", "--all", "--check", cwd=project)
    assert code == 0 and "up to date" in out

    model = project / "generated" / "fcn_hrnet_w18" / "model.py"
    model.write_text(model.read_text().replace("def build_model", "def build_modle"))
    (project / "generated" / "fcn_hrnet_w48" / "export.py").unlink()
    shutil.copytree(project / "generated" / "fcn_hrnet_w18", project / "generated" / "old_combo")
    code, out, err = run_segc("compile", "--all", "--check", cwd=project)
    assert code == 1
    assert "stale generated/fcn_hrnet_w18/model.py" in out
    assert "-def build_modle" in out and "+def build_model" in out
    assert "missing generated/fcn_hrnet_w48/export.py" in out
    assert "extra generated/old_combo" in out
    assert "out of date" in err

    # the same spec change is seen through the spec, too
    spec = project / "zoo_specs" / "fcn.yaml"
    spec.write_text(spec.read_text().replace("weight_decay: 0.0005", "weight_decay: 0.001"))
    code, out, _ = run_segc("compile", "zoo_specs/fcn.yaml", "--check", cwd=project)
    assert code == 1 and "stale generated/fcn_hrnet_w48/train.py" in out


def test_compile_removes_outputs_no_spec_makes(run_segc, project):
    run_segc("compile", "--all", cwd=project)
    before = json.loads((project / "generated" / "manifest.json").read_text())["outputs"]
    (project / "zoo_specs" / "fcn.yaml").unlink()
    code, _, _ = run_segc("compile", "--all", cwd=project)
    assert code == 0
    assert not (project / "generated" / "fcn_hrnet_w18").exists()
    manifest = json.loads((project / "generated" / "manifest.json").read_text())
    kept = sorted(name for name in before if not name.startswith("fcn_"))
    assert "pspnet_resnet50_vd_os8" in kept and len(kept) == len(before) - 2
    assert sorted(manifest["outputs"]) == kept


def test_one_bad_spec_stops_the_whole_compile(run_segc, project):
    run_segc("compile", "--all", cwd=project)
    before = tree_bytes(project / "generated")
    spec = project / "zoo_specs" / "pspnet.yaml"
    spec.write_text(spec.read_text().replace("coef: 0.4", "coef: -1"))
    (project / "zoo_specs" / "fcn.yaml").write_text(
        (project / "zoo_specs" / "fcn.yaml").read_text().replace("weight_decay: 0.0005",
                                                                 "weight_decay: 0.001"))
    code, _, err = run_segc("compile", "--all", cwd=project)
    assert code == 2 and "pspnet.yaml" in err and "loss[1].coef: must be >= 0" in err
    assert tree_bytes(project / "generated") == before


def test_manifest_records_provenance(run_segc, project):
    run_segc("compile", "--all", cwd=project)
    entry = json.loads((project / "generated" / "manifest.json").read_text())["outputs"][
        "pspnet_resnet50_vd_os8"]
    assert set(entry["specs"]) == {
        "zoo_specs/pspnet.yaml", "zoo_specs/_base_/cityscapes.yaml",
        "zoo_specs/measured.json#pspnet_resnet50_vd_os8"}
    assert set(entry["files"]) == {"model.py", "train.py", "export.py", "infer.py", "evaluate.py",
                                   "predict.py", "README.md"}
    # each file records only what it was made from
    model = entry["files"]["model.py"]["made_from"]
    assert {"templates/model.py.j2", "templates/fragments/models/pspnet.py",
            "templates/fragments/backbones/resnet_vd.py"} <= set(model)
    assert "templates/fragments/backbones/hrnet.py" not in model
    assert "templates/fragments/runtime/training.py" not in model
    train = entry["files"]["train.py"]["made_from"]
    assert "templates/fragments/runtime/training.py" in train
    assert "templates/fragments/models/pspnet.py" not in train
    assert set(entry["files"]["README.md"]["made_from"]) == {"templates/README.md.j2"}


def test_a_new_fragment_restales_no_entry(run_segc, project, tmp_path):
    """Adding a fragment changes no manifest entry: files record only what they use."""
    templates = tmp_path / "templates"
    shutil.copytree(REPO / "templates", templates)
    run_segc("compile", "--all", cwd=project)
    before = (project / "generated" / "manifest.json").read_text()
    (templates / "fragments" / "layers" / "unused.py").write_text(
        "def a_helper_nobody_calls():\n    return 1\n")
    from segc.emitter import write
    from segc.pipeline import render_outputs, resolve_specs, zoo_specs
    from segc.renderer import Renderer

    variants, diagnostics = resolve_specs(zoo_specs(project / "zoo_specs"), project)
    assert not diagnostics
    write(render_outputs(variants, Renderer(templates)), project / "generated", complete=True)
    assert (project / "generated" / "manifest.json").read_text() == before


def test_repository_generated_folder_is_up_to_date(run_segc):
    code, out, err = run_segc("compile", "--all", "--check", cwd=REPO)
    assert code == 0, out + err
    assert GENERATED.is_dir()


def test_list_and_show(run_segc, project):
    code, out, _ = run_segc("list", cwd=project)
    assert code == 0
    table, _, footnote = out.partition("\n\n")
    rows = {line.split()[0]: line.split() for line in table.splitlines()[1:]}
    assert rows["pspnet_resnet101_vd_os8"][-3:] == ["80.48", "686.89", "86.97"]
    # no seed row: segc bench's figures, starred and explained
    assert rows["segmenter_vit_small_linear"][-3:] == ["-", "44.23*", "21.65*"]
    assert footnote.startswith("* measured by segc bench")
    assert rows["fcn_hrnet_w48"][-3:] == ["80.70", "187.50", "65.94"]
    assert sorted(rows) == sorted(p.parent.name for p in GENERATED.glob("*/train.py"))
    code, out, _ = run_segc("show", "zoo_specs/pspnet.yaml", "--variant",
                            "pspnet_resnet50_vd_os8", cwd=project)
    shown = json.loads(out)
    assert shown["components"]["lr_scheduler"]["end_lr"] == 1e-05
    assert shown["components"]["optimizer"]["weight_decay"] == 4e-05  # from the base
    code, _, err = run_segc("show", "zoo_specs/pspnet.yaml", "--variant", "nope", cwd=project)
    assert code == 2 and "no variant named 'nope'" in err


def test_usage_errors_are_one_line(run_segc, project):
    code, _, err = run_segc("compile", cwd=project)
    assert code == 2 and err.strip() == "segc: error: name at least one spec file, or use --all"
    code, _, err = run_segc("compile", "zoo_specs/none.yaml", cwd=project)
    assert code == 2 and "zoo_specs/none.yaml: error: file not found" in err
    write_spec(project, "empty.yaml", "")
    code, _, err = run_segc("validate", "zoo_specs/empty.yaml", cwd=project)
    assert code == 2 and "a spec must be a YAML mapping" in err


def test_model_cards_show_the_measured_figures_and_go_stale_with_them(run_segc, project):
    figures = {"format": "segc-model-figures", "input_shape": [1, 3, 512, 1024],
               "combinations": {"pspnet_resnet101_vd_os8": {
                   "params_m": 86.97, "params_total_m": 86.97, "gflops": 686.89}}}
    measured = project / "zoo_specs" / "measured.json"
    measured.write_text(json.dumps(figures))
    assert run_segc("compile", "--all", cwd=project)[0] == 0
    card = (project / "generated" / "pspnet_resnet101_vd_os8" / "README.md").read_text()
    assert "| this model, measured by `segc bench` (eval mode, paddle.flops) | – | 686.89 | " \
           "86.97 |" in card
    other = (project / "generated" / "pspnet_resnet50_vd_os8" / "README.md").read_text()
    assert "not measured yet" in other

    figures["combinations"]["pspnet_resnet101_vd_os8"]["gflops"] = 686.0
    measured.write_text(json.dumps(figures))
    code, out, _ = run_segc("compile", "--all", "--check", cwd=project)
    assert code == 1
    stale = [line for line in out.splitlines() if line.startswith(("stale", "missing"))]
    assert stale == ["stale generated/pspnet_resnet101_vd_os8/README.md",
                     "stale generated/manifest.json"]

    measured.write_text("{not json")
    code, _, err = run_segc("compile", "--all", cwd=project)
    assert code == 2
    assert err.splitlines()[0].startswith("zoo_specs/measured.json: error: cannot read the "
                                          "measured figures")


def test_a_new_compiler_renders_everything_again(run_segc, project, monkeypatch):
    """Fresh outputs are skipped only while the compiler that made them is the same."""
    run_segc("compile", "--all", cwd=project)
    code, out, _ = run_segc("compile", "--all", "--check", cwd=project)
    assert code == 0
    import segc.emitter
    import segc.freshness

    monkeypatch.setattr(segc.freshness, "toolchain_fingerprint", lambda: "another compiler")
    monkeypatch.setattr(segc.emitter, "toolchain_fingerprint", lambda: "another compiler")
    code, out, _ = run_segc("compile", "--all", "--check", cwd=project)
    assert code == 1 and out.strip() == "stale generated/manifest.json"


def test_fresh_and_full_compiles_agree(run_segc, project):
    run_segc("compile", "--all", cwd=project)
    before = tree_bytes(project / "generated")
    code, out, _ = run_segc("compile", "--all", "--full", cwd=project)
    assert code == 0 and "(0 file(s) changed)" in out
    assert tree_bytes(project / "generated") == before


def test_a_recipe_without_a_crop_compiles(run_segc, project):
    """Only one size for batching is required, not a crop: Padding gives one too, and the
    model card then names no training input size."""
    text = (project / "zoo_specs" / "unet.yaml").read_text().replace(
        "train:\n", "train:\n  transforms:\n    - type: Padding\n      target_size: [2048, 1024]\n"
        "    - type: Normalize\n")
    write_spec(project, "padded_unet.yaml", text.replace("name: unet", "name: padded_unet"))
    code, _, err = run_segc("compile", "zoo_specs/padded_unet.yaml", cwd=project)
    assert code == 0, err
    card = (project / "generated" / "padded_unet" / "README.md").read_text()
    assert "Padding → Normalize" in card and "training input" not in card


def test_evaluation_scales_reach_train_py_and_the_model_card(run_segc, project):
    """`val.scales` (PaddleSeg's aug_eval scales, e.g. PP-LiteSeg's 0.5) is train.py's
    --eval-scales default and a model-card row; a scale of 0 is a spec error."""
    text = (project / "zoo_specs" / "unet.yaml").read_text().replace("name: unet",
                                                                     "name: half_unet")
    text += "\nval:\n  scales: [0.5]\n  transforms:\n    - type: Normalize\n"
    write_spec(project, "half_unet.yaml", text)
    code, _, err = run_segc("compile", "zoo_specs/half_unet.yaml", cwd=project)
    assert code == 0, err
    folder = project / "generated" / "half_unet"
    assert '"val": {"scales": [0.5], "slide": None}' in (folder / "train.py").read_text()
    assert "| evaluation scales | 0.5 " in (folder / "README.md").read_text()
    plain = (project / "generated" / "unet" / "README.md")
    code, _, err = run_segc("compile", "zoo_specs/unet.yaml", cwd=project)
    assert code == 0 and "evaluation scales" not in plain.read_text()

    write_spec(project, "half_unet.yaml", text.replace("scales: [0.5]", "scales: [0]"))
    code, _, err = run_segc("compile", "zoo_specs/half_unet.yaml", cwd=project)
    assert code == 2 and "half_unet.yaml:" in err and "scales" in err, err


def test_two_specs_making_one_folder_is_an_error_naming_both(run_segc, project):
    write_spec(project, "unet_again.yaml",
               (project / "zoo_specs" / "unet.yaml").read_text())  # same name: unet
    code, out, err = run_segc("compile", "--all", cwd=project)
    assert code == 2, out + err
    assert "unet_again.yaml:" in err and "zoo_specs/unet.yaml" in err, err
    assert "output folder 'unet'" in err
    assert not (project / "generated").exists()  # nothing written


def test_generated_files_honour_the_umask(run_segc, project):
    import os
    import stat

    old = os.umask(0o022)
    try:
        code, _, err = run_segc("compile", "zoo_specs/unet.yaml", cwd=project)
    finally:
        os.umask(old)
    assert code == 0, err
    files = [p for p in (project / "generated").rglob("*") if p.is_file()]
    assert files and {stat.S_IMODE(p.stat().st_mode) for p in files} == {0o644}


def test_a_closed_pipe_ends_segc_quietly():
    """`segc show ... | head`: the reader goes away after one line; segc stops with
    SIGPIPE's status and says nothing (it printed "Broken pipe" as an error before)."""
    import subprocess
    import sys

    specs = sorted(str(p) for p in (REPO / "zoo_specs").glob("*.yaml"))
    process = subprocess.Popen([sys.executable, "-m", "segc.cli", "show", *specs],
                               cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdout.readline()  # the output is larger than the pipe buffer: segc blocks
    process.stdout.close()
    err = process.stderr.read().decode()
    assert process.wait(timeout=60) == 141, err
    assert err == ""


def test_spec_text_cannot_restructure_the_model_card(run_segc, project):
    text = (project / "zoo_specs" / "unet.yaml").read_text().replace("name: unet", "name: md")
    text = re.sub(r"(?ms)^description: >-\n.*?\n\n", "description: |-\n  # not a heading\n"
                  "  - not a list\n  1. not a list either\n  ```\n  not code\n  ---\n\n", text)
    write_spec(project, "md.yaml", text)
    code, _, err = run_segc("compile", "zoo_specs/md.yaml", cwd=project)
    assert code == 0, err
    card = (project / "generated" / "md" / "README.md").read_text()
    for line in ("\\# not a heading", "\\- not a list", "1\\. not a list either", "\\```",
                 "\\---"):
        assert f"\n{line}\n" in card, card


def test_a_killed_compile_is_finished_by_the_next_and_reported_by_check(run_segc, project,
                                                                        monkeypatch):
    """Killed while moving its files into place (after its journal), a compile leaves old
    and new files side by side: --check says so, and the next compile completes the
    change, giving the tree a clean compile gives."""
    from segc import emitter

    assert run_segc("compile", "--all", cwd=project)[0] == 0
    spec = project / "zoo_specs" / "unet.yaml"
    spec.write_text(spec.read_text().replace("batch_size: 4", "batch_size: 3"))
    real_replace, moves = os.replace, []

    def killed_after_two_moves(source, target):
        if str(source).endswith(emitter.STAGED):
            if len(moves) == 2:
                raise KeyboardInterrupt
            moves.append(target)
        real_replace(source, target)

    monkeypatch.setattr(emitter.os, "replace", killed_after_two_moves)
    with pytest.raises(KeyboardInterrupt):
        run_segc("compile", "--all", cwd=project)
    monkeypatch.setattr(emitter.os, "replace", real_replace)
    assert (project / "generated" / emitter.JOURNAL).is_file() and len(moves) == 2

    code, out, _ = run_segc("compile", "--all", "--check", cwd=project)
    assert code == 1 and f"interrupted {Path('generated') / emitter.JOURNAL}" in out, out
    assert "mixed generated/unet/" in out  # the two files already moved

    code, _, err = run_segc("compile", "--all", cwd=project)
    assert code == 0 and "finished a compile of generated that was interrupted" in err
    finished = tree_bytes(project / "generated")
    shutil.rmtree(project / "generated")
    assert run_segc("compile", "--all", cwd=project)[0] == 0
    assert tree_bytes(project / "generated") == finished


def test_files_staged_by_a_compile_killed_before_its_journal_are_dropped(run_segc, project):
    assert run_segc("compile", "zoo_specs/unet.yaml", cwd=project)[0] == 0
    before = tree_bytes(project / "generated")
    staged = project / "generated" / "unet" / "train.py.segc-new"
    staged.write_text("half a new train.py")
    code, out, _ = run_segc("compile", "zoo_specs/unet.yaml", "--check", cwd=project)
    assert code == 1 and f"interrupted {Path('generated') / 'unet' / 'train.py.segc-new'}" in out
    assert run_segc("compile", "zoo_specs/unet.yaml", cwd=project)[0] == 0
    assert tree_bytes(project / "generated") == before
