"""The engines of infer.py --engine and export.py --engines, each real (Paddle Inference,
onnxruntime, OpenVINO) on one small model exported once for the module: export.py checks
every engine at the export size and an odd one, infer.py gives the same masks on each,
--engine auto measures once and records its choice; missing packages, missing model
files, a disagreeing ONNX model and the GPU-only flags each stop with one line."""

import json
import os
import shutil
import subprocess
import sys

import cv2
import pytest

from .conftest import GENERATED
from .generated_scripts import load_script

pytestmark = pytest.mark.slow

COMBINATION = "pp_humanseg_lite"  # a small net that converts with a dynamic input size
SCRIPTS = GENERATED / COMBINATION
ENGINES = ("paddle", "onnxruntime", "openvino")


def run_script(name, args, cwd, env=None):
    completed = subprocess.run(
        [sys.executable, str(SCRIPTS / name), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env=env,
    )
    return completed.returncode, completed.stdout, completed.stderr


def run_infer_here(args, cwd, capsys, monkeypatch):
    """infer.py's main in this process (paddle is imported already): for the runs that
    stop before any model runs. (exit code, stdout, stderr)."""
    infer = load_script(COMBINATION, "infer.py")
    monkeypatch.chdir(cwd)
    capsys.readouterr()
    with pytest.raises(SystemExit) as stop:
        infer.infer_main(infer.SPEC, argv=[str(a) for a in args])
    out, err = capsys.readouterr()
    return stop.value.code, out, err


def error_lines(err):
    lines = [line for line in err.splitlines() if line.startswith("error: ")]
    assert "Traceback" not in err, err
    return lines


def shim(folder, module, source="raise ImportError('not installed')\n"):
    """A module found before the installed one (PYTHONPATH): by default one that fails
    to import, as a package that is not installed does."""
    folder.mkdir(exist_ok=True)
    (folder / f"{module}.py").write_text(source)
    return {**os.environ, "PYTHONPATH": str(folder)}


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """Logits (output op none), so that the checks compare every value; and demo images."""
    work = tmp_path_factory.mktemp("engines")
    code, out, err = run_script(
        "export.py",
        ["--save-dir", "export", "--output-op", "none", "--engines", "paddle,onnxruntime,openvino"],
        work,
    )
    assert code == 0, out[-3000:] + err[-3000:]
    load_script(COMBINATION).make_demo_data(str(work / "demo_data"))
    images = work / "images"
    images.mkdir()
    for name in ("image_000.png", "image_001.png"):
        shutil.copy(work / "demo_data" / "images" / name, images / name)
    return work, out


def copy_export(work, target, without=()):
    shutil.copytree(
        work / "export", target, ignore=shutil.ignore_patterns("engines.json", *without)
    )
    return target


def test_export_checks_every_engine_at_the_export_size_and_an_odd_one(exported):
    work, out = exported
    assert (work / "export" / "model.onnx").stat().st_size > 0
    for check in (
        "export check (Paddle Inference vs dynamic model)",
        "onnx check (onnxruntime vs Paddle Inference)",
        "onnx check (openvino vs Paddle Inference)",
    ):
        for size in ("1x3x128x256", "1x3x115x263"):
            line = next(
                (
                    line
                    for line in out.splitlines()
                    if line.startswith(check) and f"on input {size}" in line
                ),
                None,
            )
            assert line is not None, f"{check} at {size} missing:\n{out}"
            assert "max abs difference" in line and "argmax agreement" in line


def test_every_engine_gives_the_masks_paddle_inference_gives(exported):
    work, _ = exported
    masks = {}
    for engine in ENGINES:
        code, out, err = run_script(
            "infer.py",
            [
                "--config",
                "export",
                "--image",
                "images",
                "--save-dir",
                f"masks_{engine}",
                "--engine",
                engine,
                "--benchmark",
                "--warmup",
                "1",
                "--repeats",
                "1",
                "--cpu-threads",
                "1",
            ],
            work,
        )
        assert code == 0, out + err
        title = {
            "paddle": "Paddle Inference",
            "onnxruntime": "onnxruntime",
            "openvino": "OpenVINO",
        }[engine]
        assert f"on {title}, cpu, 1 threads" in out
        masks[engine] = [
            cv2.imread(str(work / f"masks_{engine}" / name), cv2.IMREAD_UNCHANGED)
            for name in ("image_000.png", "image_001.png")
        ]
    for engine in ("onnxruntime", "openvino"):
        for mask, expected in zip(masks[engine], masks["paddle"]):
            assert mask.shape == expected.shape
            assert (mask == expected).mean() >= 0.999


def test_auto_measures_once_records_and_measures_again_when_a_model_changes(exported):
    work, _ = exported
    folder = copy_export(work, work / "auto")
    args = [
        "--config",
        "auto",
        "--image",
        "images/image_000.png",
        "--save-dir",
        "masks_auto",
        "--cpu-threads",
        "1",
    ]  # --engine auto is the default
    code, out, err = run_script("infer.py", args, work)
    assert code == 0, out + err
    record = json.loads((folder / "engines.json").read_text())
    entry = record["cpu, 1 threads"]
    assert sorted(entry["ms"]) == sorted(ENGINES)
    assert entry["engine"] == min(entry["ms"], key=entry["ms"].get)
    assert entry["input"] == [1, 3, 224, 398]  # deploy.yaml's Resize
    assert f"engine auto: {entry['engine']} (measured on 1x3x224x398" in out

    code, out, err = run_script("infer.py", args, work)
    assert code == 0, out + err
    assert f"engine auto: {entry['engine']} (measured fastest before" in out
    assert "measured on" not in out

    os.utime(folder / "model.onnx")  # a new model file: its timings no longer hold
    code, out, err = run_script("infer.py", args, work)
    assert code == 0, out + err
    assert "measured on 1x3x224x398" in out


def test_auto_picks_among_the_installed_engines_and_paddle_alone_needs_no_measuring(
    exported, tmp_path
):
    work, _ = exported
    env = shim(tmp_path / "shim", "openvino")
    folder = copy_export(work, tmp_path / "auto")
    code, out, err = run_script(
        "infer.py",
        [
            "--config",
            str(folder),
            "--image",
            str(work / "images"),
            "--save-dir",
            "masks",
            "--cpu-threads",
            "1",
        ],
        tmp_path,
        env=env,
    )
    assert code == 0, out + err
    entry = json.loads((folder / "engines.json").read_text())["cpu, 1 threads"]
    assert sorted(entry["ms"]) == ["onnxruntime", "paddle"]

    paddle_only = copy_export(work, tmp_path / "paddle_only", without=("model.onnx",))
    code, out, err = run_script(
        "infer.py",
        [
            "--config",
            str(paddle_only),
            "--image",
            str(work / "images"),
            "--save-dir",
            "masks2",
            "--benchmark",
            "--repeats",
            "1",
        ],
        tmp_path,
    )
    assert code == 0, out + err
    assert "engine auto" not in out and "on Paddle Inference, cpu" in out
    assert not (paddle_only / "engines.json").exists()


def test_a_missing_engine_package_is_one_line_naming_it(exported, tmp_path):
    work, _ = exported
    env = shim(tmp_path / "shim", "openvino")
    code, out, err = run_script(
        "infer.py",
        [
            "--config",
            str(work / "export"),
            "--image",
            str(work / "images"),
            "--save-dir",
            "x",
            "--engine",
            "openvino",
        ],
        tmp_path,
        env=env,
    )
    assert code == 2, out + err
    assert error_lines(err) == [
        "error: --engine openvino needs the 'openvino' package: pip install openvino"
    ]
    assert not (tmp_path / "x").exists()


def test_a_missing_onnx_file_names_the_export_flag_that_writes_it(exported, tmp_path, capsys,
                                                                   monkeypatch):
    work, _ = exported
    folder = copy_export(work, tmp_path / "paddle_only", without=("model.onnx",))
    for engine in ("onnxruntime", "openvino"):
        code, out, err = run_infer_here(["--config", folder, "--image", work / "images",
                                         "--save-dir", "x", "--engine", engine],
                                        tmp_path, capsys, monkeypatch)
        assert code == 2, out + err
        [line] = error_lines(err)
        assert line.startswith(f"error: {folder / 'model.onnx'}: ONNX model not found")
        assert f"export.py --engines {engine} writes it" in line
    # a named ONNX file (e.g. a quantized one) is run instead of model.onnx
    code, out, err = run_script(
        "infer.py",
        [
            "--config",
            str(folder),
            "--image",
            str(work / "images" / "image_000.png"),
            "--save-dir",
            "named",
            "--engine",
            "openvino",
            "--onnx-file",
            str(work / "export" / "model.onnx"),
        ],
        tmp_path,
    )
    assert code == 0, out + err
    assert (tmp_path / "named" / "image_000.png").is_file()


def test_an_onnx_model_that_disagrees_fails_the_export_and_writes_nothing(exported, tmp_path):
    """A real but different model: the module's ONNX file (other random weights) put in
    place of the conversion by a paddle2onnx that copies it; openvino missing besides,
    which the check names as skipped."""
    work, _ = exported
    converter = (
        "import shutil\n"
        "def export(model_file, params_file, onnx_file, **options):\n"
        f"    shutil.copy({str(work / 'export' / 'model.onnx')!r}, onnx_file)\n"
    )
    env = shim(tmp_path / "shim", "paddle2onnx", converter)
    shim(tmp_path / "shim", "openvino")
    code, out, err = run_script(
        "export.py",
        ["--save-dir", "export", "--output-op", "none", "--engines", "onnxruntime,openvino"],
        tmp_path,
        env=env,
    )
    assert code == 1, out + err
    assert (
        "onnx check (openvino): skipped, 'openvino' is not installed (pip install openvino)" in out
    )
    [line] = error_lines(err)
    assert line.startswith(
        "error: the ONNX model does not match Paddle Inference on onnxruntime: max abs difference"
    )
    assert not (tmp_path / "export").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["shim"]  # no work folder left either


def test_gpu_only_flags_stop_with_one_line_on_cpu(exported, tmp_path, capsys, monkeypatch):
    work, _ = exported
    for flags, expected in (
        (["--precision", "fp16"], "error: --precision fp16 needs a GPU"),
        (["--use-trt"], "error: --use-trt needs a GPU"),
    ):
        code, out, err = run_infer_here(["--config", work / "export", "--image",
                                         work / "images", "--save-dir", "x", *flags],
                                        tmp_path, capsys, monkeypatch)
        assert code == 2, out + err
        [line] = error_lines(err)
        assert line.startswith(expected), line
    export = load_script(COMBINATION, "export.py")
    with pytest.raises(SystemExit) as stop:
        export.export_main(export.SPEC, export.build_model,
                           argv=["--save-dir", "fp16", "--precision", "fp16"])
    assert stop.value.code == 2
    [line] = error_lines(capsys.readouterr().err)
    assert line.startswith("error: --precision fp16 needs a GPU"), line
    assert sorted(p.name for p in tmp_path.iterdir()) == []
