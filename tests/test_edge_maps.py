"""Edge maps for the losses that train on them: PaddleSeg's definition, computed by the
training data after the transforms, and only in the combinations that need them."""

import cv2
import numpy as np
import paddle
import pytest
from paddleseg.transforms.functional import mask_to_binary_edge  # the oracle

from segc import catalog
from segc.loader import load
from segc.resolver import resolve
from segc.templates.fragments.data.datasets import SegDataset
from segc.templates.fragments.data.edge_maps import binary_edge_map
from segc.templates.fragments.data.transforms import (
    Compose,
    Normalize,
    RandomHorizontalFlip,
    RandomPaddingCrop,
)
from segc.templates.fragments.runtime import training

from .conftest import REPO, ZOO, write_spec
from .generated_scripts import combinations, load_script, resolved_spec


def random_label(rng, height, width, num_classes, ignore_index=255):
    """Blocky regions of random classes (some classes absent), ignored specks and, in
    some labels, an ignored band (like RandomPaddingCrop's padding)."""
    cells = rng.integers(0, num_classes, (max(1, height // 7), max(1, width // 5)))
    label = cv2.resize(cells.astype(np.uint8), (width, height),
                       interpolation=cv2.INTER_NEAREST).astype(np.int64)
    label[rng.random(label.shape) < 0.05] = ignore_index
    if rng.random() < 0.5:
        label[:, : width // 4] = ignore_index
    return label


@pytest.mark.parametrize("radius", [1, 2, 3])
def test_edge_map_is_paddleseg_mask_to_binary_edge_on_the_pixels_that_count(radius):
    rng = np.random.default_rng(radius)
    for _ in range(25):
        height, width = (int(v) for v in rng.integers(3, 70, 2))
        num_classes = int(rng.integers(2, 8))
        label = random_label(rng, height, width, num_classes)
        expected = mask_to_binary_edge(label, radius=radius, num_classes=num_classes)[0]
        edge = binary_edge_map(label, num_classes, 255, radius=radius)
        assert edge.dtype == np.int64 and edge.shape == label.shape
        counted = label != 255
        assert np.array_equal(edge[counted], expected[counted])
        assert (edge[~counted] == 255).all()  # ignored pixels stay ignored


def test_edge_map_marks_boundaries_and_the_image_border_within_the_radius():
    label = np.zeros((20, 30), np.int64)
    label[:, 15:] = 1
    edge = binary_edge_map(label, 2, 255)
    # columns 13-16 are within 2 pixels of the other class; rows/columns 0-1 and the last
    # two are within 2 pixels of the image border (PaddleSeg's padding counts as no class)
    interior = np.zeros_like(edge)
    interior[2:-2, 2:13] = interior[2:-2, 17:-2] = 1
    assert np.array_equal(edge, 1 - interior)


def write_sample(root, rng, size=(48, 40)):
    width, height = size
    image = rng.integers(0, 255, (height, width, 3), dtype=np.uint8)
    label = random_label(rng, height, width, 4).astype(np.uint8)
    cv2.imwrite(str(root / "image.png"), image)
    cv2.imwrite(str(root / "label.png"), label)
    return [(root / "image.png", root / "label.png")]


def test_training_samples_carry_the_edge_map_of_their_transformed_label(tmp_path):
    samples = write_sample(tmp_path, np.random.default_rng(0))
    # padding to 64x64 adds ignored pixels; the edge map must be computed after it
    transforms = Compose([RandomPaddingCrop(crop_size=(64, 64)), RandomHorizontalFlip(),
                          Normalize()])
    plain = SegDataset(samples, transforms, 4, 255, seed=3)
    with_edges = SegDataset(samples, transforms, 4, 255, seed=3,
                            target_maps={"edge": binary_edge_map})
    for key in range(4):
        image, label = plain[key]
        image_e, label_e, edge = with_edges[key]
        assert np.array_equal(image, image_e) and np.array_equal(label, label_e)
        assert label.shape == (64, 64) and (label == 255).any()
        assert np.array_equal(edge, binary_edge_map(label, 4, 255))

    images, labels, edges = training.load_training_batch([0, 1, 2], with_edges)
    assert images.shape == (3, 3, 64, 64) and labels.shape == edges.shape == (3, 64, 64)
    assert edges.dtype == np.int64


def test_targets_follow_the_catalog_and_only_edge_combinations_get_edge_code(project):
    bce = catalog.LOSSES["BCELoss"]
    assert bce.target({"edge_label": True, "weight": None, "pos_weight": None}) == "edge"
    assert bce.target({"edge_label": False, "weight": None, "pos_weight": None}) == "label"
    assert catalog.LOSSES["CrossEntropyLoss"].target({"weight": None}) == "label"

    for variant in resolve(load(ZOO / "gscnn.yaml"), REPO):
        assert [loss.target for loss in variant.losses] == ["label", "label", "edge", "label"]
        assert variant.needs_edge_map
    assert not any(v.needs_edge_map for v in resolve(load(ZOO / "deeplabv3.yaml"), REPO))

    # a loss with edge_label false trains on the label, and then nothing computes edges
    text = (ZOO / "gscnn.yaml").read_text().replace("edge_label: true", "edge_label: false")
    spec = write_spec(project, "gscnn_labels.yaml", text)
    assert [loss.target for loss in resolve(load(spec), project)[0].losses][2] == "label"
    assert not resolve(load(spec), project)[0].needs_edge_map

    edge_combinations = set()
    for combination in combinations():
        module = load_script(combination)
        text = (REPO / "generated" / combination / "train.py").read_text()
        wants_edges = any(loss.get("edge_label") for loss in
                          resolved_spec(combination)["components"]["losses"])
        targets = [target for _, _, target in module.build_losses(255)]
        assert ("edge" in targets) == wants_edges
        for name in ("binary_edge_map", "EDGE_MAP_RADIUS", "target_maps={"):
            assert (name in text) == wants_edges, (combination, name)
        for script in ("export.py", "infer.py"):
            assert "edge_map" not in (REPO / "generated" / combination / script).read_text()
        if wants_edges:
            edge_combinations.add(resolved_spec(combination)["arch"])
    assert edge_combinations >= {"GSCNN", "DecoupledSegNet"}


def test_a_training_step_hands_each_loss_its_target(monkeypatch, tmp_path):
    """train_main gives the 'edge' losses the batch's edge maps and the others its labels."""
    module = load_script("gscnn_resnet50_vd_os8")
    seen = []

    class Recorder(paddle.nn.Layer):
        def __init__(self, name):
            super().__init__()
            self.name = name

        def forward(self, output, target):
            seen.append((self.name, target.numpy().copy()))
            if isinstance(output, tuple):
                output = output[0]
            return output.mean()

    class Tiny(paddle.nn.Layer):
        def __init__(self):
            super().__init__()
            self.conv = paddle.nn.Conv2D(3, 5, 1)

        def forward(self, x):
            logit = self.conv(x)
            return [logit, (logit, logit[:, :1]), logit[:, :1], logit]

    def losses(ignore_index):
        return [(Recorder(name), 1.0, target) for name, target in
                (("ce", "label"), ("ea", "label"), ("bce", "edge"), ("dual", "label"))]

    monkeypatch.chdir(tmp_path)
    module.train_main(module.SPEC, build_model=lambda num_classes: Tiny(),
                      build_transforms=module.build_transforms, build_losses=losses,
                      build_optimizer=module.build_optimizer,
                      target_maps={"edge": binary_edge_map},
                      argv=["--data", "demo", "--iters", "1", "--batch-size", "2",
                            "--crop-size", "64", "32", "--num-workers", "0", "--no-eval",
                            "--seed", "0", "--save-dir", "out"])
    targets = dict(seen)
    assert [name for name, _ in seen] == ["ce", "ea", "bce", "dual"]
    label = targets["ce"]
    assert label.shape == (2, 32, 64) and set(np.unique(label)) - {255} <= set(range(5))
    assert np.array_equal(targets["ea"], label) and np.array_equal(targets["dual"], label)
    expected = np.stack([binary_edge_map(one, 5, 255) for one in label])
    assert np.array_equal(targets["bce"], expected)
