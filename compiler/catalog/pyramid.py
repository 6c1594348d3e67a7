"""SFNet, PFPNNet, PointRend and DMNet: feature-pyramid, point-refinement and multi-scale heads."""

from __future__ import annotations

MODELS = []
