"""The losses of GSCNN and DecoupledSegNet are PaddleSeg 2.8's.

EdgeAttentionLoss and BCELoss are compared with PaddleSeg's own classes on random
inputs. PaddleSeg's DualTaskLoss (float x bool), RelaxBoundaryLoss (float x int64) and
OhemEdgeAttentionLoss once mining applies (float + int64) fail under Paddle 3.3.1's
type promotion, so those are compared with numpy transcriptions of PaddleSeg's code,
step by step (and OhemEdgeAttentionLoss with PaddleSeg's class where it runs).
"""

import numpy as np
import paddle
import pytest
from paddleseg.models import losses as paddleseg_losses  # the oracle

from segc.templates.fragments.losses.edge import (
    BCELoss,
    DualTaskLoss,
    EdgeAttentionLoss,
    OhemEdgeAttentionLoss,
    RelaxBoundaryLoss,
)

IGNORE = 255


def random_batch(seed, n=2, c=5, h=13, w=17, ignored=0.1):
    """Logits, an edge probability map, blocky labels with ignored pixels, edge labels."""
    rng = np.random.default_rng(seed)
    logits = (rng.normal(size=(n, c, h, w)) * 2).astype("float32")
    edge_prob = rng.uniform(size=(n, 1, h, w)).astype("float32")
    cells = rng.integers(0, c, (n, h // 3 + 1, w // 3 + 1))
    labels = np.repeat(np.repeat(cells, 3, 1), 3, 2)[:, :h, :w].copy()
    labels[rng.random(labels.shape) < ignored] = IGNORE
    edges = rng.integers(0, 2, (n, h, w))
    edges[labels == IGNORE] = IGNORE
    return logits, edge_prob, labels.astype("int64"), edges.astype("int64")


def tensors(*arrays):
    return [paddle.to_tensor(a) for a in arrays]


def softmax(x, axis=1):
    e = np.exp(x - x.max(axis, keepdims=True))
    return e / e.sum(axis, keepdims=True)


@pytest.mark.parametrize("seed", range(3))
def test_edge_attention_loss_is_paddleseg(seed):
    logits, edge_prob, labels, _ = random_batch(seed)
    logit, edge, label = tensors(logits, edge_prob, labels)
    for threshold in (0.8, 0.3):
        expected = paddleseg_losses.EdgeAttentionLoss(edge_threshold=threshold)((logit, edge),
                                                                                label)
        got = EdgeAttentionLoss(IGNORE, edge_threshold=threshold)((logit, edge), label)
        assert abs(float(got) - float(expected)) <= 1e-6 * max(1.0, abs(float(expected)))


@pytest.mark.parametrize("weight, pos_weight", [(None, None), ("dynamic", None),
                                                (None, "dynamic"), ("dynamic", 3.0),
                                                (None, 0.5)])
def test_bce_loss_is_paddleseg(weight, pos_weight):
    logits, edge_prob, labels, edges = random_batch(1)
    edge_logit, edge, label, logit = tensors(edge_prob * 6 - 3, edges, labels, logits)
    # on an edge map (one channel, some pixels ignored)
    ours = BCELoss(IGNORE, weight=weight, pos_weight=pos_weight, edge_label=True)
    reference = paddleseg_losses.BCELoss(weight=weight, pos_weight=pos_weight,
                                         edge_label=True)
    assert abs(float(ours(edge_logit, edge)) - float(reference(edge_logit, edge))) <= 1e-6
    # on class ids against one logit map per class (one-hot)
    got, expected = BCELoss(IGNORE, weight, pos_weight)(logit, label), reference(logit, label)
    assert abs(float(got) - float(expected)) <= 1e-6


def test_bce_loss_skips_ignored_pixels_and_refuses_unknown_weights():
    _, edge_prob, _, edges = random_batch(2)
    loss = BCELoss(IGNORE, edge_label=True)
    logit = paddle.to_tensor(edge_prob * 6 - 3)
    changed = (edge_prob * 6 - 3).copy()
    changed[:, 0][edges == IGNORE] = 50.0
    edge = paddle.to_tensor(edges)
    assert abs(float(loss(logit, edge)) - float(loss(paddle.to_tensor(changed), edge))) < 1e-6
    with pytest.raises(ValueError):
        BCELoss(weight="balanced")
    with pytest.raises(ValueError):
        BCELoss(pos_weight="balanced")


def ohem_edge_attention_reference(logits, edge_prob, labels, edge_threshold, thresh,
                                  min_kept):
    """PaddleSeg 2.8's OhemEdgeAttentionLoss.forward in numpy, step by step."""
    c = logits.shape[1]
    label = np.where(edge_prob[:, 0] > edge_threshold, labels, IGNORE).reshape(-1)
    valid = (label != IGNORE).astype(np.int64)
    num_valid = valid.sum()
    label = label * valid
    prob = softmax(logits.astype(np.float64)).transpose(1, 0, 2, 3).reshape(c, -1)
    if min_kept < num_valid and num_valid > 0:
        prob = prob + (1 - valid)
        prob = (prob * np.eye(c)[label].T).sum(0)
        threshold = thresh
        if min_kept > 0:
            index = prob.argsort(kind="stable")
            threshold_index = index[min(len(index), min_kept) - 1]
            if prob[threshold_index] > thresh:
                threshold = prob[threshold_index]
            kept = (prob < threshold).astype(np.int64)
            label = label * kept
            valid = valid * kept
    label = label + (1 - valid) * IGNORE
    log_probs = np.log(softmax(logits.astype(np.float64))).transpose(1, 0, 2, 3).reshape(c, -1)
    safe = np.where(label == IGNORE, 0, label)
    losses = -log_probs[safe, np.arange(label.size)] * (label != IGNORE) * valid
    return losses.mean() / (valid.mean() + 1e-10)


@pytest.mark.parametrize("min_kept, thresh", [(5, 0.7), (40, 0.7), (40, 0.05), (0, 0.7),
                                              (10 ** 6, 0.7)])
def test_ohem_edge_attention_loss_is_paddleseg(min_kept, thresh):
    logits, edge_prob, labels, _ = random_batch(3)
    logit, edge, label = tensors(logits, edge_prob, labels)
    got = float(OhemEdgeAttentionLoss(IGNORE, 0.6, thresh, min_kept)((logit, edge), label))
    expected = ohem_edge_attention_reference(logits, edge_prob, labels, 0.6, thresh, min_kept)
    assert abs(got - expected) <= 1e-5 * max(1.0, expected)
    if min_kept >= (edge_prob > 0.6).sum():  # no mining: PaddleSeg's own class runs
        reference = paddleseg_losses.OhemEdgeAttentionLoss(0.6, thresh, min_kept)
        assert abs(got - float(reference((logit, edge), label))) <= 1e-5 * max(1.0, expected)


def conv_tri_reference(x, r):
    """PaddleSeg's DualTaskLoss.conv_tri in numpy: pad by 1 replicating, by r reflecting,
    keep the outer r of that around the input, then filter with f across and f^T down."""
    h, w = x.shape[2:]
    f = np.array(list(range(1, r + 1)) + [r + 1] + list(range(r, 0, -1))) / (r + 1) ** 2
    padded = np.pad(np.pad(x, ((0, 0), (0, 0), (0, 0), (1, 1)), mode="edge"),
                    ((0, 0), (0, 0), (0, 0), (r, r)), mode="reflect")
    x = np.concatenate([padded[..., :r], x, padded[..., -r:]], axis=3)
    padded = np.pad(np.pad(x, ((0, 0), (0, 0), (1, 1), (0, 0)), mode="edge"),
                    ((0, 0), (0, 0), (r, r), (0, 0)), mode="reflect")
    x = np.concatenate([padded[:, :, :r], x, padded[:, :, -r:]], axis=2)
    across = sum(f[k] * x[..., :, k:k + w] for k in range(2 * r + 1))
    return sum(f[k] * across[..., k:k + h, :] for k in range(2 * r + 1))


def grad_mag_reference(x):
    x = conv_tri_reference(x, 4)
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    grad_x = 0.5 * (padded[:, :, 1:-1, 2:] - padded[:, :, 1:-1, :-2])
    grad_y = 0.5 * (padded[:, :, 2:, 1:-1] - padded[:, :, :-2, 1:-1])
    magnitude = np.sqrt(grad_x ** 2 + grad_y ** 2 + 1e-6)
    return magnitude / magnitude.max()


def dual_task_reference(logits, labels, noise, tau):
    """PaddleSeg 2.8's DualTaskLoss.forward in numpy, given its uniform noise."""
    c = logits.shape[1]
    mask = (labels != IGNORE)[:, None]
    logits = logits.astype(np.float64) * mask
    labels = labels * mask[:, 0]
    onehot = np.eye(c)[labels].transpose(0, 3, 1, 2)
    gumbel = -np.log(1e-10 - np.log(noise + 1e-10))
    g = grad_mag_reference(softmax((logits + gumbel) / tau))
    g_hat = grad_mag_reference(onehot)
    loss = np.abs(g - g_hat) * mask
    total = 0.0
    for strength in (g, g_hat):
        present = (strength > 1e-8).astype(np.float64)
        part = (loss * present).sum()
        if present.sum() > 1e-10:
            part /= present.sum()
        total += 0.5 * part
    return total


@pytest.mark.parametrize("seed, tau", [(0, 0.5), (1, 0.5), (2, 1.0)])
def test_dual_task_loss_is_paddleseg(seed, tau):
    logits, _, labels, _ = random_batch(seed, h=21, w=19)
    logit, label = tensors(logits, labels)
    paddle.seed(seed)
    noise = paddle.rand(logits.shape).numpy()  # what the loss draws after the same seed
    paddle.seed(seed)
    got = float(DualTaskLoss(IGNORE, tau)(logit, label))
    expected = dual_task_reference(logits, labels, noise, tau)
    assert abs(got - expected) <= 1e-5 * max(1.0, expected)


def test_dual_task_loss_trains_the_logits():
    logits, _, labels, _ = random_batch(4, h=21, w=19)
    logit = paddle.to_tensor(logits, stop_gradient=False)
    DualTaskLoss(IGNORE)(logit, paddle.to_tensor(labels)).backward()
    grad = logit.grad.numpy()
    assert np.isfinite(grad).all() and np.abs(grad).max() > 0


def relax_boundary_reference(logits, labels):
    """PaddleSeg 2.8's RelaxBoundaryLoss.forward (border 1) in numpy, step by step,
    including its per-sample loop over the whole batch's border weights."""
    n, c, h, w = logits.shape
    label = np.pad(labels, ((0, 0), (1, 1), (1, 1)), constant_values=c)
    label = np.where(label == IGNORE, c, label)
    onehot = sum(np.eye(c + 1)[label[:, 1 + i:h + 1 + i, 1 + j:w + 1 + j]]
                 for i in (-1, 0, 1) for j in (-1, 0, 1))
    onehot = (onehot > 0).astype(np.float64).transpose(0, 3, 1, 2)
    weights = onehot[:, :-1].sum(1)
    ignore_mask = (weights == 0).astype(np.float64)
    border_weights = weights + ignore_mask
    loss = 0.0
    for i in range(n):
        soft = softmax(logits[i:i + 1].astype(np.float64))
        target = onehot[i:i + 1, :-1]
        soft_label = (soft * target).sum(1, keepdims=True) * target
        soft = soft * (1 - target) + soft_label
        logsoft = (target * np.log(soft)).sum(1)
        logsoft = -1 / border_weights * logsoft * (1.0 - ignore_mask[i])
        loss += logsoft.sum() / (h * w - ignore_mask[i].sum() + 1)
    return loss


@pytest.mark.parametrize("n, seed", [(1, 0), (2, 1), (3, 2)])
def test_relax_boundary_loss_is_paddleseg(n, seed):
    logits, _, labels, _ = random_batch(seed, n=n)
    labels[0, :4] = IGNORE  # a band with no class within a pixel: not counted
    got = float(RelaxBoundaryLoss(IGNORE)(*tensors(logits, labels)))
    expected = relax_boundary_reference(logits, labels)
    assert abs(got - expected) <= 1e-5 * max(1.0, expected)


def test_relax_boundary_loss_rewards_mass_on_any_nearby_class():
    """Away from boundaries it is cross-entropy; on one, either neighbouring class is
    right, so moving probability between them does not change the loss."""
    labels = np.zeros((1, 8, 8), np.int64)
    labels[:, :, 4:] = 1
    logits = np.zeros((1, 3, 8, 8), np.float32)
    loss = RelaxBoundaryLoss(IGNORE)
    base = float(loss(*tensors(logits, labels)))
    swapped = logits.copy()
    swapped[0, 0, :, 3:5], swapped[0, 1, :, 3:5] = 2.0, -1.0  # columns 3-4: both classes near
    boundary_only = logits.copy()
    boundary_only[0, 0, :, 3:5], boundary_only[0, 1, :, 3:5] = -1.0, 2.0
    assert abs(float(loss(*tensors(swapped, labels))) -
               float(loss(*tensors(boundary_only, labels)))) < 1e-6
    inside = logits.copy()
    inside[0, 1, :, 0] = 3.0  # column 0 is class 0 only: mass on class 1 costs
    assert float(loss(*tensors(inside, labels))) > base
