"""The intermediate representation: one frozen, fully defaulted record per variant.

No YAML types are left and nothing can be changed after resolution; the
renderer reads only this.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType


def freeze(value):
    """Deep-convert plain data to immutable containers."""
    if isinstance(value, dict):
        return MappingProxyType({k: freeze(v) for k, v in value.items()})
    if isinstance(value, (list, tuple)):
        return tuple(freeze(v) for v in value)
    return value


def thaw(value):
    """Inverse of freeze: plain dicts and lists again (for literals and printing)."""
    if isinstance(value, MappingProxyType):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [thaw(v) for v in value]
    return value


@dataclass(frozen=True)
class Call:
    """A catalog component with every argument resolved."""

    kind: str
    type: str  # the spec name, e.g. "ResNet50_vd"
    symbol: str  # the fragment callable, e.g. "ResNet50_vd"
    args: MappingProxyType
    overrides: MappingProxyType  # argument name -> runtime variable that may replace it
    runtime_args: tuple[tuple[str, str], ...]  # (parameter, expression) supplied at run time


@dataclass(frozen=True)
class Loss:
    call: Call
    coef: float
    target: str = "label"  # what the output is compared with: "label", or "edge" (its edge map)


@dataclass(frozen=True)
class Variant:
    arch: str  # spec `name`, e.g. "pspnet"
    name: str  # output folder, e.g. "pspnet_resnet50_vd_os8"
    title: str
    paper: str
    description: str
    spec_file: str  # as recorded in outputs, relative to the project root
    sources: tuple[tuple[str, str], ...]  # (spec or base as recorded, sha256 of its bytes)
    model: Call
    backbone: Call
    losses: tuple[Loss, ...]
    train_transforms: tuple[Call, ...]
    val_transforms: tuple[Call, ...]
    optimizer: Call
    lr_scheduler: Call
    dataset: MappingProxyType
    train: MappingProxyType
    export: MappingProxyType
    reference: MappingProxyType
    # params_m, params_total_m, gflops as `segc bench` measured them; empty until it has
    measured: MappingProxyType

    @property
    def crop_size(self):
        crops = [t.args["crop_size"] for t in self.train_transforms if "crop_size" in t.args]
        return crops[-1] if crops else None

    @property
    def normalize(self) -> MappingProxyType:
        return next(t.args for t in self.val_transforms if t.type == "Normalize")

    @property
    def needs_edge_map(self) -> bool:
        """Whether some loss trains on the label's edge map, which the data then computes."""
        return any(loss.target == "edge" for loss in self.losses)

    def plain(self) -> dict:
        """The resolved spec as plain data: the generated scripts' SPEC."""

        def call(c: Call) -> dict:
            return {"type": c.type, **thaw(c.args)}

        train = thaw(self.train)
        train["learning_rate"] = self.lr_scheduler.args["learning_rate"]
        train["crop_size"] = thaw(self.crop_size)
        return {
            "name": self.name,
            "arch": self.model.type,
            "backbone": self.backbone.type,
            "title": self.title,
            "spec_file": self.spec_file,
            "dataset": thaw(self.dataset),
            "train": train,
            "normalize": thaw(self.normalize),
            "export": thaw(self.export),
            "components": {
                "model": call(self.model),
                "backbone": call(self.backbone),
                "losses": [dict(call(loss.call), coef=loss.coef) for loss in self.losses],
                "optimizer": call(self.optimizer),
                "lr_scheduler": call(self.lr_scheduler),
                "train_transforms": [call(t) for t in self.train_transforms],
                "val_transforms": [call(t) for t in self.val_transforms],
            },
            "reference": thaw(self.reference),
        }
