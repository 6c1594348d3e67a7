"""The built wheel carries the schema, templates and zoo: segc works outside the repository."""

import json
import os
import subprocess
import sys
import zipfile

import pytest

from .conftest import REPO

pytestmark = pytest.mark.slow


def test_wheel_works_outside_the_repository(tmp_path):
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps",
                    "-q", "-w", str(wheels), str(REPO)], check=True, capture_output=True)
    wheel = next(wheels.glob("segc-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for needed in ("segc/schema/segspec.schema.json", "segc/templates/train.py.j2",
                   "segc/templates/evaluate.py.j2", "segc/templates/predict.py.j2",
                   "segc/templates/fragments/layers/basic.py", "segc/zoo_specs/pspnet.yaml",
                   "segc/zoo_specs/_base_/cityscapes.yaml"):
        assert needed in names

    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target",
                    str(site), str(wheel)], check=True, capture_output=True)
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = dict(os.environ, PYTHONPATH=str(site))

    def segc(*args):
        return subprocess.run([sys.executable, "-m", "segc", *args], cwd=work, env=env,
                              check=False, capture_output=True, text=True)

    where = subprocess.run([sys.executable, "-c", "import segc; print(segc.__file__)"],
                           cwd=work, env=env, check=False, capture_output=True, text=True)
    assert where.stdout.startswith(str(site))
    result = segc("compile", "--all", "--out", "gen")
    assert result.returncode == 0, result.stderr
    assert (work / "gen" / "pspnet_resnet101_vd_os8" / "train.py").is_file()
    assert segc("compile", "--all", "--out", "gen", "--check").returncode == 0
    schema = json.loads(segc("schema").stdout)
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    # the bundled output equals the repository's generated/ except for nothing at all
    ours = (REPO / "generated" / "fcn_hrnet_w18" / "train.py").read_text()
    assert (work / "gen" / "fcn_hrnet_w18" / "train.py").read_text() == ours
