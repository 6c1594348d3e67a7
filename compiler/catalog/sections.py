"""Defaults of the spec's plain sections (dataset, train, export), defined once.

The schema documents them (`default`) and the resolver fills them in, both from here.
"""

from __future__ import annotations

DATASET_DEFAULTS = {"root": "data", "ignore_index": 255, "train_list": None, "val_list": None}
TRAIN_DEFAULTS = {"save_interval": 1000, "eval_interval": 1000, "log_interval": 10,
                  "num_workers": 2, "seed": None}
EXPORT_DEFAULTS = {"output_op": "argmax"}
VAL_DEFAULTS = {"scales": [1.0], "slide": None}
