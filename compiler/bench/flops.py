"""Model figures the way PaddleSeg's model zoo reports them: paddle.flops conventions.

paddle.flops (Paddle 3.3) calls int() on 1-element tensors, which numpy 2
refuses; `paddle_flops` lifts that for the duration of the call only, instead
of pinning numpy < 2 for everyone.
"""

from __future__ import annotations

import contextlib
import io
import re

_TOTALS = re.compile(r"Total Flops: (\d+)\s+Total Params: (\d+)")


@contextlib.contextmanager
def _int_of_one_element_tensors():
    import numpy as np
    import paddle

    original = paddle.Tensor.__int__

    def to_int(tensor):
        return int(np.asarray(tensor).reshape(-1)[0]) if tensor.size == 1 else original(tensor)

    paddle.Tensor.__int__ = to_int
    try:
        yield
    finally:
        paddle.Tensor.__int__ = original


def paddle_flops(model, input_shape=(1, 3, 512, 1024)) -> tuple[int, int]:
    """(FLOPs, parameters) of `model` in eval mode, exactly as paddle.flops counts them.

    Parameters are those of the layers an eval forward pass runs; FLOPs count a
    multiply-add as one operation (PaddleSeg's GFLOPs figures use this convention).
    """
    import paddle

    printed = io.StringIO()
    with _int_of_one_element_tensors(), contextlib.redirect_stdout(printed):
        flops = paddle.flops(model, list(input_shape), print_detail=False)
    match = _TOTALS.search(printed.getvalue())
    if match is None:
        raise RuntimeError("paddle.flops printed no totals; its output format changed")
    return int(flops), int(match.group(2))
