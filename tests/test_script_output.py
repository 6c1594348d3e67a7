"""What the generated scripts print is theirs: Paddle's import-time noise stays out."""

import os
import subprocess
import sys

import pytest

from .conftest import GENERATED


def environment_without_ccache():
    """This environment with no ccache on PATH: Paddle's import then warns "No ccache
    found", whatever this machine has installed."""
    folders = os.environ.get("PATH", "").split(os.pathsep)
    kept = [f for f in folders if not os.path.exists(os.path.join(f, "ccache"))]
    return dict(os.environ, PATH=os.pathsep.join(kept))


@pytest.mark.parametrize("script", ["train.py", "export.py", "infer.py", "evaluate.py",
                                    "predict.py"])
def test_no_paddle_import_warning_in_script_output(script):
    env = environment_without_ccache()
    completed = subprocess.run([sys.executable, str(GENERATED / "fcn_hrnet_w18" / script),
                                "--help"], capture_output=True, text=True, env=env,
                               timeout=120, check=False)
    assert completed.returncode == 0, completed.stderr
    assert completed.stderr == "", completed.stderr
    assert "usage:" in completed.stdout


def test_paddle_itself_warns_without_ccache():
    """The premise of the test above: under this PATH, importing Paddle does warn."""
    env = environment_without_ccache()
    completed = subprocess.run([sys.executable, "-c", "import paddle"], capture_output=True,
                               text=True, env=env, timeout=120, check=False)
    assert "No ccache found" in completed.stderr


def test_training_prints_no_paddle_warnings(tmp_path):
    """A short training run's stderr is empty: Paddle's BatchNorm note on its first
    training forward is left out too."""
    completed = subprocess.run(
        [sys.executable, str(GENERATED / "pp_liteseg_stdc1" / "train.py"), "--data", "demo",
         "--iters", "1", "--batch-size", "2", "--crop-size", "64", "32", "--num-workers", "0",
         "--no-eval", "--save-dir", str(tmp_path / "out")],
        cwd=tmp_path, capture_output=True, text=True, env=environment_without_ccache(),
        timeout=300, check=False)
    assert completed.returncode == 0, completed.stderr
    assert completed.stderr == "", completed.stderr
