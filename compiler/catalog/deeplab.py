"""DeepLabV3, DeepLabV3P, GSCNN and DecoupledSegNet: ASPP-based heads on dilated ResNet-vd."""

from __future__ import annotations

MODELS = []
