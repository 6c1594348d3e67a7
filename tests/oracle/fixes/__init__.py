"""Fixes that let PaddleSeg 2.8's own models build and run their forward pass under
Paddle 3.3 without downloads.

A few of PaddleSeg 2.8's models fail under Paddle 3.3 (dtype promotion between int32 and
int64, float and int tensors) although their parameters build fine. For such a model
type, a module here defines `patched()`: a context manager that replaces just the
failing operation with a dtype-correct equivalent while the reference runs (or, for the
models on a VisionTransformer, is built: its init_weight needs a pretrained file). Each module
says what it changes and why; nothing here touches segc's own code.

`MODEL_FIXES` is the one list of them, keyed by PaddleSeg's model type name exactly as
its configs spell it. Its modules are imported by name below, so an error inside one
fails this import; its keys are checked against PaddleSeg's registered models when this
package is imported, so a misspelt key fails then, naming itself.
"""

from __future__ import annotations

import contextlib
from types import MappingProxyType

from ..model_types import check_model_type, check_registry
from . import decoupledsegnet, pointrend, sfnet, vision_transformer

MODEL_FIXES = MappingProxyType(check_registry({
    "DecoupledSegNet": decoupledsegnet.patched,
    "PointRend": pointrend.patched,
    "SFNet": sfnet.patched,
    # the models on PaddleSeg's VisionTransformer: building them without a checkpoint
    "SegmentationTransformer": vision_transformer.patched,
    "LinearSegmenter": vision_transformer.patched,
    "MaskSegmenter": vision_transformer.patched,
}, name="MODEL_FIXES"))


def oracle_fix(model_type: str):
    """The fix for PaddleSeg model type `model_type` (e.g. "SFNet"), as a context manager
    to run PaddleSeg's forward pass in; a context that changes nothing for a model type
    that needs none. A name that is not a PaddleSeg model type raises UnknownModelType."""
    check_model_type(model_type)
    fix = MODEL_FIXES.get(model_type)
    return fix() if fix is not None else contextlib.nullcontext()
