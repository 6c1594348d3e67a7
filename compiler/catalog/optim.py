"""Optimizers and learning-rate schedules."""

from __future__ import annotations

from .types import Arg, Component

# Adam's and AdamW's moment estimates (PaddleSeg's and Paddle's defaults).
_ADAM_MOMENT_ARGS = (
    Arg("beta1", {"type": "number", "minimum": 0, "exclusiveMaximum": 1}, 0.9,
        "Decay rate of the first-moment estimate."),
    Arg("beta2", {"type": "number", "minimum": 0, "exclusiveMaximum": 1}, 0.999,
        "Decay rate of the second-moment estimate."),
    Arg("epsilon", {"type": "number", "exclusiveMinimum": 0}, 1.0e-8,
        "Added to the denominator for numerical stability."),
)

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
    Component(
        name="Adam",
        symbol="paddle.optimizer.Adam",
        runtime_args=(("learning_rate", "lr_scheduler"), ("parameters", "model.parameters()")),
        description="Adam; weight decay is L2 regularisation added to the gradient, as "
        "PaddleSeg's Adam passes it to paddle.optimizer.Adam.",
        args=(
            *_ADAM_MOMENT_ARGS,
            Arg("weight_decay", {"type": ["number", "null"], "minimum": 0}, None,
                "L2 regularisation coefficient (null: none)."),
        ),
    ),
    Component(
        name="AdamW",
        symbol="paddle.optimizer.AdamW",
        runtime_args=(("learning_rate", "lr_scheduler"), ("parameters", "model.parameters()")),
        description="Adam with decoupled weight decay (Loshchilov and Hutter): the weights "
        "shrink by lr x weight_decay each step, apart from the gradient's moments.",
        args=(
            *_ADAM_MOMENT_ARGS,
            Arg("weight_decay", {"type": "number", "minimum": 0}, 0.01,
                "Decoupled weight-decay coefficient."),
        ),
    ),
]

# Every schedule takes these two, which train.py's --learning-rate and --warmup-iters
# override.
_BASE_LR = Arg("learning_rate", {"type": "number", "exclusiveMinimum": 0}, 0.01,
               "Base learning rate (train.py's --learning-rate overrides it).",
               runtime_override="learning_rate")
_WARMUP_ITERS = Arg("warmup_iters", {"type": "integer", "minimum": 0}, 0,
                    "Iterations of linear warm-up (0: none; train.py's --warmup-iters "
                    "overrides it).", runtime_override="warmup_iters")
_WARMUP_START_LR = Arg("warmup_start_lr", {"type": "number", "minimum": 0}, 0.0,
                       "Learning rate at the start of warm-up.")

LR_SCHEDULERS = [
    Component(
        name="PolynomialDecay",
        symbol="PolynomialLR",
        runtime_args=(("decay_steps", "iters"),),
        description="lr = (base - end) * (1 - iter / iters) ** power + end, after an optional "
        "linear warm-up.",
        args=(
            _BASE_LR,
            Arg("end_lr", {"type": "number", "minimum": 0}, 0.0, "Final learning rate."),
            Arg("power", {"type": "number", "exclusiveMinimum": 0}, 0.9, "Decay exponent."),
            _WARMUP_ITERS,
            _WARMUP_START_LR,
        ),
    ),
    Component(
        name="StepDecay",
        symbol="StepLR",
        description="lr = base * gamma ** (iter // step_size), after an optional linear "
        "warm-up (PortraitNet's recipe).",
        args=(
            _BASE_LR,
            Arg("step_size", {"type": "integer", "minimum": 1}, 1000,
                "Iterations between two decays."),
            Arg("gamma", {"type": "number", "exclusiveMinimum": 0, "maximum": 1}, 0.1,
                "Factor applied at each decay."),
            _WARMUP_ITERS,
            _WARMUP_START_LR,
        ),
    ),
]
