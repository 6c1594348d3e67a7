"""PaddleSeg 2.8's DecoupledSegNet under Paddle 3.3.

`SqueezeBodyEdge.flow_warp` divides the float32 flow by `norm`, the feature map's
(width, height) taken from `paddle.shape`, an int64 tensor; Paddle 3.3 refuses to
promote between float and integer tensors, so the forward pass raises. While the
reference runs, `patched()` wraps `flow_warp` so that inside it (and only there) a
float tensor divided by an integer tensor divides by that tensor cast to the float
dtype, which is what older Paddle did implicitly. Every other operation, and every
division outside flow_warp, is PaddleSeg's own.
"""

from __future__ import annotations

import contextlib
import functools

import paddle
from paddleseg.models.decoupled_segnet import SqueezeBodyEdge


def _float_divisor(divide):
    @functools.wraps(divide)
    def float_divide(x, y):
        if isinstance(y, paddle.Tensor) and x.is_floating_point() and not y.is_floating_point():
            y = y.astype(x.dtype)
        return divide(x, y)

    return float_divide


@contextlib.contextmanager
def patched():
    original_warp = SqueezeBodyEdge.flow_warp

    @functools.wraps(original_warp)
    def flow_warp(self, *args, **kwargs):
        divide = paddle.Tensor.__truediv__
        paddle.Tensor.__truediv__ = _float_divisor(divide)
        try:
            return original_warp(self, *args, **kwargs)
        finally:
            paddle.Tensor.__truediv__ = divide

    SqueezeBodyEdge.flow_warp = flow_warp
    try:
        yield
    finally:
        SqueezeBodyEdge.flow_warp = original_warp
