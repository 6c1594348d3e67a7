"""Let PaddleSeg 2.8's SFNet run under Paddle 3.3.

What fails: `AlignedModule.flow_warp` divides the float32 flow by the grid size, an
int64 shape tensor; Paddle 3.3 refuses float / integer tensor division (type
promotion only between floating-point types), where Paddle 2.x promoted it.

What the fix changes: while `flow_warp` runs, and only there, a float tensor divided
by an integer tensor divides by the integer cast to the float's dtype. The divisors
are feature-map heights and widths, which float32 holds exactly, so the quotient is
the one Paddle 2.x computed; nothing else in PaddleSeg's model is touched.
"""

from __future__ import annotations

import contextlib
import functools

import paddle
from paddleseg.models.sfnet import AlignedModule


@contextlib.contextmanager
def _float_division_by_integer_tensors():
    original = paddle.Tensor.__truediv__

    def divide(x, y):
        if (isinstance(y, paddle.Tensor) and x.is_floating_point()
                and not y.is_floating_point()):
            y = y.astype(x.dtype)
        return original(x, y)

    paddle.Tensor.__truediv__ = divide
    try:
        yield
    finally:
        paddle.Tensor.__truediv__ = original


@contextlib.contextmanager
def patched():
    original = AlignedModule.flow_warp

    @functools.wraps(original)
    def flow_warp(self, *args, **kwargs):
        with _float_division_by_integer_tensors():
            return original(self, *args, **kwargs)

    AlignedModule.flow_warp = flow_warp
    try:
        yield
    finally:
        AlignedModule.flow_warp = original
