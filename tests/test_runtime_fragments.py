"""The runtime fragments (losses, schedules, metrics, checkpoints, errors) behave as
PaddleSeg's counterparts do; they are tested directly as the plain Python modules they are."""

import json
import os
import re
from pathlib import Path

import numpy as np
import paddle
import pytest
from paddle.optimizer import lr as paddle_lr

from segc.templates.fragments.losses.cross_entropy import CrossEntropyLoss, OhemCrossEntropyLoss
from segc.templates.fragments.runtime import evaluation, training
from segc.templates.fragments.runtime.errors import fail
from segc.templates.fragments.runtime.metrics import confusion_matrix, segmentation_metrics
from segc.templates.fragments.runtime.schedules import PolynomialLR, StepLR


def random_logits_and_labels(num_classes=5, ignore_index=255, seed=0):
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(2, num_classes, 6, 7)).astype("float32")
    labels = rng.integers(0, num_classes, size=(2, 6, 7))
    labels[rng.random(labels.shape) < 0.2] = ignore_index
    return paddle.to_tensor(logits), paddle.to_tensor(labels.astype("int64"))


def reference_cross_entropy(logits, labels, weight, ignore_index=255):
    """PaddleSeg's definition in numpy (its own loss fails under Paddle 3.3.1's
    type promotion): weighted mean of -log softmax over the non-ignored pixels."""
    logits, labels = logits.numpy().astype(np.float64), labels.numpy()
    log_probs = logits - logits.max(1, keepdims=True)
    log_probs -= np.log(np.exp(log_probs).sum(1, keepdims=True))
    keep = labels != ignore_index
    safe = np.where(keep, labels, 0)
    picked = np.take_along_axis(log_probs, safe[:, None], 1)[:, 0]
    weights = (np.ones(logits.shape[1]) if weight is None else np.asarray(weight))[safe] * keep
    return float((-picked * weights).sum() / weights.sum())


@pytest.mark.parametrize("weight", [None, [0.5, 1.0, 2.0, 1.5, 0.25]])
def test_cross_entropy_is_the_weighted_mean_over_counted_pixels(weight):
    logits, labels = random_logits_and_labels()
    ours = CrossEntropyLoss(ignore_index=255, weight=weight)(logits, labels)
    assert abs(float(ours) - reference_cross_entropy(logits, labels, weight)) < 1e-5


def test_cross_entropy_ignores_ignored_pixels():
    logits, labels = random_logits_and_labels()
    loss_fn = CrossEntropyLoss(ignore_index=255)
    changed = logits.numpy().copy()
    changed[labels.numpy()[:, None].repeat(5, axis=1) == 255] = 100.0  # only ignored pixels
    assert abs(float(loss_fn(logits, labels)) - float(loss_fn(paddle.to_tensor(changed), labels))
               ) < 1e-6


def reference_ohem_cross_entropy(logits, labels, thresh, min_kept, ignore_index=255):
    """PaddleSeg 2.8's OhemCrossEntropyLoss in numpy (its own fails under Paddle 3.3.1's
    type promotion whenever mining applies): keep the pixels whose true-class probability
    is below max(thresh, the min_kept-th smallest one), strictly."""
    logits, labels = logits.numpy().astype(np.float64), labels.numpy().reshape(-1)
    num_classes = logits.shape[1]
    log_probs = logits - logits.max(1, keepdims=True)
    log_probs -= np.log(np.exp(log_probs).sum(1, keepdims=True))
    log_probs = log_probs.transpose(0, 2, 3, 1).reshape(-1, num_classes)
    valid = labels != ignore_index
    picked = log_probs[np.arange(labels.size), np.where(valid, labels, 0)]
    kept = valid.copy()
    if 0 < min_kept < valid.sum():
        prob = np.where(valid, np.exp(picked), 2.0)
        threshold = max(thresh, np.sort(prob)[min_kept - 1])
        kept = prob < threshold
    return float((-picked * kept).mean() / (kept.mean() + 1e-5))


@pytest.mark.parametrize("thresh, min_kept", [(0.7, 100), (0.1, 50), (0.3, 300), (0.7, 0),
                                              (0.7, 10000)])
def test_ohem_cross_entropy_counts_only_the_hard_pixels(thresh, min_kept):
    logits, labels = random_logits_and_labels(seed=min_kept)
    logits = logits * 3
    ours = float(OhemCrossEntropyLoss(255, thresh, min_kept)(logits, labels))
    assert ours == pytest.approx(reference_ohem_cross_entropy(logits, labels, thresh, min_kept),
                                 rel=1e-5)
    if min_kept == 50:  # mining applies: fewer pixels, so not plain cross-entropy
        plain = float(OhemCrossEntropyLoss(255, thresh, 0)(logits, labels))
        assert abs(ours - plain) > 1e-3


def test_ohem_cross_entropy_equals_paddleseg_where_paddleseg_runs():
    from paddleseg.models.losses import OhemCrossEntropyLoss as PaddleSegOhem

    logits, labels = random_logits_and_labels()
    # no more valid pixels than min_kept: PaddleSeg skips mining and its code runs
    expected = float(PaddleSegOhem(0.7, 10000, 255)(logits, labels))
    assert float(OhemCrossEntropyLoss(255, 0.7, 10000)(logits, labels)) == pytest.approx(
        expected, rel=1e-5)


def test_polynomial_decay_matches_paddle_and_warms_up_linearly():
    ours = PolynomialLR(learning_rate=0.01, decay_steps=100, end_lr=1e-4, power=0.9)
    reference = paddle_lr.PolynomialDecay(learning_rate=0.01, decay_steps=100, end_lr=1e-4,
                                          power=0.9)
    for _ in range(120):
        assert ours() == pytest.approx(reference(), rel=1e-9)
        ours.step()
        reference.step()

    # PaddleSeg's recipe: linear warm-up, then PolynomialDecay over iters - warmup_iters
    warm = PolynomialLR(learning_rate=0.01, decay_steps=100, warmup_iters=10,
                        warmup_start_lr=1e-3)
    expected = {0: 1e-3, 5: 1e-3 + (0.01 - 1e-3) * 0.5, 10: 0.01,
                55: 0.01 * (1 - 45 / 90) ** 0.9, 100: 0.0, 110: 0.0}
    for step in range(111):
        if step in expected:
            assert warm() == pytest.approx(expected[step], abs=1e-12)
        warm.step()


def test_step_decay_matches_paddle_and_restarts_after_warm_up():
    ours = StepLR(learning_rate=0.001, step_size=4, gamma=0.95)
    reference = paddle_lr.StepDecay(learning_rate=0.001, step_size=4, gamma=0.95)
    for _ in range(30):
        assert ours() == pytest.approx(reference(), rel=1e-9)
        ours.step()
        reference.step()

    # Paddle's LinearWarmup starts the wrapped schedule at 0 after the warm-up
    warm = StepLR(learning_rate=0.01, step_size=5, gamma=0.5, warmup_iters=10)
    expected = {0: 0.0, 5: 0.005, 10: 0.01, 14: 0.01, 15: 0.005, 20: 0.0025}
    for step in range(21):
        if step in expected:
            assert warm() == pytest.approx(expected[step], abs=1e-12)
        warm.step()


def test_schedule_state_survives_a_checkpoint():
    first = PolynomialLR(learning_rate=0.01, decay_steps=50)
    for _ in range(7):
        first.step()
    second = PolynomialLR(learning_rate=0.01, decay_steps=50)
    second.set_state_dict(first.state_dict())
    assert second() == first() and second.last_epoch == 7


def test_metrics_follow_paddleseg_definitions():
    # PaddleSeg 2.8's calculate_area fails under Paddle 3.3.1, so its definitions are
    # written out here per class: IoU = TP / (pred + label - TP) over non-ignored pixels,
    # accuracy = sum TP / counted pixels, kappa = (po - pe) / (1 - pe).
    rng = np.random.default_rng(3)
    label = rng.integers(0, 4, size=(32, 32))
    label[:4] = 255
    prediction = np.where(rng.random(label.shape) < 0.7, label % 4, rng.integers(0, 4, label.shape))
    ours = segmentation_metrics(confusion_matrix(prediction, label, 4, 255))
    keep = label != 255
    tp = np.array([np.sum((prediction == c) & (label == c) & keep) for c in range(4)])
    pred_area = np.array([np.sum((prediction == c) & keep) for c in range(4)])
    label_area = np.array([np.sum(label == c) for c in range(4)])
    iou = tp / (pred_area + label_area - tp)
    po = tp.sum() / keep.sum()
    pe = (pred_area * label_area).sum() / keep.sum() ** 2
    assert ours["class_iou"] == pytest.approx(list(iou))
    assert ours["miou"] == pytest.approx(iou.mean())
    assert ours["accuracy"] == pytest.approx(po)
    assert ours["kappa"] == pytest.approx((po - pe) / (1 - pe))
    assert 0.5 < ours["miou"] < 1.0
    # class precision and recall, Dice = 2 TP / (pred + label) and its mean
    assert ours["class_precision"] == pytest.approx(list(tp / pred_area))
    assert ours["class_recall"] == pytest.approx(list(tp / label_area))
    dice = 2 * tp / (pred_area + label_area)
    assert ours["class_dice"] == pytest.approx(list(dice))
    assert ours["dice"] == pytest.approx(dice.mean())


def test_interrupted_checkpoint_save_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    model = paddle.nn.Linear(2, 2)
    training.save_checkpoint(str(tmp_path), "iter_10", model, {"iter": 10, "seed": 0},
                             paddle.optimizer.SGD(parameters=model.parameters()))
    training.record_latest_checkpoint(str(tmp_path), "iter_10")

    real_save = paddle.save

    def killed_after_weights(obj, path, *args, **kwargs):
        if path.endswith(".pdopt"):
            raise KeyboardInterrupt  # the process dies between two files of a checkpoint
        real_save(obj, path, *args, **kwargs)

    monkeypatch.setattr(paddle, "save", killed_after_weights)
    with pytest.raises(KeyboardInterrupt):
        training.save_checkpoint(str(tmp_path), "iter_20", model, {"iter": 20, "seed": 0},
                                 paddle.optimizer.SGD(parameters=model.parameters()))
    assert not (tmp_path / "iter_20").exists()
    assert json.loads((tmp_path / "latest.json").read_text()) == {"checkpoint": "iter_10"}
    assert training.load_resume_checkpoint(str(tmp_path))[0].endswith("iter_10")
    # the next run clears the dead process's temporary folder (its pid is not running)
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".tmp-")]
    assert leftovers
    dead = tmp_path / leftovers[0].replace(f"-{os.getpid()}", "-999999999")
    (tmp_path / leftovers[0]).rename(dead)
    training.clean_interrupted_saves(str(tmp_path))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["iter_10", "latest.json"]


def _checkpoints(save_dir, iterations):
    model = paddle.nn.Linear(2, 2)
    for iteration in iterations:
        training.save_checkpoint(str(save_dir), f"iter_{iteration}", model,
                                 {"iter": iteration, "seed": 0},
                                 paddle.optimizer.SGD(parameters=model.parameters()))
        training.record_latest_checkpoint(str(save_dir), f"iter_{iteration}")


@pytest.mark.parametrize("damage", ["truncated weights", "garbage latest.json",
                                    "garbage meta.json", "missing optimizer state"])
def test_resume_passes_over_a_damaged_latest_checkpoint(tmp_path, capsys, damage):
    _checkpoints(tmp_path, [10, 20])
    newest = tmp_path / "iter_20"
    if damage == "truncated weights":
        data = (newest / "model.pdparams").read_bytes()
        (newest / "model.pdparams").write_bytes(data[: len(data) // 2])
    elif damage == "garbage latest.json":
        (tmp_path / "latest.json").write_text("{not json")
        (newest / "meta.json").write_text("[]")  # and the newest is damaged too
    elif damage == "garbage meta.json":
        (newest / "meta.json").write_text("{\"iter\": \"twenty\"}")
    else:
        (newest / "model.pdopt").unlink()
    folder, _, _, meta = training.load_resume_checkpoint(str(tmp_path))
    assert folder.endswith("iter_10") and meta["iter"] == 10
    out = capsys.readouterr().out
    assert "warning: cannot resume from" in out and "iter_20" in out and "Traceback" not in out


def test_resume_with_nothing_intact_is_one_line(tmp_path, capsys):
    _checkpoints(tmp_path, [10])
    (tmp_path / "iter_10" / "model.pdparams").write_bytes(b"garbage")
    with pytest.raises(SystemExit) as stopped:
        training.load_resume_checkpoint(str(tmp_path))
    assert stopped.value.code == 2
    assert capsys.readouterr().err.startswith(f"error: {tmp_path}: no intact checkpoint")


def test_a_save_killed_between_its_two_renames_gets_the_old_checkpoint_back(tmp_path):
    """atomic_save_folder moves the old folder aside, then the new one in: killed between
    the two, the checkpoint exists only as .old-NAME-PID, which the next run restores."""
    _checkpoints(tmp_path, [10])
    (tmp_path / "best_model").mkdir()
    (tmp_path / "best_model").rename(tmp_path / ".old-best_model-999999999")
    (tmp_path / ".tmp-best_model-999999999").mkdir()
    (tmp_path / "latest.json.tmp-999999999").write_text("{")
    training.clean_interrupted_saves(str(tmp_path))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best_model", "iter_10", "latest.json"]


def test_old_checkpoints_are_pruned_but_latest_kept(tmp_path):
    model = paddle.nn.Linear(2, 2)
    for iteration in range(1, 6):
        training.save_checkpoint(str(tmp_path), f"iter_{iteration}", model,
                                 {"iter": iteration, "seed": 0},
                                 paddle.optimizer.SGD(parameters=model.parameters()))
        training.record_latest_checkpoint(str(tmp_path), f"iter_{iteration}", keep=3)
    kept = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("iter_"))
    assert kept == ["iter_3", "iter_4", "iter_5"]


def test_sampler_is_seeded_resumable_and_splits_between_processes():
    def batches(sampler, count):
        stream = iter(sampler)
        return [next(stream) for _ in range(count)]

    straight = batches(training.TrainBatchSampler(10, 3, seed=7), 8)
    resumed = batches(training.TrainBatchSampler(10, 3, seed=7, start_iter=5), 3)
    assert resumed == straight[5:]
    first_epoch = [key for batch in straight[:3] for key in batch][:9]
    assert len({key % 10 for key in first_epoch}) == 9  # no repeats inside an epoch
    assert straight != batches(training.TrainBatchSampler(10, 3, seed=8), 8)

    ranks = [batches(training.TrainBatchSampler(10, 2, seed=7, rank=r, world_size=2), 4)
             for r in (0, 1)]
    single = batches(training.TrainBatchSampler(10, 4, seed=7), 4)
    for step in range(4):
        assert ranks[0][step] + ranks[1][step] == single[step]


@pytest.mark.parametrize("status", [2, 1])
def test_fail_prints_one_error_line_and_exits_with_its_status(status, capsys):
    with pytest.raises(SystemExit) as stopped:
        fail("data/x.png: image not found", **({} if status == 2 else {"status": status}))
    assert stopped.value.code == status
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "error: data/x.png: image not found\n"


def test_fail_is_the_only_way_fragments_stop_a_script():
    """One error helper for train.py, export.py and infer.py: no fragment but
    runtime/errors.py prints `error:` or raises SystemExit itself."""
    fragments = Path(training.__file__).resolve().parents[1]
    offenders = [f"{path.relative_to(fragments)}:{number}"
                 for path in sorted(fragments.rglob("*.py")) if path.name != "errors.py"
                 for number, line in enumerate(path.read_text().splitlines(), 1)
                 if re.search(r"SystemExit|[\"']error: ", line)]
    assert offenders == []


class _StridedClassifier(paddle.nn.Layer):
    """A tiny model whose output depends on the input size (stride 2, then upsampled), so
    that evaluating at another scale changes the class map."""

    def __init__(self):
        super().__init__()
        self.conv = paddle.nn.Conv2D(3, 4, 3, stride=2, padding=1)

    def forward(self, x):
        logits = self.conv(x)
        return [paddle.nn.functional.interpolate(logits, x.shape[2:], mode="bilinear")]


@pytest.mark.parametrize("scales", [[1.0], [0.5], [0.75, 1.0, 1.25]])
def test_predict_classes_at_scales_matches_paddleseg_aug_inference(scales):
    from paddleseg.core.infer import aug_inference, inference

    paddle.seed(0)
    model = _StridedClassifier()
    model.eval()
    image = np.random.default_rng(0).normal(size=(3, 37, 50)).astype("float32")
    with paddle.no_grad():
        ours = evaluation.predict_classes(model, image, scales)
        batch = paddle.to_tensor(image[None])
        if scales == [1.0]:  # PaddleSeg's evaluate without aug_eval
            expected = inference(model, batch, trans_info=[])
        else:
            expected = aug_inference(model, batch, trans_info=[], scales=scales)
    expected = expected[0].numpy().squeeze()  # (1, 1, h, w) class ids
    assert ours.shape == (37, 50)
    assert (ours == expected).all()
    if scales != [1.0]:  # the scales change the prediction: the test can fail
        assert (ours != evaluation.predict_classes(model, image)).any()


def test_flags_replace_the_spec_schedule_only_when_given():
    """build_optimizer keeps the spec's learning rate and warm-up for None and takes any
    value given, 0 included (train.py's --learning-rate and --warmup-iters)."""
    from .generated_scripts import load_script

    train = load_script("pp_liteseg_stdc1")  # its recipe warms up for 1000 iterations
    model = paddle.nn.Linear(2, 2)
    _, spec_schedule = train.build_optimizer(model, None, 100)
    assert (spec_schedule.base_lr, spec_schedule.warmup_iters) == (0.005, 1000)
    _, flagged = train.build_optimizer(model, 0.001, 100, 0)
    assert (flagged.base_lr, flagged.warmup_iters) == (0.001, 0)
