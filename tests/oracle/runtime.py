"""What else it takes to run PaddleSeg 2.8's own code under Paddle 3.3: its inference
predictor, its losses and trainer, its configs without downloads (the side-by-side
benchmark, benchmarks/vs_paddleseg.py, runs them). Nothing here is used by segc or by the
generated scripts, and none of it is PaddleSeg's code: it adapts the environment
PaddleSeg runs in, each fix for a stated incompatibility.

1. Paddle Inference config (PaddleSeg's deploy/python/infer.py `Predictor`):
   - `enable_memory_optim()` makes `create_predictor` fail under Paddle 3.3 with a PIR
     program ("Not find predictor_id 0 and pass_name memory_optimize_pass"): it becomes a
     no-op, as it is on segc's side, which never calls it.
   - Paddle 3.3 turns oneDNN on by default on CPU, and its oneDNN placement pass breaks
     interpolation ops at the first run (PaddlePaddle/Paddle#79749). PaddleSeg's
     `--enable_mkldnn False` means plain CPU kernels, so the config starts with oneDNN
     off; `enable_mkldnn()` drops the placement pass for such programs, exactly as the
     generated infer.py does, so both sides run the same predictor configuration.
2. Model forward passes: the dtype fixes of tests/oracle/fixes (per model type,
   `oracle_fix`), the same ones the parity tests use.
3. Losses: PaddleSeg's CrossEntropyLoss multiplies its float32 mask by
   `paddle.ones_like(label)`, an int64 tensor, which Paddle 3.3 refuses to promote; inside
   that module `paddle.ones_like` gives float32, the dtype Paddle 2.x promoted the product
   to, so the loss value is unchanged.
4. Loss shapes: Paddle 3 reductions give 0-d tensors where Paddle 2 gave shape [1], and
   PaddleSeg 2.8's trainer indexes each loss (`l[0]`) when it logs: each loss layer's
   output is reshaped to [1], Paddle 2's shape; values unchanged. float() of such a
   one-element tensor fails under numpy 2 inside Paddle 3.3 (segc.bench.flops lifts the same
   limit for paddle.flops, which PaddleSeg's trainer also calls at its end), so float()
   and int() of one-element tensors read the element.
5. Metrics: PaddleSeg 2.8's `calculate_area` concatenates per-class sums, which Paddle 3
   makes 0-d tensors that `paddle.concat` refuses; inside that module `paddle.concat`
   first gives 0-d tensors Paddle 2's shape [1], so the areas are the same vectors.
6. Downloads: PaddleSeg's configs name pretrained backbone URLs; this machine has no
   network, and segc's train.py starts from scratch unless given --pretrained, so both
   sides start from random weights.
7. Contrib datasets: a contrib config (AutoNUE's) names a dataset type that only its
   contrib folder registers, not PaddleSeg's pip package, and SegBuilder looks the train
   dataset's class up before it builds the model (to check num_classes). Such a type
   (`CONTRIB_DATASETS`) becomes PaddleSeg's generic `Dataset`, for which SegBuilder
   takes num_classes from the model section, which such configs set: the model is built
   from the config's model section alone. Its datasets cannot be built that way.
"""

from __future__ import annotations

import sys
from pathlib import Path

# One line per fix, recorded in the benchmark's results file.
RUNTIME_FIXES = (
    ("Paddle Inference: enable_memory_optim() is a no-op (fails under Paddle 3.3 with PIR "
    "programs)"),
    ("Paddle Inference: oneDNN off unless enable_mkldnn(); with it, the oneDNN placement pass "
    "is dropped for programs with interpolation ops, as segc's infer.py does "
    "(PaddlePaddle/Paddle#79749)"),
    ("CrossEntropyLoss: paddle.ones_like(label) is float32 inside PaddleSeg's loss module "
    "(Paddle 3.3 refuses float32 * int64; Paddle 2.x promoted it to float32)"),
    ("trainer: each loss output reshaped from 0-d to [1] (PaddleSeg 2.8 indexes it; Paddle 2 "
    "gave [1])"),
    "model forward: tests/oracle/fixes for the model type (Paddle 3.3 dtype promotion)",
    "configs: pretrained URLs removed (no network; both sides start from random weights)",
    ("configs: contrib dataset types (AutoNue) replaced by the generic Dataset, so that "
     "SegBuilder builds the model from the model section"),
)

# Dataset types of PaddleSeg's contrib configs that its pip package does not register
# (fix 7): the type, and where it lives.
CONTRIB_DATASETS = {
    "AutoNue": "contrib/AutoNUE/datasets/auto_nue.py (IDD level-3 labels)",
}


def predict_config_class(drop_placement_pass):
    """paddle.inference.Config with the fixes of point 1 (see the module docstring);
    `drop_placement_pass`: whether the program has interpolation ops."""
    import paddle.inference

    class FixedPredictConfig(paddle.inference.Config):
        def __init__(self, *args):
            super().__init__(*args)
            self.disable_mkldnn()

        def enable_memory_optim(self, *args, **kwargs):
            pass

        def enable_mkldnn(self):
            super().enable_mkldnn()
            if drop_placement_pass:
                self.delete_pass("onednn_placement_pass")

    return FixedPredictConfig


def import_deploy_infer(paddleseg_repo: Path, drop_placement_pass: bool):
    """PaddleSeg's deploy/python/infer.py from a checkout, with its Config fixed."""
    deploy = Path(paddleseg_repo) / "deploy" / "python"
    if not (deploy / "infer.py").is_file():
        raise SystemExit(f"{deploy / 'infer.py'}: not found; pass --paddleseg-repo, a "
                         "checkout of PaddleSeg's repository")
    sys.path.insert(0, str(deploy))
    try:
        import infer as paddleseg_deploy_infer
    finally:
        sys.path.remove(str(deploy))
    paddleseg_deploy_infer.PredictConfig = predict_config_class(drop_placement_pass)
    return paddleseg_deploy_infer


def without_pretrained(config: dict) -> dict:
    """A PaddleSeg config dict with every `pretrained` key (model, backbone) set to None."""
    if isinstance(config, dict):
        return {k: (None if k == "pretrained" else without_pretrained(v))
                for k, v in config.items()}
    if isinstance(config, list):
        return [without_pretrained(v) for v in config]
    return config


def with_generic_datasets(config: dict) -> dict:
    """A PaddleSeg config dict whose contrib dataset types (`CONTRIB_DATASETS`) are
    PaddleSeg's generic `Dataset` (fix 7); other keys unchanged."""
    fixed = dict(config)
    for key in ("train_dataset", "val_dataset", "test_dataset"):
        section = fixed.get(key)
        if isinstance(section, dict) and section.get("type") in CONTRIB_DATASETS:
            fixed[key] = {**section, "type": "Dataset"}
    return fixed


def paddleseg_config(path, **overrides):
    """PaddleSeg's `Config` of config file `path` (keyword overrides such as batch_size
    and iters as Config takes them) with every pretrained URL removed (fix 6) and
    contrib dataset types made generic (fix 7)."""
    from paddleseg.cvlibs import Config

    config = Config(str(path), **overrides)
    config.dic = with_generic_datasets(without_pretrained(config.dic))
    return config


class _PaddleWithFloatOnesLike:
    """The paddle module, except that ones_like defaults to float32 (fix 3)."""

    def __init__(self, paddle):
        self._paddle = paddle

    def __getattr__(self, name):
        return getattr(self._paddle, name)

    def ones_like(self, x, dtype=None, name=None):
        return self._paddle.ones_like(x, dtype=dtype or "float32", name=name)


def fix_cross_entropy_loss():
    """Fix 3, for the rest of this process (a benchmark child)."""
    import paddle
    from paddleseg.models.losses import cross_entropy_loss

    if not isinstance(cross_entropy_loss.paddle, _PaddleWithFloatOnesLike):
        cross_entropy_loss.paddle = _PaddleWithFloatOnesLike(paddle)


class _PaddleWithConcatOfScalars:
    """The paddle module, except that concat takes 0-d tensors as shape [1] (fix 5)."""

    def __init__(self, paddle):
        self._paddle = paddle

    def __getattr__(self, name):
        return getattr(self._paddle, name)

    def concat(self, x, axis=0, name=None):
        return self._paddle.concat([t.reshape([1]) if t.ndim == 0 else t for t in x],
                                   axis=axis, name=name)


def fix_metrics_area():
    """Fix 5, for the rest of this process."""
    import paddle
    from paddleseg.utils import metrics

    if not isinstance(metrics.paddle, _PaddleWithConcatOfScalars):
        metrics.paddle = _PaddleWithConcatOfScalars(paddle)


def losses_of_shape_one(losses: dict) -> dict:
    """Fix 4 on PaddleSeg's built `loss` dict (its layers keep their class, which its
    loss_computation dispatches on), for the rest of this process (a benchmark child)."""
    import numpy as np
    import paddle

    for method, kind in (("__float__", float), ("__int__", int)):
        original = getattr(paddle.Tensor, method)

        def scalar(tensor, _original=original, _kind=kind):
            if tensor.size == 1:
                return _kind(np.asarray(tensor).reshape(-1)[0])
            return _original(tensor)

        setattr(paddle.Tensor, method, scalar)
    for layer in losses["types"]:
        forward = layer.forward

        def shaped(*args, _forward=forward, **kwargs):
            return _forward(*args, **kwargs).reshape([1])

        layer.forward = shaped
    return losses
