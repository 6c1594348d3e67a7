"""Fragments: conventions hold, and a script carries only what its combination uses."""

import ast
import subprocess
import sys

import pytest

from segc.assembler import FragmentError, FragmentLibrary

from .conftest import GENERATED, REPO

FRAGMENTS = REPO / "templates" / "fragments"
# the standard library, paddle, numpy and OpenCV, and the folder's own model.py
ALLOWED_IMPORTS = set(sys.stdlib_module_names) | {"paddle", "numpy", "cv2", "model", "train"}


def test_fragment_library_loads_and_is_lint_clean():
    FragmentLibrary(FRAGMENTS)  # raises on duplicate names, foreign imports, cycles
    ruff = subprocess.run([sys.executable, "-m", "ruff", "check", str(FRAGMENTS)],
                          check=False, capture_output=True, text=True)
    assert ruff.returncode == 0, ruff.stdout


def test_duplicate_top_level_names_are_refused(tmp_path):
    (tmp_path / "a.py").write_text("def helper():\n    return 1\n")
    (tmp_path / "b.py").write_text("def helper():\n    return 2\n")
    with pytest.raises(FragmentError, match="'helper' is also defined in a.py"):
        FragmentLibrary(tmp_path)


def test_foreign_imports_are_refused(tmp_path):
    (tmp_path / "a.py").write_text("import torch\n")
    with pytest.raises(FragmentError, match="may import only the standard library"):
        FragmentLibrary(tmp_path)


def test_only_reachable_units_and_their_imports_are_emitted(tmp_path):
    (tmp_path / "base.py").write_text(
        "import os\nimport json\n\n\n# why: shared\ndef shared():\n    return os.sep\n\n\n"
        "def unused():\n    return json.dumps(1)\n")
    (tmp_path / "top.py").write_text(
        "from .base import shared\n\n\nclass Top:\n    def go(self):\n        return shared()\n")
    text = FragmentLibrary(tmp_path).assemble('"""Doc."""\n\nTop().go()\n', "# banner")
    assert text.startswith('# banner\n"""Doc."""\n\nimport os\n')
    assert "json" not in text and "unused" not in text
    assert "# why: shared\ndef shared" in text
    assert text.index("def shared") < text.index("class Top")
    compile(text, "x.py", "exec")


def _imports(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            yield node.module.split(".")[0]


def test_generated_scripts_are_standalone_lint_clean_and_minimal():
    scripts = sorted(GENERATED.glob("*/*.py"))
    assert len(scripts) >= 12
    for script in scripts:
        assert set(_imports(script)) <= ALLOWED_IMPORTS, script
        assert "segc" not in set(_imports(script))
    ruff = subprocess.run([sys.executable, "-m", "ruff", "check", str(GENERATED)],
                          check=False, capture_output=True, text=True)
    assert ruff.returncode == 0, ruff.stdout[-3000:]
    fmt = subprocess.run([sys.executable, "-m", "ruff", "format", "--check", str(GENERATED)],
                         check=False, capture_output=True, text=True)
    assert fmt.returncode == 0, fmt.stdout[-3000:]
    psp = (GENERATED / "pspnet_resnet50_vd_os8" / "model.py").read_text()
    fcn = (GENERATED / "fcn_hrnet_w18" / "model.py").read_text()
    assert "class PSPNet" in psp and "class ResNet_vd" in psp
    assert "class HRNet" not in psp and "def ResNet101_vd" not in psp
    assert "class ResNet_vd" not in fcn and "class PSPNet" not in fcn
    infer = (GENERATED / "fcn_hrnet_w18" / "infer.py").read_text()
    assert "class HRNet" not in infer and "def build_model" not in infer


def _top_level_names(path):
    tree = ast.parse(path.read_text())
    return {name for node in tree.body for name in
            ([node.name] if isinstance(node, (ast.FunctionDef, ast.ClassDef)) else
             [t.id for t in getattr(node, "targets", []) if isinstance(t, ast.Name)])}


def test_the_model_is_written_once_per_folder():
    """model.py holds the model; train.py and export.py import it and repeat none of it."""
    for folder in sorted(p.parent for p in GENERATED.glob("*/model.py")):
        model = _top_level_names(folder / "model.py")
        assert "build_model" in model and "SPEC" not in model
        for script in ("train.py", "export.py"):
            text = (folder / script).read_text()
            assert "from model import build_model" in text, folder / script
            assert not model & _top_level_names(folder / script), folder / script
        assert "import model" not in (folder / "infer.py").read_text()
        # evaluate.py and predict.py take the model and the recipe from their siblings
        train = _top_level_names(folder / "train.py")
        for script in ("evaluate.py", "predict.py"):
            text = (folder / script).read_text()
            assert "from model import build_model" in text, folder / script
            assert "from train import" in text and "SPEC" in text, folder / script
            assert not (model | train) & _top_level_names(folder / script) - {"main"}, script


def test_fragments_are_formatted_as_the_generated_code_is():
    """What a reader sees in a fragment is what the generated file holds."""
    fmt = subprocess.run([sys.executable, "-m", "ruff", "format", "--check", str(FRAGMENTS)],
                         check=False, capture_output=True, text=True)
    assert fmt.returncode == 0, fmt.stdout[-3000:]


@pytest.mark.parametrize("source,message", [
    ("import numpy as np\n\n\ndef np():\n    return 1\n", "'np' shadows the import of numpy"),
    ("def len(x):\n    return 0\n", "'len' shadows a Python builtin"),
])
def test_a_unit_may_not_shadow_an_import_or_a_builtin(tmp_path, source, message):
    (tmp_path / "a.py").write_text(source)
    with pytest.raises(FragmentError, match=message):
        FragmentLibrary(tmp_path)


def test_a_skeleton_may_not_redefine_a_unit(tmp_path):
    (tmp_path / "layers").mkdir()
    (tmp_path / "layers" / "basic.py").write_text("def helper():\n    return 1\n")
    library = FragmentLibrary(tmp_path)
    with pytest.raises(FragmentError, match="'helper', which shadows the unit of layers/basic"):
        library.assemble("def helper():\n    return 2\n\n\nhelper()\n", "# banner")


def test_fragments_in_folders_import_each_other_relatively(tmp_path):
    (tmp_path / "layers").mkdir()
    (tmp_path / "models").mkdir()
    (tmp_path / "layers" / "basic.py").write_text('"""Basic."""\n\n\ndef block():\n    return 1\n')
    (tmp_path / "models" / "net.py").write_text(
        '"""Net: a paper."""\n\nfrom ..layers.basic import block\n\n\ndef net():\n'
        "    return block()\n")
    text, fragments, names = FragmentLibrary(tmp_path).assemble_with_sources(
        "net()\n", "# banner")
    assert fragments == ["layers/basic", "models/net"] and names == {"block", "net"}
    assert text.index("def block") < text.index("def net")
    assert "# ---- models/net.py" in text and "# Net: a paper." in text  # docstring kept


def test_units_a_sibling_defines_are_imported_not_repeated(tmp_path):
    (tmp_path / "a.py").write_text("def shared():\n    return 1\n\n\ndef user():\n"
                                   "    return shared()\n")
    text, _, names = FragmentLibrary(tmp_path).assemble_with_sources(
        "user()\n", "# banner", [("model", {"shared"})])
    assert "from model import shared" in text and "def shared" not in text
    assert names == {"user"}


def test_a_unit_comes_from_the_first_sibling_that_defines_it(tmp_path):
    (tmp_path / "a.py").write_text("def one():\n    return 1\n\n\ndef two():\n"
                                   "    return 2\n\n\ndef three():\n    return one() + two()\n")
    text, _, names = FragmentLibrary(tmp_path).assemble_with_sources(
        "three()\n", "# banner", [("model", {"one"}), ("train", {"one", "two"})])
    assert "from model import one" in text and "from train import two" in text
    assert "def one" not in text and "def two" not in text and names == {"three"}


def test_generated_python_that_does_not_parse_stops_the_compile():
    """The formatter parses every generated file: a template bug stops there, naming it."""
    from segc.formatter import FormatError, Formatter

    formatter = Formatter()
    formatter.submit({"combo/train.py": "x = 1\n", "combo/model.py": "def broken(:\n"})
    with pytest.raises(FormatError, match="combo/model.py"):
        formatter.results()
