"""PaddleSeg 2.8's own models: built from segc's resolved arguments (what the parity
and family tests compare against) or from a PaddleSeg config file (the benchmarks)."""

from __future__ import annotations

import numpy as np
import paddle

from .fixes import oracle_fix
from .model_types import check_model_type
from .runtime import paddleseg_config


def paddleseg_model(spec: dict, num_classes: int | None = None):
    """PaddleSeg's own model for a combination, built from the same resolved arguments:
    `spec` is segc's resolved spec as plain data (`Variant.plain()`, see
    tests/generated_scripts.resolved_spec); `num_classes` defaults to its dataset's."""
    import paddleseg.models
    from paddleseg.models import backbones

    parts = spec["components"]
    model_type = check_model_type(parts["model"]["type"])
    model_args = {k: v for k, v in parts["model"].items() if k != "type"}
    model_cls = getattr(paddleseg.models, model_type)
    if num_classes is None:
        num_classes = spec["dataset"]["num_classes"]
    with oracle_fix(model_type):  # some build only with it (fixes/vision_transformer.py)
        if parts["backbone"] is not None:  # a model without a backbone builds its own layers
            backbone_args = {k: v for k, v in parts["backbone"].items() if k != "type"}
            model_args["backbone"] = getattr(backbones, parts["backbone"]["type"])(**backbone_args)
        return model_cls(num_classes=num_classes, **model_args)


def paddleseg_model_from_config(path, **overrides):
    """PaddleSeg's model as its own tools build it from config file `path` (a
    `paddleseg.cvlibs.Config`'s keyword overrides allowed), with no pretrained weights."""
    from paddleseg.cvlibs import SegBuilder

    config = paddleseg_config(path, **overrides)
    model_type = check_model_type(config.model_cfg["type"], where=f"{path}: model type ")
    with oracle_fix(model_type):
        return SegBuilder(config).model


def randomise_batch_norm_statistics(model, seed=0):
    """Non-trivial running statistics, so that a wrong BN mapping shows in the outputs."""
    rng = np.random.default_rng(seed)
    for layer in model.sublayers():
        # paddle.nn.BatchNorm: the older layer some PaddleSeg models (U-Net 3+) still use
        if isinstance(layer, (paddle.nn.BatchNorm2D, paddle.nn.SyncBatchNorm, paddle.nn.BatchNorm)):
            n = layer._mean.shape[0]
            layer._mean.set_value(rng.normal(0, 0.1, n).astype("float32"))
            layer._variance.set_value(rng.uniform(0.5, 1.5, n).astype("float32"))


class ModelPair:
    """PaddleSeg's model and segc's for one combination, built once and shared by every
    test that compares them (tests/conftest.py's `oracle_pair` fixture).

    PaddleSeg's model is built under paddle.seed(0), with its random initial weights and
    randomised BN statistics (`randomise_batch_norm_statistics`); segc's is built without
    initialising its weights (paddle.LazyGuard), since every comparison loads PaddleSeg's
    state dict into it first (`transfer`), which is strict about names and shapes in the
    tests. A test may change either model (weights, train mode, dropout): `reset()`
    restores PaddleSeg's built weights, the dropout rates and eval mode, so that tests
    do not depend on each other's order.
    """

    def __init__(self, spec: dict, build_ours):
        self.spec = spec
        paddle.seed(0)
        self.reference = paddleseg_model(spec)
        randomise_batch_norm_statistics(self.reference)
        with paddle.LazyGuard():
            self.ours = build_ours()
        self._built_state = {k: v.numpy().copy() for k, v in self.reference.state_dict().items()}
        self._dropout_rates = [(layer, layer.p) for model in (self.reference, self.ours)
                               for layer in model.sublayers()
                               if isinstance(layer, (paddle.nn.Dropout, paddle.nn.Dropout2D))]

    def reset(self):
        """PaddleSeg's model as built, dropout rates as built, both models in eval mode;
        segc's weights are whatever they were until the next `transfer()`."""
        self.reference.set_state_dict(self._built_state)
        for layer, rate in self._dropout_rates:
            layer.p = rate
        self.reference.eval()
        self.ours.eval()
        return self

    def transfer(self):
        """PaddleSeg's current weights and statistics into segc's model."""
        self.ours.set_state_dict(self.reference.state_dict())
        return self
