"""The oracle: PaddleSeg 2.8 itself, and what it takes to run it under Paddle 3.3.

Tests and benchmarks compare segc with PaddleSeg through this package only:

- `paddleseg_model(spec)`: PaddleSeg's model for a combination, from segc's resolved
  spec; `ModelPair`: it and segc's model, built once for every test that compares them; `paddleseg_model_from_config(path)` / `paddleseg_config(path)`: from a PaddleSeg
  config file, without downloads (models.py, runtime.py);
- `oracle_fix(model_type)`: the context to run that model's forward pass in; the fixes
  are the explicit registry `MODEL_FIXES` (fixes/), keyed by PaddleSeg model type and
  checked against PaddleSeg's own list when this package is imported, so a misspelt key
  or a broken fix module fails loudly rather than running PaddleSeg unfixed;
- the inference, loss and trainer fixes the side-by-side benchmark needs
  (`predict_config_class`, `import_deploy_infer`, `fix_cross_entropy_loss`,
  `losses_of_shape_one`, `without_pretrained`, `RUNTIME_FIXES`; runtime.py).

Importable from the repository root as `tests.oracle` (benchmarks put the root on
sys.path). It imports PaddleSeg 2.8, installed with --no-deps by tests/run.sh.
"""

from .fixes import MODEL_FIXES, oracle_fix
from .model_types import (
    UnknownModelType,
    check_model_type,
    check_registry,
    paddleseg_model_types,
)
from .models import (
    ModelPair,
    paddleseg_model,
    paddleseg_model_from_config,
    randomise_batch_norm_statistics,
)
from .runtime import (
    CONTRIB_DATASETS,
    RUNTIME_FIXES,
    fix_cross_entropy_loss,
    import_deploy_infer,
    losses_of_shape_one,
    paddleseg_config,
    predict_config_class,
    with_generic_datasets,
    without_pretrained,
)

__all__ = [
    "CONTRIB_DATASETS",
    "MODEL_FIXES",
    "RUNTIME_FIXES",
    "ModelPair",
    "UnknownModelType",
    "check_model_type",
    "check_registry",
    "fix_cross_entropy_loss",
    "import_deploy_infer",
    "losses_of_shape_one",
    "oracle_fix",
    "paddleseg_config",
    "paddleseg_model",
    "paddleseg_model_from_config",
    "paddleseg_model_types",
    "predict_config_class",
    "randomise_batch_norm_statistics",
    "with_generic_datasets",
    "without_pretrained",
]
