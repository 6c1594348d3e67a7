"""The training loop behind every generated train.py."""

import argparse
import collections
import itertools
import json
import math
import multiprocessing
import os
import random
import re
import shutil
import time
import warnings

import cv2
import numpy as np
import paddle

from ..data.data_check import DATA_CHECK_AT_START, report_data_check
from ..data.datasets import SegDataError, load_dataset
from .errors import fail, stop
from .evaluation import dataset_class_names, evaluate
from .precision import PRECISION_DTYPES, MixedPrecision, check_precision_device
from .run_log import LogWindow, RunRecord, loss_term_names, open_visualdl, peak_memory_mb
from .run_plot import plot_run

# iter_N checkpoints a save directory keeps by default (best_model apart), as PaddleSeg.
KEEP_CHECKPOINT_MAX = 5


def check_dataset_overrides(parser, args):
    """--num-classes and --ignore-index, for your own data (train.py, evaluate.py)."""
    if args.num_classes is not None and not 2 <= args.num_classes <= 256:
        parser.error("--num-classes must be between 2 and 256 (labels are 8-bit images)")
    if args.ignore_index is not None and not 0 <= args.ignore_index <= 255:
        parser.error("--ignore-index must be a label value, 0 to 255")
    if args.data == "demo" and (args.num_classes, args.ignore_index) != (None, None):
        parser.error(
            "--num-classes and --ignore-index are for your own data; "
            "the demo data has its own classes"
        )


def argparse_literal(text):
    """`text` shown as written in --help: argparse %-formats a description that contains
    "%(prog)", which a spec's title may (then every % must be doubled)."""
    return text.replace("%", "%%") if "%(prog)" in text else text


def train_arguments(spec, argv):
    train = spec["train"]
    parser = argparse.ArgumentParser(
        description=argparse_literal(
            f"Train {spec['title']} as {spec['spec_file']} describes it; flags override the spec."
        )
    )
    parser.add_argument(
        "--data",
        default=spec["dataset"]["root"],
        help="dataset root folder, or 'demo' for the built-in demo data (default: %(default)s)",
    )
    parser.add_argument(
        "--train-list",
        help="PaddleSeg file list for training ('image label' per line, relative to --data)",
    )
    parser.add_argument("--val-list", help="PaddleSeg file list for evaluation")
    parser.add_argument(
        "--num-classes",
        type=int,
        help=f"classes of your data (default: the spec's {spec['dataset']['num_classes']});"
        " recorded in checkpoints, which export.py reads",
    )
    parser.add_argument(
        "--ignore-index",
        type=int,
        help="label value left out of loss and metrics "
        f"(default: the spec's {spec['dataset']['ignore_index']})",
    )
    parser.add_argument(
        "--iters",
        type=int,
        default=train["iters"],
        help="training iterations (default: %(default)s)",
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=train["batch_size"],
        help="images per iteration and process (default: %(default)s)",
    )
    parser.add_argument(
        "--learning-rate",
        type=float,
        default=None,
        help=f"base learning rate (default: {train['learning_rate']})",
    )
    parser.add_argument(
        "--warmup-iters",
        type=int,
        default=None,
        help=f"learning-rate warm-up iterations (default: {train['warmup_iters']})",
    )
    parser.add_argument(
        "--crop-size",
        type=int,
        nargs=2,
        metavar=("W", "H"),
        help=f"training crop (default: {train['crop_size']})",
    )
    parser.add_argument(
        "--save-dir", default="output", help="checkpoints and the run record, train_log.jsonl"
    )
    parser.add_argument("--save-interval", type=int, default=train["save_interval"])
    parser.add_argument("--eval-interval", type=int, default=train["eval_interval"])
    parser.add_argument("--log-interval", type=int, default=train["log_interval"])
    parser.add_argument("--no-eval", action="store_true", help="skip evaluation")
    parser.add_argument(
        "--keep-checkpoint-max",
        type=int,
        default=KEEP_CHECKPOINT_MAX,
        metavar="N",
        help="keep the newest N iter_* checkpoints (best_model always stays; 0 keeps all; "
        "default: %(default)s)",
    )
    parser.add_argument(
        "--precision",
        choices=list(PRECISION_DTYPES),
        default="fp32",
        help="fp16 or bf16: mixed precision through paddle.amp, on a GPU (default: %(default)s)",
    )
    parser.add_argument(
        "--amp-level",
        choices=["O1", "O2"],
        default="O1",
        help="with --precision fp16/bf16: O1 casts op by op (Paddle's lists), O2 keeps the "
        "parameters in half precision too (default: %(default)s)",
    )
    parser.add_argument(
        "--use-vdl",
        action="store_true",
        help="also write VisualDL scalars to SAVE_DIR/vdl (pip install visualdl)",
    )
    parser.add_argument(
        "--plot",
        metavar="SAVE_DIR",
        help="draw loss.png and miou.png in SAVE_DIR from its train_log.jsonl (pip install "
        "matplotlib), then stop: nothing is trained",
    )
    parser.add_argument(
        "--check-data",
        action="store_true",
        help="read every image and label of the training and validation data, report each "
        "problem (one line naming the file) and the label values, then stop: exit 0 when "
        "the data are fine, else 2 (every run checks its first samples anyway)",
    )
    parser.add_argument(
        "--eval-scales",
        type=float,
        nargs="+",
        metavar="S",
        default=spec["val"]["scales"],
        help="evaluate at these input scales, logits averaged (default: %(default)s)",
    )
    slide = spec["val"]["slide"]
    parser.add_argument(
        "--eval-whole-image",
        action="store_true",
        help="evaluate each image at once"
        + (
            ""
            if slide is None
            else ", not in the spec's sliding {}x{} windows every {}x{} pixels".format(
                *slide["crop_size"], *slide["stride"]
            )
        ),
    )
    parser.add_argument(
        "--resume",
        metavar="DIR",
        help="continue from the latest checkpoint in DIR (a --save-dir) "
        "or from one checkpoint folder",
    )
    parser.add_argument(
        "--pretrained",
        metavar="PDPARAMS",
        help="initial weights: a full-model or a backbone state dict",
    )
    parser.add_argument(
        "--num-workers",
        type=int,
        default=train["num_workers"],
        help="data-loading processes (default: %(default)s)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=train["seed"],
        help="seed for initialisation, shuffling and augmentation",
    )
    parser.add_argument(
        "--device",
        choices=["cpu", "gpu"],
        default="gpu" if paddle.is_compiled_with_cuda() else "cpu",
    )
    args = parser.parse_args(argv)
    for flag in ("iters", "batch_size", "save_interval", "eval_interval", "log_interval"):
        if getattr(args, flag) < 1:
            parser.error(f"--{flag.replace('_', '-')} must be at least 1")
    if args.learning_rate is not None and not (
        math.isfinite(args.learning_rate) and args.learning_rate > 0
    ):
        parser.error("--learning-rate must be a positive finite number")
    check_dataset_overrides(parser, args)
    if args.warmup_iters is not None and args.warmup_iters < 0:
        parser.error("--warmup-iters must be 0 or more")
    if args.crop_size is not None and min(args.crop_size) < 1:
        parser.error("--crop-size must be two positive integers W H")
    if not all(0 < scale <= 4 for scale in args.eval_scales):
        parser.error("--eval-scales must be numbers in (0, 4]")
    if args.keep_checkpoint_max < 0:
        parser.error("--keep-checkpoint-max must be 0 (keep all) or more")
    if args.amp_level == "O2" and args.precision == "fp32":
        parser.error("--amp-level O2 needs --precision fp16 or bf16")
    return args


class TrainBatchSampler:
    """Endless, seeded, resumable batches of sample keys for one process.

    The sample stream is epoch after epoch of a seeded permutation of the
    dataset; key = epoch * len(dataset) + index, which the dataset turns into a
    sample and its augmentation seed. Each iteration takes batch_size * world
    consecutive keys and this process takes its share, so a resumed run sees
    exactly the batches the interrupted one would have seen.
    """

    def __init__(self, num_samples, batch_size, seed, rank=0, world_size=1, start_iter=0):
        self.num_samples = num_samples
        self.batch_size = batch_size
        self.seed = seed
        self.rank = rank
        self.world_size = world_size
        self.start_iter = start_iter

    def __iter__(self):
        per_iter = self.batch_size * self.world_size
        position = self.start_iter * per_iter
        epoch, permutation = -1, None
        while True:
            keys = []
            for offset in range(position, position + per_iter):
                if offset // self.num_samples != epoch:
                    epoch = offset // self.num_samples
                    rng = np.random.default_rng([self.seed, epoch])
                    permutation = rng.permutation(self.num_samples)
                keys.append(epoch * self.num_samples + int(permutation[offset % self.num_samples]))
            position += per_iter
            yield keys[self.rank * self.batch_size : (self.rank + 1) * self.batch_size]


# The dataset a loader worker reads from, set once per worker process.
LOADER_DATASET = None


def start_loader_worker(dataset):
    global LOADER_DATASET  # one dataset per worker process
    LOADER_DATASET = dataset
    cv2.setNumThreads(1)  # the workers already use the cores
    # The pool ends its workers with SIGTERM; Paddle's handler would print a C++
    # "FatalError" report for each. Workers run no Paddle code.
    paddle.disable_signal_handler()


def load_training_batch(keys, dataset=None):
    """(images, labels, *target maps) of the samples `keys`, each stacked into one array."""
    samples = [(dataset or LOADER_DATASET)[key] for key in keys]
    return tuple(np.stack(column) for column in zip(*samples))


def training_batches(dataset, batch_keys, num_workers, prefetch=2):
    """Batches for the keys in order, loaded by `num_workers` processes ahead of use.

    A multiprocessing pool rather than paddle.io.DataLoader: its errors reach this
    process as the original exception (a SegDataError stays a one-line message),
    and at most `prefetch` batches per worker wait in memory. Workers are spawned,
    not forked: a child forked after OpenCV or Paddle started their thread pools
    can deadlock in its first OpenCV call.
    """
    if num_workers == 0:
        for keys in batch_keys:
            yield load_training_batch(keys, dataset)
        return
    context = multiprocessing.get_context("spawn")
    with context.Pool(num_workers, start_loader_worker, (dataset,)) as pool:
        pending = collections.deque()
        for keys in batch_keys:
            pending.append(pool.apply_async(load_training_batch, (keys,)))
            if len(pending) >= prefetch * num_workers:
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()


def atomic_save_folder(folder, write):
    """Run write(tmp_folder), then put the finished folder in place of `folder`.

    A kill at any moment leaves either the old folder or the new one, never a
    partly written one under the final name.
    """
    parent = os.path.dirname(os.path.abspath(folder))
    os.makedirs(parent, exist_ok=True)
    tmp = os.path.join(parent, f".tmp-{os.path.basename(folder)}-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    write(tmp)
    old = None
    if os.path.exists(folder):
        old = os.path.join(parent, f".old-{os.path.basename(folder)}-{os.getpid()}")
        os.replace(folder, old)
    os.replace(tmp, folder)
    if old:
        shutil.rmtree(old, ignore_errors=True)


def write_json_atomically(path, data):
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "w") as f:
        json.dump(data, f, indent=2)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def save_checkpoint(save_dir, name, model, meta, optimizer=None):
    def write(folder):
        paddle.save(model.state_dict(), os.path.join(folder, "model.pdparams"))
        if optimizer is not None:
            paddle.save(optimizer.state_dict(), os.path.join(folder, "model.pdopt"))
        write_json_atomically(os.path.join(folder, "meta.json"), meta)

    atomic_save_folder(os.path.join(save_dir, name), write)


def record_latest_checkpoint(save_dir, name, keep=KEEP_CHECKPOINT_MAX):
    """Point save_dir/latest.json at the finished checkpoint `name` (iter_N), then keep
    `keep` iter_* checkpoints (0: all): `name` and the newest ones before it.

    Only iter_* folders below `name` go, and only once latest.json names `name`, so a
    kill at any point leaves a checkpoint to resume from, and best_model stays. Folders
    numbered above `name` are a run's that this one resumed from an earlier checkpoint
    of: they stay until this run saves over them.
    """
    write_json_atomically(os.path.join(save_dir, "latest.json"), {"checkpoint": name})
    if keep <= 0:
        return
    numbered = sorted(
        (int(entry[len("iter_") :]), entry)
        for entry in os.listdir(save_dir)
        if entry.startswith("iter_") and entry[len("iter_") :].isdigit()
    )
    older = [entry for iteration, entry in numbered if iteration < int(name[len("iter_") :])]
    for entry in older[: max(len(older) - (keep - 1), 0)]:
        shutil.rmtree(os.path.join(save_dir, entry), ignore_errors=True)


class CheckpointError(Exception):
    """A checkpoint folder that cannot be resumed from; the message says which file and why."""


def process_is_running(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. another user's process
        return True
    return True


def clean_interrupted_saves(save_dir):
    """Finish what a run killed while saving left in save_dir: its temporary folders and
    files go, and a checkpoint caught between its old and new version gets the old one
    back (atomic_save_folder moves the old aside just before the new takes its place)."""
    if not os.path.isdir(save_dir):
        return
    for entry in sorted(os.listdir(save_dir)):
        match = re.fullmatch(r"\.(tmp|old)-(.+)-(\d+)|(.+)\.tmp-(\d+)", entry)
        if match is None or process_is_running(int(match[3] or match[5])):
            continue  # not ours, or a save still in progress
        path = os.path.join(save_dir, entry)
        final = os.path.join(save_dir, match[2] or "")
        if match[1] == "old" and not os.path.exists(final):
            os.replace(path, final)
            print(f"restored {final} from an interrupted save")
        elif os.path.isdir(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            os.remove(path)


def resume_candidates(path):
    """Checkpoint folders --resume may mean, newest first: `path` itself when it is one;
    for a save dir, the one latest.json names, then its iter_N folders by N."""
    if os.path.isfile(os.path.join(path, "meta.json")):
        return [path]
    candidates = []
    try:
        with open(os.path.join(path, "latest.json")) as f:
            candidates.append(os.path.join(path, str(json.load(f)["checkpoint"])))
    except FileNotFoundError:
        pass
    except (OSError, ValueError, KeyError, TypeError):
        print(f"warning: {path}/latest.json is damaged; looking for iter_N checkpoints")
    numbered = sorted(
        (int(entry[len("iter_") :]), entry)
        for entry in (os.listdir(path) if os.path.isdir(path) else [])
        if entry.startswith("iter_") and entry[len("iter_") :].isdigit()
    )
    candidates += [os.path.join(path, entry) for _, entry in reversed(numbered)]
    return list(dict.fromkeys(candidates))


def read_checkpoint(folder):
    """(model state, optimizer state, meta) of a checkpoint folder, or CheckpointError."""
    states = []
    for name in ("model.pdparams", "model.pdopt"):
        file = os.path.join(folder, name)
        if not os.path.isfile(file):
            raise CheckpointError(f"{file} is missing")
        try:
            states.append(paddle.load(file))
        except Exception as error:  # noqa: BLE001 - a truncated or foreign file
            raise CheckpointError(f"{file} is damaged ({type(error).__name__})") from None
    try:
        with open(os.path.join(folder, "meta.json")) as f:
            meta = json.load(f)
        int(meta["iter"]), int(meta["seed"])
    except (OSError, ValueError, KeyError, TypeError):
        raise CheckpointError(f"{folder}/meta.json is missing or damaged") from None
    return states[0], states[1], meta


def load_resume_checkpoint(path):
    """The newest intact checkpoint --resume PATH leads to, as (folder, model state,
    optimizer state, meta); a damaged newer one is passed over, saying so."""
    for folder in resume_candidates(path):
        try:
            return (folder, *read_checkpoint(folder))
        except CheckpointError as error:
            print(f"warning: cannot resume from {folder}: {error}; trying an older checkpoint")
    fail(
        f"{path}: no intact checkpoint to resume from; pass a --save-dir of an earlier run "
        "or one of its iter_N folders"
    )


def load_pretrained(model, path):
    """Load a full-model or backbone state dict, skipping tensors whose shape differs."""
    if not os.path.isfile(path):
        fail(f"{path}: pretrained weights not found")
    try:
        weights = paddle.load(path)
    except Exception as error:  # noqa: BLE001 - any unreadable file is a user error
        fail(f"{path}: cannot be read as a .pdparams state dict ({type(error).__name__})")
    model_state = model.state_dict()
    if not any(key in model_state for key in weights):
        weights = {f"backbone.{key}": value for key, value in weights.items()}
    matched = {
        key: value
        for key, value in weights.items()
        if key in model_state and list(value.shape) == list(model_state[key].shape)
    }
    if not matched:
        fail(f"{path}: no tensor matches this model's parameters by name and shape")
    model.set_state_dict(matched)
    print(
        f"loaded {len(matched)}/{len(model_state)} tensors from {path}"
        f" ({len(weights) - len(matched)} skipped)"
    )


def format_duration(seconds):
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def train_main(
    spec,
    *,
    build_model,
    build_transforms,
    build_losses,
    build_optimizer,
    target_maps=None,
    argv=None,
):
    """train.py's work. `target_maps` ({name: function(label, num_classes, ignore_index)})
    adds maps computed from each training label, for the losses whose target names them."""
    args = train_arguments(spec, argv)
    if args.plot:
        plot_run(args.plot)
        return
    # what this run needs that a flag asked for, before any work
    check_precision_device(args.precision, args.device)
    visualdl = open_visualdl() if args.use_vdl else None
    # Paddle 3's BatchNorm warns on its first training forward that it "now always
    # tracks global mean and variance": a note on its own history, not on this run.
    warnings.filterwarnings("ignore", message="When training, we now always track global")
    paddle.set_device(args.device)
    world_size = paddle.distributed.get_world_size()
    rank = paddle.distributed.get_rank()
    if world_size > 1:
        paddle.distributed.init_parallel_env()
    seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(4), "little")
    paddle.seed(seed)
    np.random.seed(seed)
    random.seed(seed)

    dataset_spec = dict(spec["dataset"])  # --num-classes and --ignore-index: your data's
    if args.num_classes is not None:
        dataset_spec["num_classes"] = args.num_classes
    if args.ignore_index is not None:
        dataset_spec["ignore_index"] = args.ignore_index
    try:
        train_set = load_dataset(
            dataset_spec,
            args.data,
            "train",
            build_transforms(True, args.crop_size, args.ignore_index),
            list_path=args.train_list,
            seed=seed,
            target_maps=target_maps,
        )
        val_set = (
            None
            if args.no_eval
            else load_dataset(
                dataset_spec,
                args.data,
                "val",
                build_transforms(False, ignore_index=args.ignore_index),
                list_path=args.val_list,
                seed=seed,
            )
        )
    except SegDataError as error:
        fail(str(error))
    splits = [("train", train_set), ("val", val_set)]
    if args.check_data:
        clean = report_data_check(splits, verbose=True, report=rank == 0)
        if clean and rank == 0:
            print("data check: no problem found")
        stop(0 if clean else 2)

    model = build_model(train_set.num_classes)
    if args.pretrained:
        load_pretrained(model, args.pretrained)
    optimizer, lr_scheduler = build_optimizer(
        model, args.learning_rate, args.iters, args.warmup_iters
    )
    precision = MixedPrecision(args.precision, args.amp_level)
    start_iter, best, checkpoint = 0, {"miou": -1.0, "iter": None}, None
    if rank == 0:
        clean_interrupted_saves(args.save_dir)
    if args.resume:
        checkpoint, model_state, optimizer_state, meta = load_resume_checkpoint(args.resume)
        if meta.get("arch", spec["name"]) != spec["name"]:
            fail(f"{checkpoint}: a checkpoint of {meta['arch']}, not of {spec['name']}")
        if meta.get("num_classes", train_set.num_classes) != train_set.num_classes:
            fail(
                f"{checkpoint}: a checkpoint of {meta['num_classes']} classes; this run has "
                f"{train_set.num_classes} (pass --num-classes {meta['num_classes']} to go on)"
            )
        model.set_state_dict(model_state)
        optimizer.set_state_dict(optimizer_state)
        precision.load_scaler_state(meta.get("grad_scaler"))
        start_iter, seed = meta["iter"], meta["seed"]
        train_set.seed = seed  # the interrupted run's augmentation stream
        best = meta.get("best", best)
        print(f"resumed from {checkpoint} at iteration {start_iter}")
        if start_iter >= args.iters:
            print(f"nothing to do: the checkpoint is already at --iters {args.iters}")
            return

    # the first samples of each split, so that the common mistakes stop the run before
    # its first step rather than at the batch that reads them
    if not report_data_check(splits, limit=DATA_CHECK_AT_START, report=rank == 0):
        stop(2)
    losses = build_losses(train_set.ignore_index)
    term_names = loss_term_names(losses)
    # what each batch holds after the images, in order: the label, then the target maps
    target_names = ["label", *train_set.target_maps]
    model, optimizer = precision.decorate(model, optimizer)
    parallel_model = paddle.DataParallel(model) if world_size > 1 else model
    sampler = TrainBatchSampler(len(train_set), args.batch_size, seed, rank, world_size, start_iter)
    batch_keys = itertools.islice(sampler, args.iters - start_iter)
    batches = training_batches(train_set, batch_keys, args.num_workers)
    is_main = rank == 0
    record = None
    if is_main:
        record = RunRecord(args.save_dir, visualdl)
        record.start(
            start_iter=start_iter,
            resumed_from=checkpoint,
            spec=spec["name"],
            spec_file=spec["spec_file"],
            args=vars(args),
            seed=seed,
            world_size=world_size,
            num_classes=train_set.num_classes,
            train_images=len(train_set),
            loss_terms=[
                {"name": name, "loss": type(loss_fn).__name__, "coef": coef, "target": target}
                for name, (loss_fn, coef, target) in zip(term_names, losses, strict=True)
            ],
            memory="peak GPU memory Paddle allocated"
            if args.device == "gpu"
            else "peak resident set size of the main process",
        )
        print(
            f"training {spec['name']} on {len(train_set)} images "
            f"({train_set.num_classes} classes), {args.iters} iterations of "
            f"{args.batch_size} x {world_size} process(es), seed {seed}"
            + ("" if args.precision == "fp32" else f", {args.precision} {args.amp_level}")
        )

    def meta_for(iteration):
        meta = {
            "iter": iteration,
            "seed": seed,
            "num_classes": train_set.num_classes,
            "ignore_index": train_set.ignore_index,
            "arch": spec["name"],
            "best": best,
            "precision": args.precision,
        }
        scaler_state = precision.scaler_state()
        if scaler_state is not None:  # fp16 on a GPU: the loss scale goes on from here
            meta["grad_scaler"] = scaler_state
        return meta

    model.train()
    iteration, window = start_iter, LogWindow()
    samples_per_iter = args.batch_size * world_size
    train_seconds = 0.0  # stepping only (no evaluation, no saving): for the ETA
    try:
        while iteration < args.iters:
            step_start = time.time()
            try:
                images, *target_arrays = next(batches)
            except SegDataError as error:
                fail(str(error))
            reader_cost = time.time() - step_start
            targets = dict(zip(target_names, map(paddle.to_tensor, target_arrays), strict=True))
            with precision.autocast():
                outputs = parallel_model(paddle.to_tensor(images))
                terms = [
                    coef * loss_fn(output, targets[target])
                    for (loss_fn, coef, target), output in zip(losses, outputs, strict=True)
                ]
                loss = sum(terms)
            precision.backward_and_step(loss, optimizer)
            optimizer.clear_grad()
            lr = optimizer.get_lr()  # the rate this step used: the schedule moves on now
            lr_scheduler.step()
            iteration += 1
            loss_value = float(loss)
            if not np.isfinite(loss_value):
                fail(
                    f"loss became {loss_value} at iteration {iteration}; lower the learning "
                    "rate or check the labels"
                )
            batch_cost = time.time() - step_start
            train_seconds += batch_cost
            window.add(loss_value, [float(term) for term in terms], batch_cost, reader_cost)

            if is_main and (iteration % args.log_interval == 0 or iteration == args.iters):
                summary = window.summary()
                eta = train_seconds / (iteration - start_iter) * (args.iters - iteration)
                samples_per_s = samples_per_iter / max(summary["batch_cost"], 1e-9)
                print(
                    f"[iter {iteration}/{args.iters}] loss {summary['loss']:.4f} "
                    f"lr {lr:.6f} samples/s {samples_per_s:.2f} eta {format_duration(eta)}",
                    flush=True,
                )
                record.train(
                    iteration,
                    (iteration * samples_per_iter - 1) // len(train_set) + 1,
                    summary["loss"],
                    dict(zip(term_names, summary["terms"], strict=True)),
                    lr,
                    summary["batch_cost"],
                    summary["reader_cost"],
                    ips=samples_per_s,
                    memory_mb=peak_memory_mb(args.device),
                    eta_s=eta,
                )
                window = LogWindow()

            last = iteration == args.iters
            if is_main and val_set is not None and (iteration % args.eval_interval == 0 or last):
                try:
                    with precision.autocast():
                        metrics = evaluate(
                            model,
                            val_set,
                            args.eval_scales,
                            None if args.eval_whole_image else spec["val"]["slide"],
                        )
                except SegDataError as error:
                    fail(str(error))
                print(
                    f"[eval {iteration}] mIoU {metrics['miou']:.4f} "
                    f"acc {metrics['accuracy']:.4f} kappa {metrics['kappa']:.4f}"
                )
                names = dataset_class_names(dataset_spec, args.data, val_set.num_classes)
                print(
                    "  class IoU "
                    + ", ".join(f"{n} {v:.4f}" for n, v in zip(names, metrics["class_iou"])),
                    flush=True,
                )
                record.evaluation(iteration, metrics)
                if metrics["miou"] > best["miou"]:
                    best = {"miou": metrics["miou"], "iter": iteration}
                    save_checkpoint(
                        args.save_dir,
                        "best_model",
                        model,
                        {**meta_for(iteration), "metrics": metrics},
                    )
            if is_main and (iteration % args.save_interval == 0 or last):
                save_checkpoint(
                    args.save_dir, f"iter_{iteration}", model, meta_for(iteration), optimizer
                )
                record_latest_checkpoint(
                    args.save_dir, f"iter_{iteration}", args.keep_checkpoint_max
                )
    finally:
        if record is not None:
            record.close()

    if is_main:
        done = f"done: checkpoints in {args.save_dir}"
        if best["iter"] is not None:
            done += f"; best mIoU {best['miou']:.4f} at iteration {best['iter']}"
        print(done)
