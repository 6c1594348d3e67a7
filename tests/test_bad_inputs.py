"""A table of bad inputs a user may give the generated scripts: each ends with exit code
2 and one `error:` line naming the problem, never a traceback (issue 13's property).

The scripts run in this process (their `main(argv)`), so the table costs no Paddle
start-up per row; what a row needs on disk is made by its `setup` in a scratch folder.
"""

import json

import pytest

from .generated_scripts import load_script

COMBINATION = "fcn_hrnet_w18"


def _deploy_with_output_op(work):
    """A deploy.yaml whose output_op no exported model has (a hand edit gone wrong)."""
    (work / "model.json").write_text("{}")
    (work / "model.pdiparams").write_bytes(b"")
    (work / "deploy.yaml").write_text(
        "Deploy:\n  model: model.json\n  params: model.pdiparams\n  output_op: argmin\n"
        "  transforms:\n  - type: Normalize\n")
    return ["--config", str(work / "deploy.yaml"), "--image", str(work / "x.png")]


def _save_dir_without_weights(work):
    (work / "run").mkdir()
    return ["--model-path", str(work / "run"), "--save-dir", str(work / "export")]


def _save_dir_with_bad_latest(work):
    (work / "run").mkdir()
    (work / "run" / "latest.json").write_text("[1, 2]")
    return ["--model-path", str(work / "run"), "--save-dir", str(work / "export")]


def _deploy_with_missing_model(work):
    (work / "deploy.yaml").write_text(
        "Deploy:\n  model: model.json\n  params: model.pdiparams\n"
        "  transforms:\n  - type: Normalize\n")
    return ["--config", str(work / "deploy.yaml"), "--image", str(work)]


def _truncated_weights(work):
    (work / "model.pdparams").write_bytes(b"\x80\x04garbage")
    return ["--model-path", str(work / "model.pdparams"), "--save-dir", str(work / "export")]


def _missing_resume(work):
    return ["--data", "demo", "--resume", str(work / "nowhere"), "--save-dir", str(work / "out")]


# (script, a name for the row, argv or a setup(work) -> argv, what the error line says)
BAD_INPUTS = [
    ("train.py", "unknown flag", ["--itres", "5"], "unrecognized arguments: --itres"),
    ("train.py", "iterations not a number", ["--iters", "many"], "invalid int value"),
    ("train.py", "zero batch", ["--batch-size", "0"], "--batch-size must be at least 1"),
    ("train.py", "missing data folder", ["--data", "no/such/folder"],
     "no/such/folder: dataset folder does not exist"),
    ("train.py", "one class", ["--data", "x", "--num-classes", "1"], "--num-classes must be"),
    ("train.py", "ignore value 300", ["--data", "x", "--ignore-index", "300"],
     "--ignore-index must be"),
    ("train.py", "class count on demo data", ["--data", "demo", "--num-classes", "3"],
     "for your own data"),
    ("train.py", "resume from nowhere", _missing_resume, "no intact checkpoint"),
    ("export.py", "missing weights file", ["--model-path", "no/such.pdparams"],
     "no/such.pdparams: model weights not found"),
    ("export.py", "weights not a state dict", _truncated_weights, "cannot be read as a"),
    ("export.py", "two channels", ["--input-shape", "1", "2", "64", "64"], "--input-shape"),
    ("export.py", "zero classes", ["--num-classes", "0"], "--num-classes must be >= 1"),
    ("infer.py", "no deploy.yaml", ["--config", "no/such/deploy.yaml", "--image", "x.png"],
     "no/such/deploy.yaml"),
    ("infer.py", "model files missing", _deploy_with_missing_model, "not found"),
    ("infer.py", "zero threads", ["--config", "x", "--image", "y", "--cpu-threads", "0"],
     "--cpu-threads and --repeats must be >= 1"),
    ("train.py", "zero crop", ["--crop-size", "0", "0"], "--crop-size must be two positive"),
    ("train.py", "negative crop", ["--crop-size", "64", "-2"], "--crop-size must be two"),
    ("train.py", "learning rate nan", ["--learning-rate", "nan"], "--learning-rate must be"),
    ("train.py", "learning rate inf", ["--learning-rate", "inf"], "--learning-rate must be"),
    ("train.py", "negative warm-up", ["--warmup-iters", "-1"], "--warmup-iters must be"),
    ("train.py", "zero evaluation scale", ["--eval-scales", "0"], "--eval-scales must be"),
    ("export.py", "folder without weights", _save_dir_without_weights,
     "a folder with no model.pdparams"),
    ("export.py", "garbage latest.json", _save_dir_with_bad_latest, "not a checkpoint record"),
    ("infer.py", "unknown output_op", _deploy_with_output_op, "output_op 'argmin'"),
]


@pytest.mark.parametrize(("script", "row", "argv", "expected"), BAD_INPUTS,
                         ids=[f"{s}: {row}" for s, row, _, _ in BAD_INPUTS])
def test_bad_input_is_one_line_and_exit_2(script, row, argv, expected, tmp_path, capsys,
                                          monkeypatch):
    monkeypatch.chdir(tmp_path)
    module = load_script(COMBINATION, script)
    if callable(argv):
        argv = argv(tmp_path)
    with pytest.raises(SystemExit) as stopped:
        module.main(argv)
    err = capsys.readouterr().err
    assert stopped.value.code == 2, err
    errors = [line for line in err.splitlines() if "error:" in line]
    assert len(errors) == 1 and "Traceback" not in err, err
    assert expected in errors[0], err


def test_export_finds_the_weights_in_a_save_dir_trained_without_evaluation(tmp_path):
    """train.py --no-eval writes no best_model: export.py --model-path <save dir> then
    takes the checkpoint latest.json names (the README's export example relies on it)."""
    export = load_script(COMBINATION, "export.py")
    (tmp_path / "iter_4").mkdir()
    (tmp_path / "iter_4" / "model.pdparams").write_bytes(b"")
    (tmp_path / "latest.json").write_text(json.dumps({"checkpoint": "iter_4"}))
    assert export.find_model_weights(str(tmp_path)) == str(tmp_path / "iter_4" /
                                                           "model.pdparams")
    (tmp_path / "best_model").mkdir()
    (tmp_path / "best_model" / "model.pdparams").write_bytes(b"")
    assert export.find_model_weights(str(tmp_path)).endswith("best_model/model.pdparams")
    assert export.find_model_weights(str(tmp_path / "iter_4")).endswith("iter_4/model.pdparams")


def test_a_title_with_percent_signs_shows_in_train_help(run_segc, project, capsys):
    text = (project / "zoo_specs" / "unet.yaml").read_text()
    text = text.replace("name: unet", "name: pct").replace("title: U-Net",
                                                          'title: "U-Net %(prog) 50%"')
    (project / "zoo_specs" / "pct.yaml").write_text(text)
    code, _, err = run_segc("compile", "zoo_specs/pct.yaml", cwd=project)
    assert code == 0, err
    train = load_script("pct", root=project / "generated")
    with pytest.raises(SystemExit) as stopped:
        train.main(["--help"])
    assert stopped.value.code == 0
    assert "Train U-Net %(prog) 50% as zoo_specs/pct.yaml" in capsys.readouterr().out
