"""ENCNet, FastFCN, GloRe, GINet and EMANet: context encoding, graph reasoning and EM attention heads."""

from __future__ import annotations

MODELS = []
