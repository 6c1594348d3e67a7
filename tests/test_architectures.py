"""Every architecture of the zoo trains on the demo data and exports faithfully.

One combination per architecture (its smallest backbone) runs as a user runs it:
train.py for a few iterations (the loss stays finite and falls), export.py, then the
exported model under Paddle Inference against the dynamic model with the trained
weights. Parity with PaddleSeg is test_parity.py's job; this checks the recipe runs.
"""

import json
import math
import re
import subprocess
import sys
from collections import defaultdict

import numpy as np
import paddle
import pytest

from .conftest import GENERATED
from .generated_scripts import combinations, load_script

pytestmark = pytest.mark.slow

ITERS = 10
LOG_LINE = re.compile(r"\[iter (\d+)/\d+\] loss (\S+) ")


def backbone_size(combination: str) -> int:
    """The depth or width in the backbone's name (ResNet18_vd: 18, HRNet_W48: 48)."""
    backbone = load_script(combination).SPEC["backbone"]
    return int(re.search(r"\d+", backbone).group())


def smallest_per_architecture() -> list[str]:
    by_arch = defaultdict(list)
    for combination in combinations():
        by_arch[load_script(combination).SPEC["arch"]].append(combination)
    return sorted(min(names, key=lambda c: (backbone_size(c), c)) for names in by_arch.values())


def run(combination, script, args, cwd):
    completed = subprocess.run([sys.executable, str(GENERATED / combination / script), *args],
                               cwd=cwd, capture_output=True, text=True, timeout=600,
                               check=False)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    return completed.stdout


@pytest.mark.parametrize("combination", smallest_per_architecture())
def test_trains_on_demo_data_and_exports_faithfully(combination, tmp_path):
    log = run(combination, "train.py", [
        "--data", "demo", "--iters", str(ITERS), "--batch-size", "2", "--crop-size", "128",
        "64", "--num-workers", "0", "--seed", "0", "--log-interval", "1", "--no-eval",
        "--save-interval", str(ITERS), "--save-dir", "train"], tmp_path)
    losses = [float(m[2]) for m in LOG_LINE.finditer(log)]
    assert len(losses) == ITERS, log
    assert all(math.isfinite(loss) for loss in losses), losses
    assert np.mean(losses[-3:]) < np.mean(losses[:3]), losses

    weights = tmp_path / "train" / f"iter_{ITERS}" / "model.pdparams"
    run(combination, "export.py", ["--model-path", str(weights), "--output-op", "none",
                                   "--save-dir", "export"], tmp_path)

    infer = load_script(combination, "infer.py")
    deploy = infer.load_deploy_config(str(tmp_path / "export"))
    predictor = infer.create_inference_predictor(deploy["model_file"], deploy["params_file"])
    batch = np.random.default_rng(1).uniform(-1, 1, (1, 3, 64, 128)).astype("float32")
    exported = infer.run_inference_predictor(predictor, batch)

    module = load_script(combination)
    num_classes = json.loads((weights.parent / "meta.json").read_text())["num_classes"]
    model = module.build_model(num_classes)
    model.set_state_dict(paddle.load(str(weights)))
    model.eval()
    with paddle.no_grad():
        dynamic = model(paddle.to_tensor(batch))[0].numpy()
    assert exported.shape == dynamic.shape == (1, num_classes, 64, 128)
    scale = max(1.0, float(np.abs(dynamic).max()))
    assert np.abs(exported - dynamic).max() <= 1e-4 * scale
