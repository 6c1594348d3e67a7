"""MLATransformer on Swin-B (PaddleSeg's contrib AutoNUE recipe): what test_parity does
not cover. Parity at a second input size whose sides are not multiples of the 32x
window grid (padding to whole patches, windows and even merges), the relative-position
tables and their index buffers as PaddleSeg registers them, stochastic depth in
training only, and the IDD folder layout of PaddleSeg's AutoNue dataset.

The model tests share test_parity's session-scoped oracle pair (tests/conftest.py)."""

import numpy as np
import paddle
import pytest

from .conftest import ZOO, write_spec
from .generated_scripts import combinations, load_script
from .oracle import oracle_fix

MLA_COMBINATIONS = [c for c in combinations() if c.startswith("mla_transformer")]
# Not a multiple of 32 on either side: the 1/4 map is 24x40, padded to 28x42 for the
# 7x7 windows; the 1/32 map is 3x5.
SECOND_INPUT_SHAPE = (1, 3, 96, 160)
SWIN_B_HEADS = {0: 4, 1: 8, 2: 16, 3: 32}
WINDOW = 7


def test_the_zoo_has_the_swin_b_combination():
    assert MLA_COMBINATIONS == ["mla_transformer_swin_b"]


def _outputs(pair, x):
    with paddle.no_grad(), oracle_fix(pair.spec["arch"]):
        expected = pair.reference(x)[0].numpy()
    with paddle.no_grad():
        got = pair.ours(x)[0].numpy()
    return expected, got


@pytest.mark.slow
@pytest.mark.parametrize("combination", MLA_COMBINATIONS, scope="session")
def test_outputs_match_paddleseg_at_a_size_off_the_window_grid(combination, oracle_pair):
    oracle_pair.transfer()
    x = paddle.to_tensor(np.random.default_rng(2).normal(size=SECOND_INPUT_SHAPE).astype("float32"))
    expected, got = _outputs(oracle_pair, x)
    assert got.shape == expected.shape == (1, 26, *SECOND_INPUT_SHAPE[2:])
    assert np.abs(expected).max() > 1e-3
    difference = float(np.abs(got - expected).max())
    assert difference <= 1e-4
    print(f"{combination}: outputs at {SECOND_INPUT_SHAPE} max abs diff {difference:.3g}")


@pytest.mark.slow
@pytest.mark.parametrize("combination", MLA_COMBINATIONS, scope="session")
def test_relative_position_tables_and_indices_load_strictly(combination, oracle_pair):
    reference, ours = oracle_pair.reference, oracle_pair.ours
    ref_state, our_state = reference.state_dict(), ours.state_dict()
    tables = sorted(k for k in ref_state if k.endswith("relative_position_bias_table"))
    indices = sorted(k for k in ref_state if k.endswith("relative_position_index"))
    assert len(tables) == len(indices) == 24  # one per block: 2 + 2 + 18 + 2
    for key in tables:
        stage = int(key.split(".")[2])  # backbone.layers.<stage>.blocks.<j>.attn...
        shape = [(2 * WINDOW - 1) ** 2, SWIN_B_HEADS[stage]]
        assert list(ref_state[key].shape) == list(our_state[key].shape) == shape, key
    for key in indices:
        # a buffer (in the state dict, not a parameter), int64, the same lookup as PaddleSeg's
        assert key not in dict(ours.named_parameters())
        assert our_state[key].dtype == ref_state[key].dtype == paddle.int64
        np.testing.assert_array_equal(our_state[key].numpy(), ref_state[key].numpy())
        assert list(our_state[key].shape) == [WINDOW * WINDOW] * 2

    # a table loads into its own block and is used there: change one of PaddleSeg's,
    # transfer, and the outputs move together and still agree
    oracle_pair.transfer()
    x = paddle.to_tensor(np.random.default_rng(3).normal(size=(1, 3, 64, 128)).astype("float32"))
    before, _ = _outputs(oracle_pair, x)
    key = "backbone.layers.1.blocks.1.attn.relative_position_bias_table"  # a shifted block
    table = ref_state[key]
    table.set_value(np.random.default_rng(4).normal(0, 2, table.shape).astype("float32"))
    oracle_pair.transfer()
    np.testing.assert_array_equal(ours.state_dict()[key].numpy(), table.numpy())
    expected, got = _outputs(oracle_pair, x)
    assert np.abs(expected - before).max() > 1e-3
    assert np.abs(got - expected).max() <= 1e-4


@pytest.mark.slow
@pytest.mark.parametrize("combination", MLA_COMBINATIONS, scope="session")
def test_drop_path_runs_in_training_only(combination, oracle_pair):
    ours = oracle_pair.transfer().ours
    rates = [block.drop_path.drop_prob for stage in ours.backbone.layers for block in stage.blocks]
    assert rates == pytest.approx(np.linspace(0, 0.3, 24).tolist())  # PaddleSeg's schedule
    x = paddle.to_tensor(np.random.default_rng(5).normal(size=(2, 3, 32, 64)).astype("float32"))
    # the backbone alone: layer norms only, so only its drop paths make two passes differ
    backbone = ours.backbone
    try:
        backbone.train()
        paddle.seed(1)
        with paddle.no_grad():
            trained = [t.numpy() for t in backbone(x)]
            paddle.seed(2)
            trained_again = [t.numpy() for t in backbone(x)]
        assert np.abs(trained[-1] - trained_again[-1]).max() > 1e-3
    finally:
        backbone.eval()
    with paddle.no_grad():
        paddle.seed(1)
        evaluated = [t.numpy() for t in backbone(x)]
        paddle.seed(2)
        evaluated_again = [t.numpy() for t in backbone(x)]
    for a, b in zip(evaluated, evaluated_again):
        np.testing.assert_array_equal(a, b)
    # and eval equals PaddleSeg's backbone, whose drop paths are then off too
    with paddle.no_grad():
        expected = oracle_pair.reference.backbone(x)
    for a, b in zip(evaluated, expected):
        assert np.abs(a - b.numpy()).max() <= 1e-4


def _write_idd_tree(root, split, names, label_values):
    import cv2

    for folder, stem, ext in names:
        image_dir = root / "leftImg8bit" / split / folder
        label_dir = root / "gtFine" / split / folder
        image_dir.mkdir(parents=True, exist_ok=True)
        label_dir.mkdir(parents=True, exist_ok=True)
        image = np.full((12, 20, 3), 100, np.uint8)
        cv2.imwrite(str(image_dir / f"{stem}_leftImg8bit.{ext}"), image)
        label = np.full((12, 20), label_values[0], np.uint8)
        label[6:] = label_values[1]
        cv2.imwrite(str(label_dir / f"{stem}_gtFine_labellevel3Ids.png"), label)
        # IDD's other label files next to it are not read
        cv2.imwrite(str(label_dir / f"{stem}_gtFine_labelcsIds.png"), label + 100)


def test_autonue_dataset_reads_the_idd_layout(tmp_path):
    train = load_script(MLA_COMBINATIONS[0])
    spec = train.SPEC["dataset"]
    assert (spec["type"], spec["num_classes"], spec["ignore_index"]) == ("AutoNue", 26, 255)
    root = tmp_path / "IDD_Segmentation"
    _write_idd_tree(root, "train", [("201", "frame0099", "png"), ("0", "005506", "jpg")], (25, 0))
    _write_idd_tree(root, "val", [("7", "000123", "png")], (24, 255))

    transforms = train.Compose([train.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
    dataset = train.load_dataset(spec, str(root), "train", transforms)
    assert [tuple(p.split("/")[-2:]) for p, _ in dataset.samples] == [
        ("0", "005506_leftImg8bit.jpg"), ("201", "frame0099_leftImg8bit.png")]
    assert [p.split("/")[-1] for _, p in dataset.samples] == [
        "005506_gtFine_labellevel3Ids.png", "frame0099_gtFine_labellevel3Ids.png"]
    image, label = dataset[0]
    assert image.shape == (3, 12, 20) and label.dtype == np.int64
    assert sorted(np.unique(label).tolist()) == [0, 25]

    val = train.load_dataset(spec, str(root), "val", transforms)
    image, label, _ = val[0]
    assert sorted(np.unique(label).tolist()) == [24, 255]  # 255: ignored

    # an image without its level-3 label is one line naming the file, not a shifted pairing
    (root / "gtFine" / "train" / "0" / "005506_gtFine_labellevel3Ids.png").unlink()
    with pytest.raises(train.SegDataError, match="005506_gtFine_labellevel3Ids.png: label of"):
        train.load_dataset(spec, str(root), "train", transforms)
    with pytest.raises(train.SegDataError, match="no IDD test images"):
        train.load_dataset(spec, str(root), "test", transforms)


@pytest.mark.slow
@pytest.mark.parametrize("combination", MLA_COMBINATIONS, scope="session")
def test_no_learning_rate_multipliers_as_in_paddleseg(combination, oracle_pair):
    """PaddleSeg's Swin and MLA heads set no per-parameter learning rate (unlike its ViT
    models' heads): every parameter trains at the schedule's rate, on both sides, and
    the generated optimizer is the config's SGD with momentum 0.9 and L2 decay 1e-4."""
    for model in (oracle_pair.reference, oracle_pair.ours):
        rates = {p.optimize_attr["learning_rate"] for p in model.parameters()}
        assert rates == {1.0}
    train = load_script(combination)
    optimizer, schedule = train.build_optimizer(oracle_pair.ours, None, 160000)
    assert isinstance(optimizer, paddle.optimizer.Momentum)
    assert optimizer._momentum == 0.9
    # a float weight_decay: Momentum's fused L2 decay over every parameter
    assert optimizer._regularization_method == "l2_decay"
    assert optimizer._regularization_coeff == pytest.approx(1e-4)
    assert schedule.get_lr() == pytest.approx(0.005)


def test_in_channels_other_than_the_backbones_are_a_spec_error(run_segc, project):
    """The head's convs are built for Swin-B's map widths: other in_channels would fail at
    the first forward pass, so segc compile refuses them, pointing at the key."""
    text = (ZOO / "mla_transformer.yaml").read_text(encoding="utf-8")
    wrong = text.replace("in_channels: [128, 256, 512, 1024]", "in_channels: [96, 192, 384, 768]")
    assert wrong != text
    spec = write_spec(project, "mla_transformer.yaml", wrong)
    code, _, err = run_segc("compile", spec, "--out", project / "generated", cwd=project)
    assert code != 0
    lines = [line for line in err.splitlines() if ": error: " in line]
    assert len(lines) == 1, err
    assert "model.in_channels: SwinTransformer_base_patch4_window7_224 returns maps of " \
           "[128, 256, 512, 1024] channels" in lines[0]
