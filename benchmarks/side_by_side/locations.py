"""Where the side-by-side benchmark finds and puts things: the repository, its entry
script (which children are started through), the results, and PaddleSeg's configs.

No absolute path is written in here: everything is found relative to the repository,
or named by a flag or an environment variable.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent
ENTRY_SCRIPT = REPO / "benchmarks" / "vs_paddleseg.py"
DEFAULT_OUTPUT = REPO / "benchmarks" / "results" / "vs_paddleseg.json"
DEFAULT_DOCS = REPO / "docs" / "vs_paddleseg.md"
CONFIGS_VARIABLE = "SEGC_PADDLESEG_CONFIGS"
# Where this workplace keeps a copy of PaddleSeg's configs: `shared/` beside the repository
SHARED_CONFIGS = REPO.parent / "shared" / "paddleseg" / "configs"
CONFIGS_DEFAULT_HELP = (f"<--paddleseg-repo>/configs, else ${CONFIGS_VARIABLE}, else "
                        "../shared/paddleseg/configs beside this repository")


def configs_folder(named: Path | None, paddleseg_repo: Path) -> Path:
    """PaddleSeg's configs folder: `named` (--paddleseg-configs) when given, else the
    first folder of CONFIGS_DEFAULT_HELP that exists; a one-line exit when none does."""
    if named is not None:
        if not named.is_dir():
            raise SystemExit(f"--paddleseg-configs {named}: no such folder")
        return named
    candidates = [paddleseg_repo / "configs"]
    if os.environ.get(CONFIGS_VARIABLE):
        candidates.append(Path(os.environ[CONFIGS_VARIABLE]))
    candidates.append(SHARED_CONFIGS)
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    raise SystemExit(f"PaddleSeg's configs: none of {', '.join(map(str, candidates))} is a "
                     f"folder; pass --paddleseg-configs or set ${CONFIGS_VARIABLE}")


def find_config(configs: Path, name: str) -> Path:
    found = sorted(configs.rglob(name))
    if not found:
        raise SystemExit(f"{name}: not found under {configs}; pass --paddleseg-configs")
    return found[0]

