"""Measured model figures for the model cards: `zoo_specs/measured.json`.

Parameters and GFLOPs at 1x3x512x1024 are facts about a combination's model, the same
on every machine, but measuring them takes a forward pass at full size (about 45 s for a
ResNet101 model on two CPU cores): far too slow for `segc compile`. So `segc bench`
records them in this file beside the specs (it ships with them), and the compiler reads
it to put the figures in each model card. Latencies depend on the machine and stay in
the bench results file and the zoo page.

Shared ground below the pipeline stages: no stage is imported here.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

FIGURES_FILE = "measured.json"
FIGURES_FORMAT = "segc-model-figures"
ABOUT = ("Parameters and GFLOPs of each combination's model as `segc bench` measured them "
         "(eval mode, paddle.flops conventions, input 1x3x512x1024); the model cards show "
         "them. Written by `segc bench`; do not edit.")


def figures_path(zoo: Path) -> Path:
    return zoo / FIGURES_FILE


def load_figures(zoo: Path) -> dict[str, dict]:
    """{combination: {"params_m", "params_total_m", "gflops"}}; empty without the file."""
    path = figures_path(zoo)
    if not path.is_file():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    if data.get("format") != FIGURES_FORMAT:
        raise ValueError(f"{path}: not a {FIGURES_FORMAT} file")
    return data["combinations"]


def entry_figures(entry: dict) -> dict | None:
    """The card figures of one `segc bench` results entry, or None when it has no FLOPs."""
    if not entry.get("flops") or entry["params"].get("eval") is None:
        return None
    return {"params_m": round(entry["params"]["eval"] / 1e6, 2),
            "params_total_m": round(entry["params"]["total"] / 1e6, 2),
            "gflops": round(entry["flops"]["flops"] / 1e9, 2)}


def figures_text(figures: dict[str, dict]) -> str:
    return json.dumps({"format": FIGURES_FORMAT, "about": ABOUT,
                       "input_shape": [1, 3, 512, 1024],
                       "combinations": dict(sorted(figures.items()))}, indent=2) + "\n"


def update_figures(zoo: Path, entries: list[dict]) -> Path | None:
    """Merge the figures of bench entries measured at 1x3x512x1024 into the file; its path
    when anything changed."""
    figures = dict(load_figures(zoo))
    for entry in entries:
        card = entry_figures(entry)
        if card is not None and entry["settings"]["input_shape"] == [1, 3, 512, 1024]:
            figures[entry["combination"]] = card
    text = figures_text(figures)
    path = figures_path(zoo)
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return None
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path
