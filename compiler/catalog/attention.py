"""ANN, DANet, DNLNet, GCNet, ISANet and CCNet: non-local and attention context heads on dilated ResNet-vd."""

from __future__ import annotations

MODELS = []
