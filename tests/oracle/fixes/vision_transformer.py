"""Let PaddleSeg 2.8's VisionTransformer build without a pretrained file.

What fails: `VisionTransformer.init_weight` loads the pretrained weights (a no-op for
`pretrained=None`), then resizes the checkpoint's position embedding, starting with
`os.path.exists(self.pretrained)`, which raises TypeError for None. So every model on it
(SETR, Segmenter) fails to build from random weights, as the oracle builds them
(`without_pretrained`, or segc's resolved arguments, which name no checkpoint).

What the fix changes: while the model is built (paddleseg_model and
paddleseg_model_from_config build under `oracle_fix`), `init_weight` of a backbone whose
`pretrained` is None does nothing, which is what it would do after the no-op load; with a
pretrained path it runs PaddleSeg's own. The weights are the constructor's random ones,
exactly as built; the forward pass is untouched.
"""

from __future__ import annotations

import contextlib
import functools

from paddleseg.models.backbones.vision_transformer import VisionTransformer


@contextlib.contextmanager
def patched():
    original = VisionTransformer.init_weight

    @functools.wraps(original)
    def init_weight(self):
        if self.pretrained is not None:
            original(self)

    VisionTransformer.init_weight = init_weight
    try:
        yield
    finally:
        VisionTransformer.init_weight = original
