"""Let PaddleSeg 2.8's PointRend run its inference path under Paddle 3.3.

What fails: `PointHead.get_points_test` takes the number of points to refine as
`paddle.min(paddle.concat([height * width, num_points]))`. Under Paddle 2.x both were
1-element int32 tensors; under Paddle 3.3 indexing `paddle.shape(...)` gives 0-D int64
tensors, and concat refuses 0-D inputs (and mixed int64 / int32 ones).

What the fix changes: while `get_points_test` runs, and only there, `paddle.concat`
turns 0-D inputs into 1-element 1-D ones and integer inputs into int64, i.e. the
shapes and dtype Paddle 2.x had. The values are small positive counts, so the minimum
(the number of points) is the same; nothing else in PaddleSeg's model is touched.
"""

from __future__ import annotations

import contextlib
import functools

import paddle
from paddleseg.models.pointrend import PointHead


@contextlib.contextmanager
def _concat_of_scalar_integer_tensors():
    original = paddle.concat

    def concat(tensors, axis=0, name=None):
        tensors = [t.reshape([1]) if t.ndim == 0 else t for t in tensors]
        if all(not t.is_floating_point() for t in tensors):
            tensors = [t.astype("int64") for t in tensors]
        return original(tensors, axis=axis, name=name)

    paddle.concat = concat
    try:
        yield
    finally:
        paddle.concat = original


@contextlib.contextmanager
def patched():
    original = PointHead.get_points_test

    @functools.wraps(original)
    def get_points_test(self, *args, **kwargs):
        with _concat_of_scalar_integer_tensors():
            return original(self, *args, **kwargs)

    PointHead.get_points_test = get_points_test
    try:
        yield
    finally:
        PointHead.get_points_test = original
