"""Mixed-precision training: train.py --precision fp16|bf16 with --amp-level O1|O2.

As PaddleSeg 2.8's trainer does it for fp16, through paddle.amp: the forward pass and
the losses run under `auto_cast`, with PaddleSeg's own additions to Paddle's op lists;
fp16 scales the loss (GradScaler, dynamic, from 1024) so that small gradients survive
its narrow exponent, and O2 casts the model's parameters to half precision
(`paddle.amp.decorate`, float32 master weights in the optimizer, float32 checkpoints).
bf16 has float32's exponent range and so needs no loss scaling (PaddleSeg 2.8 has no
bf16; Paddle's auto_cast does the same with dtype bfloat16). Paddle's AMP runs on GPUs
only: on a CPU it silently does nothing, so train.py refuses the flag there.
"""

import contextlib

import numpy as np
import paddle

from .errors import fail

# What --precision may be, and the dtype auto_cast computes in.
PRECISION_DTYPES = {"fp32": "float32", "fp16": "float16", "bf16": "bfloat16"}

# PaddleSeg 2.8 (paddleseg/core/train.py) runs these in half precision on top of
# Paddle's white list (additions and batch norm are cheap and safe in fp16)...
AMP_CUSTOM_WHITE_LIST = ("elementwise_add", "batch_norm", "sync_batch_norm")
# ...and keeps bilinear resizing, which every model applies to its logits, in float32.
AMP_CUSTOM_BLACK_LIST = ("bilinear_interp_v2",)

# PaddleSeg's first loss scale for fp16; GradScaler then halves it after a step whose
# gradients overflowed (the step is skipped) and doubles it after 1000 clean ones.
AMP_INIT_LOSS_SCALING = 1024


def check_precision_device(precision, device):
    """Stop in one line when --precision asks for half precision where Paddle cannot
    compute in it: on the CPU (Paddle's AMP does nothing there) or on a GPU without
    the dtype's kernels (bf16 needs compute capability 8.0, e.g. A100, or newer)."""
    if precision == "fp32":
        return
    if device != "gpu" or not paddle.is_compiled_with_cuda():
        fail(
            f"--precision {precision} needs a GPU: install paddlepaddle-gpu and train "
            "with --device gpu, or leave --precision at fp32 on the CPU"
        )
    supported = (
        paddle.amp.is_float16_supported("gpu")
        if precision == "fp16"
        else paddle.amp.is_bfloat16_supported("gpu")
    )
    if not supported:
        fail(f"--precision {precision}: this GPU has no {PRECISION_DTYPES[precision]} kernels")


class MixedPrecision:
    """How a run computes and updates: plain float32 (`precision` "fp32"), or fp16/bf16
    under paddle.amp at `level` O1 (per-op casts by the lists) or O2 (half-precision
    parameters). One object per run, built after paddle.set_device (GradScaler enables
    itself only when the device is a GPU)."""

    def __init__(self, precision="fp32", level="O1"):
        self.precision = precision
        self.level = level
        self.enabled = precision != "fp32"
        self.scaler = (
            paddle.amp.GradScaler(init_loss_scaling=AMP_INIT_LOSS_SCALING)
            if precision == "fp16"
            else None
        )

    def autocast_arguments(self):
        """The keyword arguments of paddle.amp.auto_cast for this run."""
        return {
            "enable": self.enabled,
            "level": self.level,
            "dtype": PRECISION_DTYPES[self.precision] if self.enabled else "float16",
            "custom_white_list": set(AMP_CUSTOM_WHITE_LIST),
            "custom_black_list": set(AMP_CUSTOM_BLACK_LIST),
        }

    def autocast(self):
        """The context the forward pass and the losses run in (evaluation too: O2's
        half-precision parameters need their inputs cast)."""
        if not self.enabled:
            return contextlib.nullcontext()
        return paddle.amp.auto_cast(**self.autocast_arguments())

    def decorate(self, model, optimizer):
        """(model, optimizer), at O2 with half-precision parameters, the optimizer keeping
        float32 master weights and state dicts saved as float32, so that a checkpoint
        loads into any run; unchanged otherwise. Call it after loading a checkpoint (as
        PaddleSeg does) and before wrapping the model in paddle.DataParallel."""
        if not (self.enabled and self.level == "O2"):
            return model, optimizer
        return paddle.amp.decorate(
            models=model,
            optimizers=optimizer,
            level="O2",
            dtype=PRECISION_DTYPES[self.precision],
            save_dtype="float32",
        )

    def backward_and_step(self, loss, optimizer):
        """Backpropagate `loss` and update the parameters (the caller clears gradients).
        With fp16 the loss is scaled first, and the update unscales the gradients and is
        skipped when one overflowed; then the scale adapts."""
        if self.scaler is None:
            loss.backward()
            optimizer.step()
            return
        self.scaler.scale(loss).backward()
        self.scaler.step(optimizer)
        self.scaler.update()

    def scaler_state(self):
        """The GradScaler's state as plain JSON data for a checkpoint's meta.json (the
        scale as a float), or None when there is no scaler or it is disabled."""
        state = self.scaler.state_dict() if self.scaler is not None else {}
        if not state:
            return None
        plain = {key: value for key, value in state.items() if key != "scale"}
        return {"scale": float(np.asarray(state["scale"]).reshape(-1)[0]), **plain}

    def load_scaler_state(self, state):
        """Restore what scaler_state() returned, when this run has a scaler and the
        checkpoint one (a checkpoint of an fp32 or bf16 run starts a fresh scale)."""
        if self.scaler is None or not state:
            return
        self.scaler.load_state_dict({**state, "scale": np.array([state["scale"]], dtype="float32")})
