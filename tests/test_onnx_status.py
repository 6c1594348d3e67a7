"""Each model card's ONNX status is what export.py --onnx does, for every combination:

- "ONNX: yes, at any input size": export.py --onnx converts, onnxruntime agreeing with
  Paddle Inference (export.py's own check), and OpenVINO, reading the same model.onnx at
  f32 precision, agrees with onnxruntime;
- "ONNX: yes, at a fixed input size" (multiples of M): export.py --onnx stops with one line
  and exit 2 without --input-shape, or with a size that is not a multiple (checked in
  process: the same function, before anything is exported), and converts at M x 2M
  (M x M where 2M exceeds 1024: DMNet), as above;
- "ONNX: no": export.py --onnx stops with one line and exit 2 naming why, leaving no
  export folder behind.

export.py runs once per combination (twice for a fixed size, the first stopping before
the export), untrained, at the smallest input it takes: export.py's check size 128x256,
or the smallest fitting fixed size. An architecture's combinations (ResNet-101 beside
ResNet-50, HRNet-W48 beside W18, STDC2 beside STDC1: the same layers, deeper or wider)
must also state the status of its cheapest one. benchmarks/onnx_status.py's record
(benchmarks/results/onnx_status.json, which docs/model_zoo.md shows) is held to every
card here, without exporting anything.
"""

import json
import re
import subprocess
import sys
from collections import defaultdict

import numpy as np
import pytest

from segc.bench.onnx_status import DEFAULT_STATUS, load_status

from .conftest import GENERATED, REPO
from .generated_scripts import combinations, load_script, resolved_spec

# The largest side a fixed-size model is checked at (DMNet's multiple, 840, is checked
# at 840x840).
LARGEST_SIDE = 1024
ONNX_CHECK = re.compile(r"^onnx check \(onnxruntime vs Paddle Inference\): argmax agreement "
                        r"(\S+) on input (\d+)x3x(\d+)x(\d+) \(need >= (\S+)\)$", re.MULTILINE)


def by_architecture():
    """{architecture: its combinations, the one with the fewest GFLOPs first}."""
    measured = json.loads((REPO / "zoo_specs" / "measured.json").read_text())["combinations"]
    groups = defaultdict(list)
    for combination in combinations():
        groups[resolved_spec(combination)["arch"]].append(combination)
    return {arch: sorted(names, key=lambda c: (measured.get(c, {}).get("gflops", 0), c))
            for arch, names in sorted(groups.items())}


EXPORTED = sorted(combinations())
SIBLINGS = sorted((name, names[0]) for names in by_architecture().values()
                  for name in names[1:])


def card_status(combination):
    """What the model card says: ("no", None), ("fixed", multiple) or ("yes", None)."""
    card = (GENERATED / combination / "README.md").read_text(encoding="utf-8")
    if "\nONNX: no. " in card:
        return "no", None
    if "\nONNX: yes, at a fixed input size. " in card:
        return "fixed", int(re.search(r"multiples of (\d+) pixels", card).group(1))
    assert "\nONNX: yes, at any input size. " in card, f"{combination}: no ONNX status line"
    return "yes", None


def export_onnx(combination, folder, *extra):
    completed = subprocess.run(
        [sys.executable, str(GENERATED / combination / "export.py"), "--save-dir", "export",
         "--onnx", *extra],
        cwd=folder, capture_output=True, text=True, timeout=900, check=False,
    )
    said = completed.stdout.strip().splitlines()[-1:] + [
        line for line in completed.stderr.splitlines() if line.startswith("error: ")]
    print(f"{combination} {' '.join(extra)}: exit {completed.returncode}; {' | '.join(said)}")
    return completed


def refusal(completed, folder):
    """The one error line of an export.py that stopped with exit 2 and wrote nothing."""
    assert completed.returncode == 2, completed.stdout[-2000:] + completed.stderr[-2000:]
    errors = [line for line in completed.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "Traceback" not in completed.stderr
    assert not (folder / "export").exists()
    return errors[0]


def openvino_agreement(onnx_file, shape):
    """Share of pixels where OpenVINO (CPU, f32) gives onnxruntime's class, on export.py's
    check input."""
    import onnxruntime
    import openvino

    batch = np.random.default_rng(0).uniform(-1.0, 1.0, shape).astype(np.float32)
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    session = onnxruntime.InferenceSession(str(onnx_file), options,
                                           providers=["CPUExecutionProvider"])
    expected = session.run(None, {session.get_inputs()[0].name: batch})[0]
    core = openvino.Core()
    compiled = core.compile_model(core.read_model(str(onnx_file)), "CPU",
                                  {"INFERENCE_PRECISION_HINT": "f32"})
    actual = compiled(batch)[0]
    assert actual.shape == expected.shape and actual.dtype == expected.dtype
    return float((actual == expected).mean())


def assert_converted(completed, folder):
    """export.py converted and checked the ONNX model; OpenVINO agrees with onnxruntime."""
    assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr[-2000:]
    onnx_file = folder / "export" / "model.onnx"
    assert onnx_file.stat().st_size > 0
    check = ONNX_CHECK.search(completed.stdout)
    assert check, completed.stdout[-2000:]
    agreement, needed = float(check.group(1)), float(check.group(5))
    assert agreement >= needed
    shape = [int(check.group(2)), 3, int(check.group(3)), int(check.group(4))]
    openvino = openvino_agreement(onnx_file, shape)
    print(f"OpenVINO (f32) vs onnxruntime: argmax agreement {openvino:.6f} on input "
          f"{'x'.join(map(str, shape))}")
    assert openvino >= needed


def fitting_width(multiple):
    return 2 * multiple if 2 * multiple <= LARGEST_SIDE else multiple


def assert_sizes_checked(combination, multiple):
    """export.py's check before exporting: no static size, or one that is not a multiple,
    is refused; the smallest fitting one is not."""
    export = load_script(combination, "export.py")
    for shape in ([1, 3, -1, -1], [1, 3, multiple + 8, 2 * multiple]):
        problem = export.onnx_input_problem(export.SPEC, shape)
        assert problem and f"both sides multiples of {multiple}" in problem
    assert export.onnx_input_problem(export.SPEC, [1, 3, multiple, fitting_width(multiple)]) \
        is None


@pytest.mark.slow
@pytest.mark.parametrize("combination", EXPORTED)
def test_export_onnx_does_what_the_model_card_says(combination, tmp_path):
    status, multiple = card_status(combination)
    completed = export_onnx(combination, tmp_path)
    if status == "no":
        assert "paddle2onnx cannot convert this model" in refusal(completed, tmp_path)
    elif status == "fixed":
        assert f"both sides multiples of {multiple}" in refusal(completed, tmp_path)
        assert_sizes_checked(combination, multiple)
        width = fitting_width(multiple)
        fits = tmp_path / "fits"
        fits.mkdir()
        assert_converted(export_onnx(combination, fits, "--input-shape", "1", "3",
                                     str(multiple), str(width)), fits)
    else:
        assert_converted(completed, tmp_path)


@pytest.mark.parametrize(("combination", "exported"), SIBLINGS)
def test_other_combinations_have_their_architectures_status(combination, exported):
    status, multiple = card_status(combination)
    assert status == card_status(exported)[0]
    if status == "fixed":
        assert_sizes_checked(combination, multiple)


def test_recorded_status_is_every_cards():
    """benchmarks/results/onnx_status.json (docs/model_zoo.md's ONNX section) has every
    combination, each with the status its card states and, where it converts, onnxruntime
    and OpenVINO (f32) agreeing."""
    recorded = load_status(REPO / DEFAULT_STATUS)["entries"]
    assert sorted(recorded) == combinations()
    expected = {"no": "unsupported", "fixed": "fixed_input", "yes": "converts"}
    for combination, entry in recorded.items():
        status, multiple = card_status(combination)
        assert entry["status"] == expected[status], combination
        assert entry["multiple"] == multiple, combination
        if status == "no":
            assert entry["reason"].startswith("paddle2onnx cannot convert this model"), entry
            continue
        assert entry["onnxruntime_agreement"] >= 0.999, entry
        assert entry["openvino"]["f32"] >= 0.999, entry
        if status == "fixed":
            assert all(side % multiple == 0 for side in entry["input_shape"][2:]), entry
