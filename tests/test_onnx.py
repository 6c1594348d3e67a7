"""ONNX round trip on the smallest combination: export.py --onnx converts with paddle2onnx
and checks onnxruntime against Paddle Inference; infer.py --onnx segments with it.
(tests/test_engines.py covers --engines / --engine with OpenVINO too.)"""

import os
import subprocess
import sys

import cv2
import numpy as np
import pytest

from .conftest import GENERATED
from .generated_scripts import load_script

pytestmark = pytest.mark.slow

COMBINATION = "fcn_hrnet_w18"
SCRIPTS = GENERATED / COMBINATION


def run_script(name, args, cwd, env=None):
    completed = subprocess.run([sys.executable, str(SCRIPTS / name), *args], cwd=cwd,
                               capture_output=True, text=True, timeout=600, check=False,
                               env=env)
    return completed.returncode, completed.stdout, completed.stderr


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """Logits (output op none), so the comparison sees every value, not only class ids."""
    work = tmp_path_factory.mktemp("onnx")
    code, out, err = run_script("export.py", ["--save-dir", "export", "--output-op", "none",
                                              "--onnx"], work)
    assert code == 0, out[-3000:] + err[-3000:]
    return work, out


def test_export_writes_and_checks_the_onnx_model(exported):
    work, out = exported
    assert (work / "export" / "model.onnx").stat().st_size > 1_000_000
    assert "onnx check (onnxruntime vs Paddle Inference): max abs difference" in out
    assert "model.onnx" in out.splitlines()[-1]  # moved into place with the rest


def test_onnxruntime_matches_paddle_inference(exported):
    work, _ = exported
    infer = load_script(COMBINATION, "infer.py")
    config = infer.load_deploy_config(str(work / "export"))
    batch = np.random.default_rng(7).uniform(-1, 1, (1, 3, 96, 160)).astype(np.float32)
    paddle_output = infer.run_inference_predictor(
        infer.create_inference_predictor(config["model_file"], config["params_file"]), batch)
    session = infer.create_onnx_session(str(work / "export" / "model.onnx"), cpu_threads=1)
    onnx_output = infer.run_onnx_session(session, batch)
    assert onnx_output.shape == paddle_output.shape == (1, 19, 96, 160)
    scale = max(1.0, float(np.abs(paddle_output).max()))
    assert np.abs(onnx_output - paddle_output).max() <= 1e-4 * scale
    assert (onnx_output.argmax(1) == paddle_output.argmax(1)).mean() >= 0.999


def test_infer_runs_the_onnx_file_like_the_paddle_model(exported):
    work, _ = exported
    image = np.random.default_rng(3).integers(0, 256, (80, 144, 3), dtype=np.uint8)
    cv2.imwrite(str(work / "street.png"), cv2.GaussianBlur(image, (9, 9), 0))
    masks = {}
    # --onnx: the short form of --engine onnxruntime, kept for scripts that use it
    for name, extra in (("paddle", ["--engine", "paddle"]), ("onnx", ["--onnx"])):
        code, out, err = run_script("infer.py", ["--config", "export", "--image", "street.png",
                                                 "--save-dir", name, *extra], work)
        assert code == 0, out + err
        masks[name] = cv2.imread(str(work / name / "street.png"), cv2.IMREAD_UNCHANGED)
    assert masks["onnx"].shape == (80, 144)
    assert (masks["onnx"] == masks["paddle"]).mean() >= 0.999


def test_missing_onnxruntime_is_one_line(exported, tmp_path):
    work, _ = exported
    # a module named onnxruntime that fails to import, found first on the path
    (tmp_path / "onnxruntime.py").write_text("raise ImportError('not installed')\n")
    cv2.imwrite(str(tmp_path / "grey.png"), np.full((32, 48, 3), 128, np.uint8))
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    code, out, err = run_script("infer.py", ["--config", str(work / "export"), "--image",
                                             "grey.png", "--save-dir", "x", "--onnx"],
                                tmp_path, env=env)
    assert code == 2, out + err
    assert err.strip().splitlines()[-1] == (
        "error: --onnx needs the 'onnxruntime' package: pip install onnxruntime")
