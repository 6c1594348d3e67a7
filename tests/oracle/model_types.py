"""PaddleSeg 2.8's model type names (what a PaddleSeg config's `model: type:` says),
so that a name the oracle is asked about is checked, never guessed at."""

from __future__ import annotations

import difflib
import functools
from collections.abc import Mapping


class UnknownModelType(KeyError):
    """A name that is not one of PaddleSeg 2.8's model types (e.g. a typo "SFnet")."""

    def __str__(self):  # KeyError would repr() the message
        return str(self.args[0])


@functools.cache
def paddleseg_model_types() -> frozenset[str]:
    """Every model type PaddleSeg 2.8 registers (its `manager.MODELS`)."""
    import paddleseg.models  # noqa: F401  (registers the models)
    from paddleseg.cvlibs import manager

    return frozenset(manager.MODELS.components_dict)


def check_model_type(model_type: str, where: str = "") -> str:
    """`model_type` itself if PaddleSeg 2.8 has a model of that exact name, else
    UnknownModelType naming it, where it came from, and the nearest real names."""
    known = paddleseg_model_types()
    if model_type in known:
        return model_type
    close = difflib.get_close_matches(str(model_type), known, n=3, cutoff=0.6)
    by_case = [name for name in known if name.lower() == str(model_type).lower()]
    hints = list(dict.fromkeys(by_case + close))
    hint = f"; did you mean {' or '.join(repr(h) for h in hints)}?" if hints else ""
    raise UnknownModelType(f"{where}{model_type!r} is not a PaddleSeg 2.8 model type{hint}")


def check_registry(registry: Mapping[str, object], name: str = "registry") -> Mapping:
    """`registry` itself if every key is a PaddleSeg 2.8 model type; otherwise
    UnknownModelType for the first key that is not (e.g. a misspelt "SFnet")."""
    for key in registry:
        check_model_type(key, where=f"{name} key ")
    return registry
