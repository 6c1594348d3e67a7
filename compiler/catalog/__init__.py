"""The catalog of components a spec may name.

It is the single source of truth the schema's enums, the semantic checks and
the renderer all read: a name cannot exist in one place and be missing in
another. Each entry says which fragment symbol implements it, its arguments
(with JSON Schema, default and description) and what it needs from others.

Entries live in one module per kind of shared part (backbones, losses, data,
optimisation) and one per architecture family (`classic`, `deeplab`,
`attention`, `context`, `pyramid`); a family module lists its models and any
losses or transforms only that family uses, under the names below.
"""

from __future__ import annotations

from . import (
    attention,
    backbones,
    classic,
    context,
    data,
    ddrnet,
    deeplab,
    hardnet,
    hrnet_heads,
    losses,
    mla_transformer,
    optim,
    portrait,
    pyramid,
    segformer,
    segmenter,
    setr,
    small_nets,
    stdc,
    two_branch,
    u2nets,
    unet_variants,
    unets,
)
from .types import Arg, Component, ExtraOutput, Requirement, defaults

__all__ = [
    "BACKBONES",
    "DATASETS",
    "KINDS",
    "LOSSES",
    "LR_SCHEDULERS",
    "MODELS",
    "OPTIMIZERS",
    "TRANSFORMS",
    "Arg",
    "Component",
    "ExtraOutput",
    "Requirement",
    "defaults",
]

_MODULES = (backbones, losses, data, optim, classic, deeplab, attention, context, pyramid, unets,
            hardnet, ddrnet, two_branch, stdc, hrnet_heads, portrait, small_nets, u2nets,
            unet_variants, segformer, segmenter, setr, mla_transformer)


def _collect(attribute: str) -> dict[str, Component]:
    """Every module's `attribute` list merged into one name -> component map."""
    found: dict[str, Component] = {}
    for module in _MODULES:
        for component in getattr(module, attribute, ()):
            if component.name in found:
                raise ValueError(f"catalog: '{component.name}' is listed twice "
                                 f"(again in {module.__name__})")
            found[component.name] = component
    return found


BACKBONES = _collect("BACKBONES")
MODELS = _collect("MODELS")
LOSSES = _collect("LOSSES")
TRANSFORMS = _collect("TRANSFORMS")
OPTIMIZERS = _collect("OPTIMIZERS")
LR_SCHEDULERS = _collect("LR_SCHEDULERS")
DATASETS = _collect("DATASETS")

KINDS = {
    "backbone": BACKBONES,
    "model": MODELS,
    "loss": LOSSES,
    "transform": TRANSFORMS,
    "optimizer": OPTIMIZERS,
    "lr_scheduler": LR_SCHEDULERS,
    "dataset": DATASETS,
}
