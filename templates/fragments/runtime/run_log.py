"""The record of a training run, for programs and plots rather than for the eye.

train.py appends to `train_log.jsonl` in its --save-dir one JSON object per line,
written and flushed as it happens (a crash keeps every line before it), by the first
process only:

    {"event": "start", "start_iter": 0, "spec": ..., "paddle": ..., "args": {...}, ...}
    {"event": "train", "iter": 10, "epoch": 1, "loss": 0.93, "loss_terms": {...}, "lr": ...,
     "batch_cost": ..., "reader_cost": ..., "ips": ..., "memory_mb": ..., "eta_s": ...}
    {"event": "eval", "iter": 50, "miou": 0.41, "acc": 0.88, "kappa": 0.7, "class_iou": [...]}

A resumed run appends its own "start" record (its `start_iter` is the checkpoint's
iteration) and goes on from there. With --use-vdl the same scalars also go to VisualDL
(<save-dir>/vdl, under PaddleSeg's tags: Train/loss, Train/loss_0..., Train/lr,
Train/batch_cost, Train/reader_cost, Evaluate/mIoU, Evaluate/Acc).
"""

import datetime
import importlib
import json
import math
import os
import sys

import numpy as np
import paddle

from .errors import fail, import_optional

# The run record's file name in the save directory.
RUN_LOG_FILE = "train_log.jsonl"
# VisualDL's folder in the save directory (`visualdl --logdir output/vdl` shows it).
VDL_FOLDER = "vdl"


def json_value(value):
    """`value` as strict JSON data: numpy scalars and arrays as Python numbers and lists,
    NaN and infinities as null (JSON has no spelling for them)."""
    if isinstance(value, dict):
        return {str(key): json_value(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_value(item) for item in value]
    if hasattr(value, "tolist"):  # a numpy scalar or array
        return json_value(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def loss_term_names(losses):
    """One name per (loss, coefficient, target) of build_losses: the loss's class and the
    index of the model output it scores, e.g. CrossEntropyLoss_0, CrossEntropyLoss_1."""
    return [f"{type(loss_fn).__name__}_{index}" for index, (loss_fn, _, _) in enumerate(losses)]


def peak_memory_mb(device):
    """The most memory this process has held so far, in MiB: what Paddle allocated on the
    GPU, or on the CPU the peak resident set size (None where the OS cannot say)."""
    if device == "gpu":
        return paddle.device.cuda.max_memory_allocated() / 2**20
    try:
        resource = importlib.import_module("resource")  # Unix only
    except ImportError:
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10  # bytes there, KiB here


class LogWindow:
    """The iterations since the last log line: their losses and timings, to average."""

    def __init__(self):
        self.losses, self.terms, self.batch_costs, self.reader_costs = [], [], [], []

    def add(self, loss, terms, batch_cost, reader_cost):
        """One iteration: its total loss, its weighted loss terms, its seconds in all
        (`batch_cost`) and waiting for its batch (`reader_cost`)."""
        self.losses.append(loss)
        self.terms.append(terms)
        self.batch_costs.append(batch_cost)
        self.reader_costs.append(reader_cost)

    def summary(self):
        return {
            "loss": float(np.mean(self.losses)),
            "terms": [float(v) for v in np.mean(self.terms, axis=0)],
            "batch_cost": float(np.mean(self.batch_costs)),
            "reader_cost": float(np.mean(self.reader_costs)),
        }


class RunRecord:
    """train_log.jsonl of one run (appended to), and VisualDL's scalars when `visualdl`
    (the imported package) is given."""

    def __init__(self, save_dir, visualdl=None):
        self.path = os.path.join(save_dir, RUN_LOG_FILE)
        os.makedirs(save_dir, exist_ok=True)
        # a run killed in the middle of a line leaves it unfinished: end it, so that
        # this run's first record starts a line of its own (readers skip the broken one)
        ends_cleanly = True
        if os.path.isfile(self.path) and os.path.getsize(self.path) > 0:
            with open(self.path, "rb") as f:
                f.seek(-1, os.SEEK_END)
                ends_cleanly = f.read(1) == b"\n"
        self.file = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - kept open for the run
        if not ends_cleanly:
            self.file.write("\n")
        self.vdl = None
        if visualdl is not None:
            self.vdl = visualdl.LogWriter(logdir=os.path.join(save_dir, VDL_FOLDER))

    def write(self, event, **fields):
        record = {"event": event, **fields}
        record["time"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
        self.file.write(json.dumps(json_value(record), allow_nan=False) + "\n")
        self.file.flush()

    def start(self, **fields):
        """The run's settings: where it starts (`start_iter`), its arguments, versions."""
        self.write("start", paddle=paddle.__version__, **fields)

    def train(self, iteration, epoch, loss, loss_terms, lr, batch_cost, reader_cost, **fields):
        """One logged iteration: the losses averaged over the iterations since the last
        log, each term weighted by its coefficient (they add up to `loss`)."""
        self.write(
            "train",
            iter=iteration,
            epoch=epoch,
            loss=loss,
            loss_terms=loss_terms,
            lr=lr,
            batch_cost=batch_cost,
            reader_cost=reader_cost,
            **fields,
        )
        if self.vdl is not None:
            self.vdl.add_scalar("Train/loss", loss, iteration)
            if len(loss_terms) > 1:  # PaddleSeg's tags: loss_<index>
                for index, value in enumerate(loss_terms.values()):
                    self.vdl.add_scalar(f"Train/loss_{index}", value, iteration)
            self.vdl.add_scalar("Train/lr", lr, iteration)
            self.vdl.add_scalar("Train/batch_cost", batch_cost, iteration)
            self.vdl.add_scalar("Train/reader_cost", reader_cost, iteration)

    def evaluation(self, iteration, metrics):
        """One evaluation (segmentation_metrics' figures)."""
        self.write(
            "eval",
            iter=iteration,
            miou=metrics["miou"],
            acc=metrics["accuracy"],
            kappa=metrics["kappa"],
            class_iou=metrics["class_iou"],
            class_precision=metrics["class_precision"],
        )
        if self.vdl is not None:
            self.vdl.add_scalar("Evaluate/mIoU", metrics["miou"], iteration)
            self.vdl.add_scalar("Evaluate/Acc", metrics["accuracy"], iteration)

    def close(self):
        self.file.close()
        if self.vdl is not None:
            self.vdl.close()


def open_visualdl():
    """The visualdl package for --use-vdl, or one line saying how to install it."""
    return import_optional("visualdl", "--use-vdl")


def read_run_log(path):
    """(last start record, train records, eval records) of a train_log.jsonl, by
    iteration, as the run that wrote the last of them got there.

    Iterations can be logged more than once: a run killed after iteration 7 and resumed
    from its checkpoint at 5 logs 6 and 7 again. A "start" record at iteration k ends
    what earlier runs logged after k (that timeline was abandoned), and of two records
    of one iteration the later wins. A line a crash cut short is skipped, saying so.
    """
    if not os.path.isfile(path):
        fail(f"{path}: no such run record; pass the --save-dir of a training run")
    start, train, evals = {}, {}, {}
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                event, iteration = record["event"], int(record.get("iter", 0))
                # the figures a plot needs are numbers
                float(record["loss"] if event == "train" else record.get("miou", 0))
            except (ValueError, KeyError, TypeError, AttributeError):
                print(f"warning: {path}:{number} is not a run record; skipped")
                continue
            if event == "start":
                start, resumed_at = record, int(record.get("start_iter") or 0)
                for records in (train, evals):
                    for later in [i for i in records if i > resumed_at]:
                        del records[later]
            elif event == "train":
                train[iteration] = record
            elif event == "eval":
                evals[iteration] = record
    if not train:
        fail(f"{path}: no training iteration logged yet; train first, then plot")
    return start, [train[i] for i in sorted(train)], [evals[i] for i in sorted(evals)]
