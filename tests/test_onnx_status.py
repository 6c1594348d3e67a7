"""Each model card's ONNX status is what export.py --onnx does: a card without a "No
ONNX" paragraph converts (onnxruntime agreeing with Paddle Inference), a card with one
stops with one line and exit 2, leaving no export folder behind.

Covered: the U-Net family and the small nets (issue 9), whose exports take seconds, and
the models whose status changed since: PFPNNet and PointRend (which convert since their
2x upsampling has an explicit size) and GSCNN (which cannot).
"""

import subprocess
import sys

import pytest

from .conftest import GENERATED

pytestmark = pytest.mark.slow

COMBINATIONS = (
    "unet", "u2net", "u2netp", "attention_unet", "unet_plusplus", "unet_3plus", "segnet",
    "enet", "espnetv1", "espnetv2", "pp_humanseg_lite", "portraitnet_mobilenetv2_x1_0",
    "pfpnnet_resnet101_vd_os8", "pointrend_resnet50_vd_os8", "gscnn_resnet50_vd_os8",
)


@pytest.mark.parametrize("combination", COMBINATIONS)
def test_export_onnx_does_what_the_model_card_says(combination, tmp_path):
    card = (GENERATED / combination / "README.md").read_text(encoding="utf-8")
    convertible = "No ONNX:" not in card
    completed = subprocess.run(
        [sys.executable, str(GENERATED / combination / "export.py"), "--save-dir", "export",
         "--onnx"],
        cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False,
    )
    said = completed.stdout.strip().splitlines()[-1:] + [
        line for line in completed.stderr.splitlines() if line.startswith("error: ")]
    print(f"{combination}: exit {completed.returncode}; {' | '.join(said)}")
    if convertible:
        assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr[-2000:]
        assert (tmp_path / "export" / "model.onnx").stat().st_size > 0
        assert "onnx check (onnxruntime vs Paddle Inference): argmax agreement" in completed.stdout
    else:
        assert completed.returncode == 2
        errors = [line for line in completed.stderr.splitlines() if line.startswith("error: ")]
        assert len(errors) == 1 and "paddle2onnx cannot convert this model" in errors[0]
        assert "Traceback" not in completed.stderr
        assert not (tmp_path / "export").exists()
