"""train.py --plot SAVE_DIR: a run's curves from its train_log.jsonl, as PNG files.

loss.png holds the training loss against the iteration (the total, and each term when
the model has several: auxiliary heads, edge losses); miou.png the validation mIoU and
pixel accuracy at each evaluation. Matplotlib draws them (imported only here: an
optional package, like PaddleSeg's VisualDL).
"""

import importlib
import os

from .errors import import_optional
from .run_log import RUN_LOG_FILE, read_run_log


def nan_for_none(value):
    """A gap in the curve where a record lacks the figure (or JSON's null for NaN)."""
    return float("nan") if value is None else value


def curve_figure(title, ylabel):
    """A matplotlib Figure with one set of axes, without pyplot (no GUI, no global state)."""
    figure = importlib.import_module("matplotlib.figure").Figure(figsize=(8, 4.5), dpi=100)
    axes = figure.subplots()
    axes.set_title(title)
    axes.set_xlabel("iteration")
    axes.set_ylabel(ylabel)
    axes.grid(alpha=0.3)
    return figure, axes


def plot_run(save_dir):
    """Write save_dir/loss.png and, when the run evaluated, save_dir/miou.png."""
    start, train, evals = read_run_log(os.path.join(save_dir, RUN_LOG_FILE))
    import_optional("matplotlib", "--plot")
    name = start.get("spec") or os.path.basename(os.path.abspath(save_dir))
    iterations = [record["iter"] for record in train]

    figure, axes = curve_figure(f"{name}: training loss", "loss")
    axes.plot(iterations, [record["loss"] for record in train], label="total", linewidth=2)
    terms = train[-1].get("loss_terms") or {}
    if len(terms) > 1:
        for term in terms:
            values = [(record.get("loss_terms") or {}).get(term) for record in train]
            axes.plot(iterations, [nan_for_none(v) for v in values], label=term, linewidth=1)
    axes.legend()
    written = [os.path.join(save_dir, "loss.png")]
    figure.savefig(written[-1])

    if evals:
        figure, axes = curve_figure(f"{name}: validation", "mIoU / accuracy")
        eval_iterations = [record["iter"] for record in evals]
        accuracy = [record.get("acc") for record in evals]
        axes.plot(eval_iterations, [record["miou"] for record in evals], "o-", label="mIoU")
        axes.plot(eval_iterations, [nan_for_none(v) for v in accuracy], "s--", label="accuracy")
        axes.set_ylim(0, 1)
        axes.legend()
        written.append(os.path.join(save_dir, "miou.png"))
        figure.savefig(written[-1])
    else:
        print("no evaluation in the run record (trained with --no-eval?): no miou.png")
    print(
        f"wrote {', '.join(written)} from {len(train)} logged iterations and "
        f"{len(evals)} evaluation(s)"
    )
