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
    title: str  # the architecture's display name, e.g. "PSPNet"
    variant_title: str | None  # a variant's own display name (SegFormer-B0), if it has one
    paper: str
    description: str
    spec_file: str  # as recorded in outputs, relative to the project root
    sources: tuple[tuple[str, str], ...]  # (spec or base as recorded, sha256 of its bytes)
    model: Call
    backbone: Call | None  # None: the model has no separate backbone
    losses: tuple[Loss, ...]
    train_transforms: tuple[Call, ...]
    val_transforms: tuple[Call, ...]
    eval_scales: tuple[float, ...]  # evaluation at these input scales, logits averaged
    # sliding-window evaluation ({crop_size, stride}, [width, height] each), or None: the
    # whole image at once
    eval_slide: MappingProxyType | None
    optimizer: Call
    lr_scheduler: Call
    dataset: MappingProxyType
    train: MappingProxyType
    export: MappingProxyType
    reference: MappingProxyType
    # params_m, params_total_m, gflops as `segc bench` measured them; empty until it has
    measured: MappingProxyType

    @property
    def display_title(self) -> str:
        """How a person names this combination: "PSPNet (ResNet50_vd)", "SegFormer-B0"."""
        if self.variant_title:
            return self.variant_title
        return f"{self.title} ({self.backbone.type})" if self.backbone else self.title

    @property
    def train_size(self):
        """[width, height] of the training input: the transform argument `--crop-size`
        replaces (a crop, or a resize target); None when no transform fixes it."""
        sizes = [value for t in self.train_transforms for arg, value in t.args.items()
                 if t.overrides.get(arg) == "crop_size"]
        return sizes[-1] if sizes else None

    @property
    def needs_edge_map(self) -> bool:
        """Whether some loss trains on the label's edge map, which the data then computes."""
        return any(loss.target == "edge" for loss in self.losses)

    def train_spec(self) -> dict:
        """train.py's SPEC: what its training loop reads, nothing more."""
        train = thaw(self.train)
        train["learning_rate"] = self.lr_scheduler.args["learning_rate"]
        train["warmup_iters"] = self.lr_scheduler.args.get("warmup_iters", 0)
        train["crop_size"] = thaw(self.train_size)
        return {
            "name": self.name,
            "title": self.display_title,
            "spec_file": self.spec_file,
            "dataset": thaw(self.dataset),
            "train": train,
            "val": {"scales": list(self.eval_scales), "slide": thaw(self.eval_slide)},
        }

    def export_spec(self) -> dict:
        """export.py's SPEC: the class count, the output op and deploy.yaml's transforms."""
        return {
            "name": self.name,
            "dataset": {"num_classes": self.dataset["num_classes"]},
            "export": thaw(self.export),
            "val_transforms": [_plain_call(t) for t in self.val_transforms],
        }

    def infer_spec(self) -> dict:
        """infer.py's SPEC: only the name (deploy.yaml carries the rest)."""
        return {"name": self.name}

    def plain(self) -> dict:
        """The whole resolved spec as plain data (`segc show`, tests)."""
        train = thaw(self.train)
        train["learning_rate"] = self.lr_scheduler.args["learning_rate"]
        train["warmup_iters"] = self.lr_scheduler.args.get("warmup_iters", 0)
        train["crop_size"] = thaw(self.train_size)
        return {
            "name": self.name,
            "arch": self.model.type,
            "backbone": self.backbone.type if self.backbone else None,
            "title": self.display_title,
            "spec_file": self.spec_file,
            "dataset": thaw(self.dataset),
            "train": train,
            "val": {"scales": list(self.eval_scales), "slide": thaw(self.eval_slide)},
            "export": thaw(self.export),
            "components": {
                "model": _plain_call(self.model),
                "backbone": _plain_call(self.backbone) if self.backbone else None,
                "losses": [dict(_plain_call(loss.call), coef=loss.coef) for loss in self.losses],
                "optimizer": _plain_call(self.optimizer),
                "lr_scheduler": _plain_call(self.lr_scheduler),
                "train_transforms": [_plain_call(t) for t in self.train_transforms],
                "val_transforms": [_plain_call(t) for t in self.val_transforms],
            },
            "reference": thaw(self.reference),
        }


def _plain_call(c: Call) -> dict:
    return {"type": c.type, **thaw(c.args)}
