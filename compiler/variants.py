"""How a spec's variants are read: shared ground for the validator, resolver and CLI.

A spec lists its variants; each is a backbone, a named set of model arguments (SegFormer
B0-B5), or both. These helpers say what a variant sees once its overrides are merged
and which output folder it compiles to; they know nothing of the stages that use them.
"""

from __future__ import annotations

from . import catalog

# Spec sections a variant may override (mappings merge key by key; lists are replaced).
OVERRIDABLE = ("model", "loss", "optimizer", "lr_scheduler", "train")


def variant_sections(data: dict, index: int) -> dict:
    """The spec as one variant sees it: its section overrides merged over the spec's."""
    variant = data["variants"][index]
    effective = {k: v for k, v in data.items() if k != "variants"}
    for section in OVERRIDABLE:
        if section in variant:
            base, override = effective.get(section), variant[section]
            if isinstance(base, dict) and isinstance(override, dict):
                effective[section] = {**base, **override}
            else:
                effective[section] = override
    effective["backbone"] = variant.get("backbone")
    return effective


def where(data: dict, index: int, section: str) -> tuple:
    """JSON path of `section` as written: in the variant when it overrides it."""
    if section == "backbone" or section in data["variants"][index]:
        return ("variants", index, section)
    return (section,)


def output_name(data: dict, index: int) -> str:
    """Output folder of a variant: its `name`; else <spec name>_<backbone>[_os<N>] when it
    has a backbone; else the spec's name (a model without a backbone, one variant)."""
    variant = data["variants"][index]
    if "name" in variant:
        return variant["name"]
    if not variant.get("backbone"):
        return data["name"]
    component = catalog.BACKBONES[variant["backbone"]["type"]]
    args = {**catalog.defaults(component), **variant["backbone"]}
    name = f"{data['name']}_{component.name.lower()}"
    if args.get("output_stride"):
        name += f"_os{args['output_stride']}"
    return name
