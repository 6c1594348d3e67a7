"""Optimizers and learning-rate schedules."""

from __future__ import annotations

from .types import Arg, Component

OPTIMIZERS = [
    Component(
        name="SGD",
        symbol="paddle.optimizer.Momentum",
        runtime_args=(("learning_rate", "lr_scheduler"), ("parameters", "model.parameters()")),
        description="Stochastic gradient descent with momentum and L2 weight decay.",
        args=(
            Arg("momentum", {"type": "number", "minimum": 0, "maximum": 1}, 0.9, "Momentum."),
            Arg("weight_decay", {"type": "number", "minimum": 0}, 4.0e-5,
                "L2 regularisation coefficient."),
        ),
    ),
]

LR_SCHEDULERS = [
    Component(
        name="PolynomialDecay",
        symbol="PolynomialLR",
        runtime_args=(("decay_steps", "iters"),),
        description="lr = (base - end) * (1 - iter / iters) ** power + end, after an optional "
        "linear warm-up.",
        args=(
            Arg("learning_rate", {"type": "number", "exclusiveMinimum": 0}, 0.01,
                "Base learning rate (train.py's --learning-rate overrides it).",
                runtime_override="learning_rate"),
            Arg("end_lr", {"type": "number", "minimum": 0}, 0.0, "Final learning rate."),
            Arg("power", {"type": "number", "exclusiveMinimum": 0}, 0.9, "Decay exponent."),
            Arg("warmup_iters", {"type": "integer", "minimum": 0}, 0,
                "Iterations of linear warm-up (0: none; train.py's --warmup-iters "
                "overrides it).", runtime_override="warmup_iters"),
            Arg("warmup_start_lr", {"type": "number", "minimum": 0}, 0.0,
                "Learning rate at the start of warm-up."),
        ),
    ),
]
