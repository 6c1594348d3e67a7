"""Loading: source positions survive parsing and `_base_` merging."""

from segc.loader import load

from .conftest import write_spec


def test_positions_point_at_values_and_keys(project):
    path = write_spec(project, "x.yaml", "name: x\nmodel:\n  type: PSPNet\n  bin_sizes: [1, 2]\n")
    doc = load(path)
    assert doc.value_pos[("model", "type")].line == 3
    assert doc.value_pos[("model", "type")].col == 9
    assert doc.key_pos[("model", "bin_sizes")].col == 3
    assert doc.value_pos[("model", "bin_sizes", 1)].col == 18


def test_base_merges_mappings_and_replaces_lists(project):
    write_spec(project, "base.yaml", "train:\n  iters: 10\n  batch_size: 4\n"
                                     "val:\n  transforms: [{type: Normalize}]\n")
    path = write_spec(project, "child.yaml", "_base_: base.yaml\ntrain:\n  iters: 20\n"
                                             "val:\n  transforms: []\n")
    doc = load(path)
    assert doc.data["train"] == {"iters": 20, "batch_size": 4}
    assert doc.data["val"]["transforms"] == []
    assert "_base_" not in doc.data
    # the inherited value points into the base file, the override into the child
    assert doc.value_pos[("train", "batch_size")].file.endswith("base.yaml")
    assert doc.value_pos[("train", "iters")].file.endswith("child.yaml")
    assert [p.name for p in doc.sources] == ["child.yaml", "base.yaml"]


def test_a_mapping_of_another_type_replaces_the_base_whole(project):
    write_spec(project, "base.yaml", "optimizer:\n  type: SGD\n  momentum: 0.9\n"
                                     "  weight_decay: 4.0e-5\n")
    same = write_spec(project, "same.yaml", "_base_: base.yaml\noptimizer:\n"
                                            "  weight_decay: 1.0e-4\n")
    assert load(same).data["optimizer"] == {"type": "SGD", "momentum": 0.9,
                                            "weight_decay": 1.0e-4}
    other = write_spec(project, "other.yaml", "_base_: base.yaml\noptimizer:\n"
                                              "  type: Adam\n  weight_decay: 2.0e-4\n")
    doc = load(other)
    assert doc.data["optimizer"] == {"type": "Adam", "weight_decay": 2.0e-4}
    assert ("optimizer", "momentum") not in doc.value_pos


def test_zoo_spec_inherits_cityscapes_base(project):
    doc = load(project / "zoo_specs" / "pspnet.yaml")
    assert doc.data["dataset"]["num_classes"] == 19
    assert doc.data["train"]["transforms"][1]["crop_size"] == [1024, 512]
    assert doc.data["lr_scheduler"]["end_lr"] == 1.0e-5  # the spec's own value wins
