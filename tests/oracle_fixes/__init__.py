"""Fixes that let PaddleSeg 2.8's own forward pass run under Paddle 3.3, inside tests only.

A few of PaddleSeg 2.8's models fail under Paddle 3.3 (dtype promotion between int32 and
int64, float and int tensors) although their parameters build fine. For such a model
type, `tests/oracle_fixes/<model type, lower case>.py` defines `patched()`: a context
manager that replaces just the failing operation with a dtype-correct equivalent while
the reference runs. Each module says what it changes and why; nothing here touches
segc's own code.
"""

from __future__ import annotations

import contextlib
import importlib


def oracle_fix(model_type: str):
    """The fix for `model_type` (e.g. "SFNet"), or a context that changes nothing."""
    try:
        module = importlib.import_module(f"{__name__}.{model_type.lower()}")
    except ModuleNotFoundError:
        return contextlib.nullcontext()
    return module.patched()
