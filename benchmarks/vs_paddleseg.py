"""Benchmark: segc's generated code against PaddleSeg 2.8, side by side in one run.

    python benchmarks/vs_paddleseg.py --paddleseg-repo PATH [--combination fcn_hrnet_w18]
    python benchmarks/vs_paddleseg.py --paddleseg-repo PATH --quick     # minutes, not an hour

Same model configuration (the combination's spec and the PaddleSeg config it names),
same synthetic Cityscapes-sized data, same exported model, same thread count; every
measurement runs in a fresh child process, segc's and PaddleSeg's alternating round by
round so that a busy machine weighs on both alike. It writes
benchmarks/results/vs_paddleseg.json with each figure, the ratio segc / PaddleSeg and
whether the target is met:

- preprocess: one 1024x512 image to the model input (target < 10 ms for segc; the seed
  reports ~150 ms for PaddleSeg), with and without decoding the PNG;
- inference end to end per image: read, preprocess, predict, postprocess, through the
  generated infer.py's functions vs PaddleSeg's deploy/python/infer.py Predictor on the
  same exported model (ratio <= 0.5);
- training data pipeline: the config's train transforms on 2048x1024 images, 1024x512
  crops, images/s on one worker (one process, one OpenCV thread) (ratio >= 3);
- training iteration: the generated train.py vs PaddleSeg's trainer
  (paddleseg.core.train), same model, batch and crop, from their own logs (ratio <= 1);
  plus an instrumented loop on each side that says where an iteration's time goes;
- peak resident memory of the training run and of the inference predictor process
  (ratio <= 1 each).

PaddleSeg is the PyPI package (2.8.0, installed with --no-deps) plus a checkout of its
repository for deploy/python/infer.py (--paddleseg-repo; nothing from it is copied into
segc). benchmarks/paddleseg_compat.py lists what its code needs to run under Paddle 3.3.
Not a test: it measures and records, it never fails on time.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import importlib.util
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = REPO / "benchmarks" / "results" / "vs_paddleseg.json"
DEFAULT_CONFIGS = Path("/work/shared/paddleseg/configs")
TARGETS = {  # name: (comparison, bound, what the ratio is)
    "preprocess_ms": ("<", 10.0, "segc's preprocessing of one 1024x512 image, ms"),
    "e2e_inference": ("<=", 0.5, ("segc / PaddleSeg, ms per image end to end, both "
                      "predictors with oneDNN (the same configuration)")),
    "e2e_inference_vs_default": ("<=", 0.5, ("the same against PaddleSeg's default CPU "
                                 "configuration (--enable_mkldnn False)")),
    "data_pipeline": (">=", 3.0, ("segc / PaddleSeg, training images per second, the "
                      "transforms from the decoded image")),
    "data_pipeline_with_decoding": (">=", 3.0, ("the same with PNG decoding, which costs "
                                    "both sides the same, included")),
    "train_iteration": ("<=", 1.0, "segc / PaddleSeg, seconds per training iteration"),
    "train_peak_rss": ("<=", 1.0, "segc / PaddleSeg, peak resident memory of training"),
    "infer_peak_rss": ("<=", 1.0, "segc / PaddleSeg, peak resident memory of inference"),
}
OUR_LOG = re.compile(r"\[iter (\d+)/\d+\] loss (\S+) lr \S+ samples/s ([0-9.]+)")
PADDLESEG_LOG = re.compile(r"iter: (\d+)/\d+, loss: (\S+), lr: \S+, batch_cost: ([0-9.]+), "
                           r"reader_cost: ([0-9.]+)")


# ---- shared helpers ------------------------------------------------------------------

def load_script(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def stats(values: list[float]) -> dict:
    ordered = sorted(values)

    def percentile(q):
        position = (len(ordered) - 1) * q
        low = int(position)
        high = min(low + 1, len(ordered) - 1)
        return ordered[low] + (ordered[high] - ordered[low]) * (position - low)

    return {"n": len(values), "median": round(statistics.median(values), 4),
            "mean": round(statistics.fmean(values), 4), "p10": round(percentile(0.1), 4),
            "p90": round(percentile(0.9), 4), "min": round(ordered[0], 4),
            "max": round(ordered[-1], 4)}


def peak_rss_mib() -> float:
    """This process's peak resident memory (Linux reports KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def say(message: str) -> None:
    print(message, flush=True)


class TreeMemory(threading.Thread):
    """Polls the summed resident memory of a process and its descendants (data-loader
    workers included) every `interval` seconds; `peak_mib` is the largest sum seen."""

    def __init__(self, pid, interval=0.1):
        super().__init__(daemon=True)
        self.pid = pid
        self.interval = interval
        self.peak_mib = 0.0
        self.done = threading.Event()

    @staticmethod
    def children(pid):
        found = []
        for task in Path(f"/proc/{pid}/task").glob("*"):
            try:
                found += [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                pass
        return found

    @staticmethod
    def rss_kib(pid):
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        except OSError:
            pass
        return 0

    def run(self):
        while not self.done.is_set():
            pids, total = [self.pid], 0
            while pids:
                pid = pids.pop()
                total += self.rss_kib(pid)
                pids += self.children(pid)
            self.peak_mib = max(self.peak_mib, total / 1024)
            self.done.wait(self.interval)


class LineClock(threading.Thread):
    """Copies a child's output to its log, noting when each line arrived."""

    def __init__(self, stream, out):
        super().__init__(daemon=True)
        self.stream, self.out = stream, out
        self.lines = []  # (perf_counter seconds, line)

    def run(self):
        for line in iter(self.stream.readline, b""):
            self.lines.append((time.perf_counter(), line.decode(errors="replace")))
            self.out.write(line.decode(errors="replace"))


def run_child(command: list[str], cwd: Path, log: Path, timeout: float) -> dict:
    """Run a command, its output to `log`; exit code, wall seconds, the peak RSS of its
    main process (exact, from the kernel) and of its process tree (polled), and when each
    output line arrived (`lines`)."""
    start = time.perf_counter()
    with open(log, "w") as out:
        process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT,
                                   env={**os.environ, "PYTHONUNBUFFERED": "1"})
        clock = LineClock(process.stdout, out)
        clock.start()
        watcher = TreeMemory(process.pid)
        watcher.start()
        deadline = start + timeout
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                process.kill()
                pid, status, usage = os.wait4(process.pid, 0)
                break
            time.sleep(0.05)
        process.returncode = os.waitstatus_to_exitcode(status)
        watcher.done.set()
        watcher.join()
        clock.join(timeout=10)
    return {"returncode": process.returncode, "wall_s": round(time.perf_counter() - start, 2),
            "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),
            "peak_tree_rss_mib": round(watcher.peak_mib, 1), "log": str(log),
            "lines": clock.lines}


def child_command(mode: str, impl: str, settings: dict, out: Path) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), "--child", mode, impl,
            json.dumps(settings), str(out)]


def run_json_child(mode, impl, settings, work: Path, tag: str, timeout=1800) -> dict:
    out = work / f"{tag}.json"
    out.unlink(missing_ok=True)
    result = run_child(child_command(mode, impl, settings, out), work, work / f"{tag}.log",
                       timeout)
    if result["returncode"] != 0 or not out.is_file():
        tail = Path(result["log"]).read_text(errors="replace").splitlines()[-15:]
        raise RuntimeError(f"{mode}/{impl} failed (exit {result['returncode']}):\n  "
                           + "\n  ".join(tail))
    data = json.loads(out.read_text())
    data["process"] = {k: v for k, v in result.items() if k != "lines"}
    return data


# ---- synthetic data -----------------------------------------------------------------

def make_images(train_module, folder: Path, count: int, size: tuple[int, int], seed: int):
    """`count` street scenes of `size` (w, h) with labels, as PNG, via the generated
    train.py's demo-scene generator; the file list's lines. Kept between runs."""
    import cv2
    import numpy as np

    lines = []
    (folder / "images").mkdir(parents=True, exist_ok=True)
    (folder / "labels").mkdir(parents=True, exist_ok=True)
    train_module.DEMO_IMAGE_SIZE = size  # the generator reads it at call time
    rng = np.random.default_rng(seed)
    for index in range(count):
        image_name = f"images/scene_{size[0]}x{size[1]}_{index:02d}.png"
        label_name = f"labels/scene_{size[0]}x{size[1]}_{index:02d}.png"
        if not (folder / image_name).is_file() or not (folder / label_name).is_file():
            image, label = train_module.demo_scene(rng)
            cv2.imwrite(str(folder / label_name), label)
            cv2.imwrite(str(folder / image_name), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
        lines.append(f"{image_name} {label_name}")
    return lines


# ---- children: one measurement each, in a fresh process -------------------------------

def child_preprocess(impl, s):
    """Preprocess the same image `runs` times, segc's and PaddleSeg's alternating (light
    work: one process for both keeps them on the same core under the same load)."""
    import cv2
    import numpy as np

    cv2.setNumThreads(s["cv2_threads"])
    infer = load_script(Path(s["combination_dir"]) / "infer.py", "segc_infer")
    from paddleseg.deploy.infer import DeployConfig

    config = infer.load_deploy_config(s["export_dir"])
    scale, shift = infer.infer_normalize_coefficients(config["mean"], config["std"])
    paddleseg_transforms = DeployConfig(os.path.join(s["export_dir"], "deploy.yaml")).transforms
    path = s["images"][0]
    decoded = cv2.imread(path, cv2.IMREAD_COLOR)
    cases = {
        "segc": lambda: infer.infer_preprocess(decoded, scale, shift, config["resize"]),
        "paddleseg": lambda: np.array([paddleseg_transforms({"img": decoded.copy()})["img"]]),
        "segc_with_read": lambda: infer.infer_preprocess(infer.read_infer_image(path), scale,
                                                         shift, config["resize"]),
        # what PaddleSeg's Predictor._preprocess does per image, then its batching
        "paddleseg_with_read": lambda: np.array([paddleseg_transforms({"img": path})["img"]]),
    }
    outputs = {name: case() for name, case in cases.items()}  # warm-up, and a check
    difference = float(np.abs(outputs["segc"] - outputs["paddleseg"]).max())
    times = {name: [] for name in cases}
    for _ in range(s["preprocess_runs"]):
        for name, case in cases.items():
            start = time.perf_counter()
            case()
            times[name].append((time.perf_counter() - start) * 1000)
    return {"ms": {name: stats(v) for name, v in times.items()},
            "max_abs_difference_segc_vs_paddleseg": difference,
            "shape": list(outputs["segc"].shape)}


def child_infer(impl, s):
    """End-to-end inference per image (read, preprocess, predict, postprocess) with one
    side's predictor; stage medians and the process's peak memory."""
    import numpy as np

    infer = load_script(Path(s["combination_dir"]) / "infer.py", "segc_infer")
    config = infer.load_deploy_config(s["export_dir"])
    if impl == "segc":
        predictor = infer.create_inference_predictor(
            config["model_file"], config["params_file"], s["device"], s["cpu_threads"],
            s["onednn"])
        scale, shift = infer.infer_normalize_coefficients(config["mean"], config["std"])

        def stages(path):
            image = infer.read_infer_image(path)
            batch = infer.infer_preprocess(image, scale, shift, config["resize"])
            yield "preprocess"
            output = infer.run_inference_predictor(predictor, batch)
            yield "inference"
            infer.infer_postprocess(output, (image.shape[1], image.shape[0]))
            yield "postprocess"
    else:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import paddleseg_compat

        drop = infer.inference_program_has_broken_onednn_ops(config["model_file"])
        deploy_infer = paddleseg_compat.import_deploy_infer(Path(s["paddleseg_repo"]), drop)
        args = argparse.Namespace(
            cfg=os.path.join(s["export_dir"], "deploy.yaml"), device=s["device"],
            enable_mkldnn=s["onednn"] and impl != "paddleseg_default",
            cpu_threads=s["cpu_threads"], print_detail=False,
            benchmark=False, use_trt=False, precision="fp32", with_argmax=False,
            batch_size=1, min_subgraph_size=3, enable_auto_tune=False,
            save_dir=os.path.join(s["work"], "paddleseg_result"))
        paddleseg = deploy_infer.Predictor(args)
        input_handle = paddleseg.predictor.get_input_handle(
            paddleseg.predictor.get_input_names()[0])
        output_handle = paddleseg.predictor.get_output_handle(
            paddleseg.predictor.get_output_names()[0])

        # the body of Predictor.run for one image, without its file writing
        def stages(path):
            data = np.array([paddleseg._preprocess(path)])
            input_handle.reshape(data.shape)
            input_handle.copy_from_cpu(data)
            yield "preprocess"
            paddleseg.predictor.run()
            results = output_handle.copy_to_cpu()
            yield "inference"
            paddleseg._postprocess(results)
            yield "postprocess"

    def one(path):
        start = last = time.perf_counter()
        times = {}
        for stage in stages(path):
            now = time.perf_counter()
            times[stage] = (now - last) * 1000
            last = now
        times["total"] = (last - start) * 1000
        return times

    images = s["images"]
    for index in range(s["warmup"]):
        one(images[index % len(images)])
    runs = [one(images[index % len(images)]) for index in range(s["runs"])]
    return {"ms": {stage: stats([r[stage] for r in runs]) for stage in runs[0]},
            "peak_rss_mib": peak_rss_mib()}


def child_data(impl, s):
    """Training samples per second from one worker (one process, one OpenCV thread):
    `full` reads the PNGs and runs everything a dataset item does; `transforms` starts
    from the decoded image and label in memory (what each side does after cv2.imread and
    the label decoder, which cost both sides the same). Wall-clock and CPU rates."""
    import cv2
    import numpy as np

    cv2.setNumThreads(1)
    root = s["data_root"]
    crop = s["crop_size"]
    if impl == "segc":
        train = load_script(Path(s["combination_dir"]) / "train.py", "segc_train")
        samples = train.file_list_samples(root, "train.txt")
        transforms = train.build_transforms(True, crop)
        dataset = train.SegDataset(samples, transforms, s["num_classes"], 255, seed=0)
        decoded = [(cv2.imread(image, cv2.IMREAD_COLOR), train.read_label(label))
                   for image, label in samples]

        def from_memory(index):
            bgr, label = decoded[index % len(decoded)]
            image = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)  # read_image's step after decoding
            dataset.check_label(label, "", image.shape[:2])
            return transforms(image, label, np.random.default_rng([0, index]))[0]
    else:
        from PIL import Image

        dataset = paddleseg_builder(s).train_dataset
        np.random.seed(0)
        decoded = [(cv2.imread(image, cv2.IMREAD_COLOR), np.asarray(Image.open(label)))
                   for image, label in dataset.file_list]

        def from_memory(index):
            bgr, label = decoded[index % len(decoded)]
            # PaddleSeg's Compose casts the decoded image to float32, then transforms
            data = {"img": bgr.astype("float32"), "label": label.copy(), "trans_info": [],
                    "gt_fields": ["label"]}
            return dataset.transforms(data)["img"]
    n = len(dataset)
    cases = {"full": lambda index: dataset[index % n], "transforms": from_memory}
    rates = {}
    for name, case in cases.items():
        for index in range(s["data_warmup"]):
            case(index)
        wall, cpu = time.perf_counter(), time.process_time()
        for index in range(s["data_samples"]):
            case(index)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        rates[name] = {"images_per_s": round(s["data_samples"] / wall, 3),
                       "images_per_cpu_s": round(s["data_samples"] / cpu, 3)}
    sample = from_memory(0)
    return {"rates": rates, "samples": s["data_samples"], "output_shape": list(sample.shape)}


def paddleseg_builder(s):
    """PaddleSeg's SegBuilder for its config, on the synthetic file list, without
    downloads, with the run's batch size, iterations and crop."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import paddleseg_compat
    from paddleseg.cvlibs import Config, SegBuilder

    paddleseg_compat.fix_cross_entropy_loss()
    config = Config(s["paddleseg_config"], batch_size=s["batch_size"], iters=s["iters"])
    config.dic = paddleseg_compat.without_pretrained(config.dic)
    train = dict(config.dic["train_dataset"])
    transforms = []
    for transform in train["transforms"]:
        transform = dict(transform)
        if transform["type"] == "RandomPaddingCrop":
            transform["crop_size"] = list(s["crop_size"])
        transforms.append(transform)
    config.dic["train_dataset"] = {
        "type": "Dataset", "dataset_root": s["data_root"],
        "train_path": os.path.join(s["data_root"], "train.txt"),
        "num_classes": s["num_classes"], "mode": "train", "transforms": transforms}
    config.dic.pop("val_dataset", None)
    return SegBuilder(config)


def child_paddleseg_train(impl, s):
    """PaddleSeg's trainer, as tools/train.py calls it, with log_iters=1."""
    import paddle

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import paddleseg_compat
    from paddleseg.core import train

    paddle.set_device(s["device"])
    paddle.seed(0)
    builder = paddleseg_builder(s)
    model = builder.model
    with paddleseg_compat.oracle_fix(builder.config.model_cfg["type"]):
        train(model, builder.train_dataset, optimizer=builder.optimizer,
              save_dir=os.path.join(s["work"], "paddleseg_train"), iters=s["iters"],
              batch_size=s["batch_size"], save_interval=s["iters"] + 1, log_iters=1,
              num_workers=s["num_workers"],
              losses=paddleseg_compat.losses_of_shape_one(builder.loss), keep_checkpoint_max=1)
    return {"peak_rss_mib": peak_rss_mib()}


def child_breakdown(impl, s):
    """An instrumented training loop: where one iteration's time goes (data, forward,
    loss, backward, optimizer) with each side's own model, losses, optimizer and data."""
    import numpy as np
    import paddle

    paddle.set_device(s["device"])
    paddle.seed(0)
    batch_size = s["batch_size"]
    if impl == "segc":
        train = load_script(Path(s["combination_dir"]) / "train.py", "segc_train")
        samples = train.file_list_samples(s["data_root"], "train.txt")
        dataset = train.SegDataset(samples, train.build_transforms(True, s["crop_size"]),
                                   s["num_classes"], 255, seed=0)
        model = train.build_model(s["num_classes"])
        losses = train.build_losses(255)  # (loss, coefficient, target) per model output
        if any(target != "label" for _, _, target in losses):
            raise SystemExit("the breakdown covers combinations whose losses all compare "
                             "with the label (no edge maps)")
        optimizer, scheduler = train.build_optimizer(model, None, s["iters"])

        def batch(step):
            keys = range(step * batch_size, (step + 1) * batch_size)
            return train.load_training_batch(list(keys), dataset)

        def loss_of(outputs, labels):
            return sum(coef * fn(out, labels) for (fn, coef, _), out in zip(losses, outputs))

        def step_optimizer():
            optimizer.step()
            optimizer.clear_grad()
            scheduler.step()
        fix = None
    else:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import paddleseg_compat
        from paddleseg.core.train import loss_computation

        builder = paddleseg_builder(s)
        dataset = builder.train_dataset
        model = builder.model
        losses = builder.loss
        optimizer = builder.optimizer
        np.random.seed(0)

        def batch(step):
            items = [dataset[(step * batch_size + i) % len(dataset)] for i in range(batch_size)]
            return (np.stack([item["img"] for item in items]),
                    np.stack([item["label"] for item in items]).astype("int64"))

        def loss_of(outputs, labels):
            return sum(loss_computation(outputs, labels, None, losses))

        def step_optimizer():
            optimizer.step()
            optimizer._learning_rate.step()
            model.clear_gradients()
        fix = paddleseg_compat.oracle_fix(builder.config.model_cfg["type"])

    phases = ("data", "to_tensor", "forward", "loss", "backward", "optimizer")
    times = {phase: [] for phase in phases}
    cpu_times = {phase: [] for phase in phases}  # steadier than wall time on a busy machine
    model.train()
    with fix if fix is not None else contextlib.nullcontext():
        for step in range(s["breakdown_warmup"] + s["breakdown_iters"]):
            marks = [(time.perf_counter(), time.process_time())]
            images, labels = batch(step)
            marks.append((time.perf_counter(), time.process_time()))
            images, labels = paddle.to_tensor(images), paddle.to_tensor(labels)
            marks.append((time.perf_counter(), time.process_time()))
            outputs = model(images)
            marks.append((time.perf_counter(), time.process_time()))
            loss = loss_of(outputs, labels)
            marks.append((time.perf_counter(), time.process_time()))
            loss.backward()
            marks.append((time.perf_counter(), time.process_time()))
            step_optimizer()
            float(loss)
            marks.append((time.perf_counter(), time.process_time()))
            if step >= s["breakdown_warmup"]:
                for phase, begin, end in zip(phases, marks, marks[1:]):
                    times[phase].append(end[0] - begin[0])
                    cpu_times[phase].append(end[1] - begin[1])
    medians = {phase: round(statistics.median(v), 4) for phase, v in times.items()}
    cpu_medians = {phase: round(statistics.median(v), 4) for phase, v in cpu_times.items()}
    total = sum(medians.values())
    return {"seconds": medians, "total_s": round(total, 4),
            "share": {phase: round(v / total, 4) for phase, v in medians.items()},
            "cpu_seconds": cpu_medians, "cpu_total_s": round(sum(cpu_medians.values()), 4)}


CHILDREN = {"preprocess": child_preprocess, "infer": child_infer, "data": child_data,
            "paddleseg-train": child_paddleseg_train, "breakdown": child_breakdown}


# ---- the benchmark (parent) -----------------------------------------------------------

def ratio(ours, theirs):
    return None if not ours or not theirs else round(ours / theirs, 4)


def verdict(name, value):
    if value is None:
        return {"target": f"{TARGETS[name][0]} {TARGETS[name][1]}", "value": None,
                "met": None, "meaning": TARGETS[name][2]}
    op, bound, meaning = TARGETS[name]
    met = {"<": value < bound, "<=": value <= bound, ">=": value >= bound}[op]
    return {"target": f"{op} {bound}", "value": value, "met": bool(met), "meaning": meaning}


def environment():
    import cv2
    import numpy as np
    import paddle

    sys.path.insert(0, str(REPO))
    from segc.bench.machine import cpu_model, memory_gib, module_version

    return {"cpu_model": cpu_model(), "logical_cpus": os.cpu_count(),
            "memory_gib": memory_gib(), "python": sys.version.split()[0],
            "paddle": paddle.__version__, "paddleseg": module_version("paddleseg"),
            "numpy": np.__version__, "opencv": cv2.__version__,
            "load_average_start": [round(v, 2) for v in os.getloadavg()]}


def find_config(configs: Path, name: str) -> Path:
    found = sorted(configs.rglob(name))
    if not found:
        raise SystemExit(f"{name}: not found under {configs}; pass --paddleseg-configs")
    return found[0]


def export_model(combination_dir: Path, export_dir: Path) -> None:
    if (export_dir / "deploy.yaml").is_file():
        return
    say(f"exporting {combination_dir.name} (untrained weights: speed does not depend on "
        "them) ...")
    subprocess.run([sys.executable, str(combination_dir / "export.py"), "--save-dir",
                    str(export_dir)], check=True, capture_output=True)


def training_run(impl, s, work: Path, round_index: int) -> dict:
    """One training run of `iters` iterations; per-iteration seconds from its log."""
    save_dir = work / f"{impl}_train_{round_index}"
    if impl == "segc":
        command = [sys.executable, str(Path(s["combination_dir"]) / "train.py"),
                   "--data", s["data_root"], "--train-list", "train.txt", "--no-eval",
                   "--iters", str(s["iters"]), "--batch-size", str(s["batch_size"]),
                   "--crop-size", *map(str, s["crop_size"]),
                   "--num-workers", str(s["num_workers"]), "--log-interval", "1",
                   "--save-interval", str(s["iters"]), "--seed", "0",
                   "--save-dir", str(save_dir), "--device", s["device"]]
    else:
        command = child_command("paddleseg-train", "paddleseg", s,
                                work / f"paddleseg_train_{round_index}.json")
    result = run_child(command, work, work / f"{impl}_train_{round_index}.log",
                       timeout=s["train_timeout"])
    log = Path(result["log"]).read_text(errors="replace")
    if result["returncode"] != 0:
        raise RuntimeError(f"{impl} training failed (exit {result['returncode']}):\n"
                           + "\n".join(log.splitlines()[-15:]))
    pattern = OUR_LOG if impl == "segc" else PADDLESEG_LOG
    # Seconds per iteration from when each iteration's log line arrived (both sides log
    # every iteration): the same clock for both, finer than segc's 2-decimal samples/s
    arrived = {}
    for when, line in result.pop("lines"):
        match = pattern.search(line)
        if match:
            arrived[int(match[1])] = when
    timed = [arrived[k] - arrived[k - 1] for k in sorted(arrived)
             if k > s["train_warmup_iters"] and k - 1 in arrived]
    # what each side reports itself (segc: samples/s to 2 decimals; PaddleSeg: batch_cost)
    reported = {int(m[1]): (s["batch_size"] / float(m[3]) if impl == "segc" and float(m[3])
                            else float(m[3])) for m in pattern.finditer(log)}
    losses = [float(m[2]) for m in pattern.finditer(log)]
    if not timed:
        raise RuntimeError(f"{impl} training logged no iteration past the warm-up:\n"
                           + "\n".join(log.splitlines()[-15:]))
    return {"iteration_s": timed, "reported_iteration_s": [
        v for k, v in sorted(reported.items()) if k > s["train_warmup_iters"]],
        "losses": losses, "process": result}


def display_path(path: Path) -> str:
    """`path` relative to the repository when inside it (stable across checkouts)."""
    try:
        return str(path.resolve().relative_to(REPO))
    except ValueError:
        return str(path)


def render_markdown(results: dict, source: str) -> str:
    """docs/vs_paddleseg.md from the results (a pure function of them)."""
    parts, targets = results["parts"], results.get("targets", {})
    env, settings = results["environment"], results["settings"]

    def target(name):
        t = targets.get(name)
        if not t:
            return "", ""
        return t["target"], {True: "yes", False: "**no**", None: "–"}[t["met"]]

    def fmt(value, digits=2):
        return "–" if value is None else f"{value:.{digits}f}"

    rows = []
    pre = parts.get("preprocess")
    if pre:
        ms = pre["ms"]
        rows.append(("Preprocess one 1024x512 image (decoded), ms", ms["segc"]["median"],
                     ms["paddleseg"]["median"], pre["ratio"], *target("preprocess_ms")))
        rows.append(("Preprocess with PNG decoding, ms", ms["segc_with_read"]["median"],
                     ms["paddleseg_with_read"]["median"], pre["ratio_with_read"], "", ""))
    e2e = parts.get("inference_end_to_end")
    if e2e:
        rows.append(("Inference end to end per image, ms", e2e["segc"]["ms"]["total"],
                     e2e["paddleseg"]["ms"]["total"], targets.get("e2e_inference", {}).get(
                         "value"), *target("e2e_inference")))
        if "paddleseg_default" in e2e:
            rows.append(("... against PaddleSeg's default CPU configuration (oneDNN off), ms",
                         e2e["segc"]["ms"]["total"], e2e["paddleseg_default"]["ms"]["total"],
                         targets.get("e2e_inference_vs_default", {}).get("value"),
                         *target("e2e_inference_vs_default")))
        rows.append(("... of which the model (predictor run), ms",
                     e2e["segc"]["ms"]["inference"], e2e["paddleseg"]["ms"]["inference"],
                     ratio(e2e["segc"]["ms"]["inference"], e2e["paddleseg"]["ms"]["inference"]),
                     "", ""))
        rows.append(("... outside the model (read, preprocess, postprocess), ms",
                     e2e["segc"]["non_model_ms"], e2e["paddleseg"]["non_model_ms"],
                     e2e["non_model_ratio"], "", ""))
        rows.append(("Peak RSS of the inference process, MiB", e2e["segc"]["peak_rss_mib"],
                     e2e["paddleseg"]["peak_rss_mib"],
                     targets.get("infer_peak_rss", {}).get("value"), *target("infer_peak_rss")))
    data = parts.get("data_pipeline")
    if data:
        for case, label, name in (
                ("transforms", "Training transforms from the decoded image, images/s",
                 "data_pipeline"),
                ("full", "Training samples with PNG decoding, images/s",
                 "data_pipeline_with_decoding")):
            wall, cpu = data["median"][f"{case}_images_per_s"], \
                data["median"][f"{case}_images_per_cpu_s"]
            rows.append((label, wall["segc"], wall["paddleseg"], wall["ratio"], *target(name)))
            rows.append(("... per CPU second", cpu["segc"], cpu["paddleseg"], cpu["ratio"],
                         "", ""))
    train = parts.get("training")
    if train:
        rows.append(("Training iteration, s (median)", train["segc"]["iteration_s"]["median"],
                     train["paddleseg"]["iteration_s"]["median"],
                     targets.get("train_iteration", {}).get("value"),
                     *target("train_iteration")))
        rows.append(("Peak RSS of the training run, MiB", train["segc"]["peak_rss_mib"],
                     train["paddleseg"]["peak_rss_mib"],
                     targets.get("train_peak_rss", {}).get("value"), *target("train_peak_rss")))
    lines = [
        f"<!-- Generated by benchmarks/vs_paddleseg.py from {source}: do not edit. -->",
        "# segc vs PaddleSeg 2.8, side by side",
        "",
        (f"`{results['combination']}` against PaddleSeg's `{results['paddleseg_config']}`, "
        f"measured {results['measured_at'][:10]} on {env['cpu_model']} "
        f"({env['logical_cpus']} logical CPUs), Paddle {env['paddle']}, PaddleSeg "
        f"{env.get('paddleseg')}; {settings['device']}, {settings['cpu_threads']} threads, "
        f"oneDNN {'on' if settings['onednn'] else 'off'} on both sides; training batch "
        f"{settings['batch_size']}, crop {settings['crop_size'][0]}x{settings['crop_size'][1]}"
        f", {settings['num_workers']} data workers; {settings['rounds']} alternating "
        f"round(s){' (--quick)' if settings.get('quick') else ''}. Load average "
        f"{env['load_average_start'][0]:.1f} at the start, "
        f"{env.get('load_average_end', [0])[0]:.1f} at the end"
        + (": other work shared the machine, so wall-clock figures are noisy; the "
           "per-CPU-second rates are steadier."
           if env["load_average_start"][0] > 0.5 * env["logical_cpus"] else
           " (the benchmark's own load; the machine was otherwise idle).")),
        "",
        "| measure | segc | PaddleSeg | segc / PaddleSeg | target | met |",
        "|-|-|-|-|-|-|",
    ]
    for label, ours, theirs, rate, goal, met in rows:
        lines.append(f"| {label} | {fmt(ours)} | {fmt(theirs)} | {fmt(rate, 3)} | {goal} | "
                     f"{met} |")
    breakdown = parts.get("training_breakdown")
    if breakdown:
        sides = {k: v for k, v in breakdown.items() if isinstance(v, dict)}
        phases = list(sides["segc"]["seconds"])
        lines += ["", ("Where a training iteration's time goes (an instrumented loop with "
                       "each side's model, losses, optimizer and data; median wall seconds per "
                       "phase, its share, and median CPU seconds of the process):"), "",
                  "| phase | " + " | ".join(f"{k} wall | {k} CPU" for k in sides) + " |",
                  "|-|" + "-|-|" * len(sides)]
        for phase in phases:
            lines.append(f"| {phase} | " + " | ".join(
                f"{b['seconds'][phase]:.3f} ({b['share'][phase]:.0%}) | "
                f"{b.get('cpu_seconds', {}).get(phase, float('nan')):.3f}"
                for b in sides.values()) + " |")
        lines.append("| total | " + " | ".join(
            f"{b['total_s']:.3f} | {b.get('cpu_total_s', float('nan')):.3f}"
            for b in sides.values()) + " |")
        if breakdown.get("cpu_ratio") is not None:
            lines += ["", (f"segc / PaddleSeg per instrumented iteration: {breakdown['wall_ratio']}"
                      f" in wall time, {breakdown['cpu_ratio']} in CPU time.")]
    lines += ["", ("What PaddleSeg's code needed to run under Paddle 3.3 (benchmark only, "
              "see benchmarks/paddleseg_compat.py):"), ""]
    lines += [f"- {fix}" for fix in results["paddleseg_fixes"]]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paddleseg-repo", type=Path,
                        help="a checkout of PaddleSeg's repository (for deploy/python/infer.py)")
    parser.add_argument("--paddleseg-configs", type=Path, default=None,
                        help="PaddleSeg's configs folder (default: <repo>/configs, else "
                        f"{DEFAULT_CONFIGS})")
    parser.add_argument("--combination", default="fcn_hrnet_w18",
                        help="generated combination to compare (default: %(default)s, the "
                        "smallest model of the zoo)")
    parser.add_argument("--generated", type=Path, default=REPO / "generated")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir())
                        / "segc-vs-paddleseg", help="synthetic data and logs (kept)")
    parser.add_argument("--parts", default="preprocess,infer,data,train,breakdown",
                        help="comma-separated subset of preprocess,infer,data,train,breakdown")
    parser.add_argument("--device", choices=("cpu", "gpu"), default="cpu")
    parser.add_argument("--cpu-threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--no-onednn", action="store_true",
                        help="both predictors without oneDNN (PaddleSeg's CPU default)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="alternating segc/PaddleSeg rounds per measurement")
    parser.add_argument("--infer-runs", type=int, default=10)
    parser.add_argument("--preprocess-runs", type=int, default=50)
    parser.add_argument("--data-samples", type=int, default=42,
                        help="samples per data-pipeline measurement (PaddleSeg's cost varies "
                        "with the drawn scale factor: several of each of the 7 are needed)")
    parser.add_argument("--batch-size", type=int, default=None,
                        help="training batch (default: the spec's, which is PaddleSeg's)")
    parser.add_argument("--crop-size", type=int, nargs=2, default=None, metavar=("W", "H"),
                        help="training crop (default: the spec's, which is PaddleSeg's)")
    parser.add_argument("--iters", type=int, default=12,
                        help="training iterations per run; the first 2 are not timed")
    parser.add_argument("--num-workers", type=int, default=0,
                        help="data-loading workers of both trainers (default 0: one process, "
                        "so the peak RSS is the whole run's)")
    parser.add_argument("--quick", action="store_true",
                        help="small settings that prove the benchmark works in minutes: "
                        "1 round, batch 1, 512x256 crops, 5 iterations, fewer runs")
    parser.add_argument("--docs", type=Path, default=REPO / "docs" / "vs_paddleseg.md",
                        help="Markdown summary written beside the JSON (default: %(default)s)")
    parser.add_argument("--update", action="store_true",
                        help="keep the parts of --output that this run does not measure")
    parser.add_argument("--report-only", action="store_true",
                        help="measure nothing: rewrite --docs from --output")
    parser.add_argument("--child", nargs=4, metavar=("MODE", "IMPL", "SETTINGS", "OUT"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        mode, impl, settings, out = args.child
        result = CHILDREN[mode](impl, json.loads(settings))
        Path(out).write_text(json.dumps(result))
        return

    if args.report_only:
        results = json.loads(args.output.read_text())
        args.docs.write_text(render_markdown(results, display_path(args.output)))
        say(f"wrote {args.docs}")
        return
    if args.paddleseg_repo is None:
        parser.error("--paddleseg-repo is required (a checkout of PaddleSeg's repository)")
    if args.quick:
        args.rounds, args.infer_runs, args.preprocess_runs = 1, 3, 20
        args.data_samples, args.iters = 8, 5
        args.batch_size = args.batch_size or 1
        args.crop_size = args.crop_size or [512, 256]
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    unknown = set(parts) - {"preprocess", "infer", "data", "train", "breakdown"}
    if unknown:
        parser.error(f"unknown part(s): {', '.join(sorted(unknown))}")
    combination_dir = args.generated / args.combination
    if not (combination_dir / "train.py").is_file():
        parser.error(f"{combination_dir}: no generated combination there")
    work = args.workdir.resolve()
    work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()

    train_module = load_script(combination_dir / "train.py", "segc_train")
    spec = train_module.SPEC
    configs = args.paddleseg_configs or (args.paddleseg_repo / "configs")
    if not configs.is_dir():
        configs = DEFAULT_CONFIGS
    paddleseg_config = find_config(configs, spec["reference"]["config"])
    batch_size = args.batch_size or spec["train"]["batch_size"]
    crop_size = list(args.crop_size or spec["train"]["crop_size"])
    say(f"segc {args.combination} vs PaddleSeg {paddleseg_config.name}: parts {parts}, "
        f"{args.rounds} round(s), batch {batch_size}, crop {crop_size[0]}x{crop_size[1]}, "
        f"{args.cpu_threads} CPU thread(s); work folder {work}")

    say("synthetic data: 2048x1024 training scenes and 1024x512 test images ...")
    data_root = work / "data"
    train_lines = make_images(train_module, data_root, 8, (2048, 1024), seed=1)
    (data_root / "train.txt").write_text("\n".join(train_lines) + "\n")
    test_lines = make_images(train_module, data_root, 4, (1024, 512), seed=2)
    images = [str(data_root / line.split()[0]) for line in test_lines]
    export_dir = work / f"export_{args.combination}"
    if {"preprocess", "infer"} & set(parts):
        export_model(combination_dir, export_dir)

    s = {
        "combination_dir": str(combination_dir.resolve()), "export_dir": str(export_dir),
        "paddleseg_repo": str(args.paddleseg_repo.resolve()),
        "paddleseg_config": str(paddleseg_config), "work": str(work),
        "data_root": str(data_root), "images": images, "device": args.device,
        "cpu_threads": args.cpu_threads, "onednn": not args.no_onednn, "cv2_threads": 1,
        "warmup": 2, "runs": args.infer_runs, "preprocess_runs": args.preprocess_runs,
        "data_warmup": 2, "data_samples": args.data_samples,
        "num_classes": spec["dataset"]["num_classes"], "batch_size": batch_size,
        "crop_size": crop_size, "iters": args.iters, "num_workers": args.num_workers,
        "train_warmup_iters": 2 if args.iters > 3 else 0, "train_timeout": 3600,
        "breakdown_warmup": 1, "breakdown_iters": max(2, min(args.iters - 2, 5)),
    }
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import paddleseg_compat

    results = {
        "benchmark": "segc generated scripts vs PaddleSeg 2.8, side by side",
        "measured_at": datetime.datetime.now(datetime.timezone.utc).isoformat(
            timespec="seconds").replace("+00:00", "Z"),
        "combination": args.combination, "paddleseg_config": paddleseg_config.name,
        "environment": environment(),
        "settings": {k: s[k] for k in ("device", "cpu_threads", "onednn", "batch_size",
                                       "crop_size", "iters", "num_workers", "runs",
                                       "preprocess_runs", "data_samples")}
        | {"rounds": args.rounds, "quick": args.quick, "train_image_size": [2048, 1024],
           "infer_image_size": [1024, 512]},
        "paddleseg_fixes": list(paddleseg_compat.FIXES),
        "parts": {},
    }
    ratios = {}

    if "preprocess" in parts:
        say("preprocess: one 1024x512 image, segc's and PaddleSeg's alternating ...")
        pre = run_json_child("preprocess", "both", s, work, "preprocess")
        ms = pre["ms"]
        results["parts"]["preprocess"] = {
            "ms": ms, "max_abs_difference_segc_vs_paddleseg":
                pre["max_abs_difference_segc_vs_paddleseg"],
            "ratio": ratio(ms["segc"]["median"], ms["paddleseg"]["median"]),
            "ratio_with_read": ratio(ms["segc_with_read"]["median"],
                                     ms["paddleseg_with_read"]["median"])}
        ratios["preprocess_ms"] = ms["segc"]["median"]
        say(f"  segc {ms['segc']['median']:.2f} ms ({ms['segc_with_read']['median']:.2f} ms "
            f"with PNG decoding), PaddleSeg {ms['paddleseg']['median']:.2f} ms "
            f"({ms['paddleseg_with_read']['median']:.2f} ms with decoding)")

    if "infer" in parts:
        # paddleseg: its predictor with --enable_mkldnn True, the same configuration as
        # segc's; paddleseg_default: its CPU default (--enable_mkldnn False)
        sides = ("segc", "paddleseg") + (("paddleseg_default",) if s["onednn"] else ())
        runs = {impl: [] for impl in sides}
        for round_index in range(args.rounds):
            for impl in sides:
                say(f"inference end to end, round {round_index + 1}/{args.rounds}: {impl} ...")
                runs[impl].append(run_json_child("infer", impl, s, work,
                                                 f"infer_{impl}_{round_index}"))
        summary = {}
        for impl, done in runs.items():
            summary[impl] = {
                "ms_median_per_round": {stage: [r["ms"][stage]["median"] for r in done]
                                        for stage in done[0]["ms"]},
                "ms": {stage: round(statistics.median(r["ms"][stage]["median"] for r in done),
                                    4) for stage in done[0]["ms"]},
                "peak_rss_mib": max(r["process"]["peak_rss_mib"] for r in done),
            }
        for figures in summary.values():  # outside the model: read, preprocess, postprocess
            ms = figures["ms"]
            figures["non_model_ms"] = round(ms["preprocess"] + ms["postprocess"], 4)
        summary["non_model_ratio"] = ratio(summary["segc"]["non_model_ms"],
                                           summary["paddleseg"]["non_model_ms"])
        results["parts"]["inference_end_to_end"] = summary
        ratios["e2e_inference"] = ratio(summary["segc"]["ms"]["total"],
                                        summary["paddleseg"]["ms"]["total"])
        ratios["infer_peak_rss"] = ratio(summary["segc"]["peak_rss_mib"],
                                         summary["paddleseg"]["peak_rss_mib"])
        if "paddleseg_default" in summary:
            ratios["e2e_inference_vs_default"] = ratio(
                summary["segc"]["ms"]["total"], summary["paddleseg_default"]["ms"]["total"])
            say(f"  PaddleSeg with its default CPU configuration (oneDNN off): "
                f"{summary['paddleseg_default']['ms']['total']:.1f} ms per image")
        say(f"  per image: segc {summary['segc']['ms']['total']:.1f} ms, PaddleSeg "
            f"{summary['paddleseg']['ms']['total']:.1f} ms (outside the model: "
            f"{summary['segc']['non_model_ms']:.1f} vs {summary['paddleseg']['non_model_ms']:.1f}"
            f" ms); peak RSS segc "
            f"{summary['segc']['peak_rss_mib']:.0f} MiB, PaddleSeg "
            f"{summary['paddleseg']['peak_rss_mib']:.0f} MiB")

    if "data" in parts:
        rates = {"segc": [], "paddleseg": []}
        for round_index in range(args.rounds):
            for impl in ("segc", "paddleseg"):
                say(f"training data pipeline, round {round_index + 1}/{args.rounds}: {impl} ...")
                rates[impl].append(run_json_child("data", impl, s, work,
                                                  f"data_{impl}_{round_index}")["rates"])
        summary = {}
        for case in ("transforms", "full"):
            for unit in ("images_per_s", "images_per_cpu_s"):
                values = {impl: round(statistics.median(r[case][unit] for r in done), 3)
                          for impl, done in rates.items()}
                summary[f"{case}_{unit}"] = values | {
                    "ratio": ratio(values["segc"], values["paddleseg"])}
        results["parts"]["data_pipeline"] = {"per_round": rates, "median": summary}
        ratios["data_pipeline"] = summary["transforms_images_per_s"]["ratio"]
        ratios["data_pipeline_with_decoding"] = summary["full_images_per_s"]["ratio"]
        for case in ("transforms", "full"):
            values = summary[f"{case}_images_per_s"]
            cpu = summary[f"{case}_images_per_cpu_s"]
            say(f"  {case}: segc {values['segc']:.2f} images/s ({cpu['segc']:.2f} per CPU "
                f"second), PaddleSeg {values['paddleseg']:.2f} ({cpu['paddleseg']:.2f}); "
                f"ratio {values['ratio']} ({cpu['ratio']} in CPU time)")

    if "train" in parts:
        runs = {"segc": [], "paddleseg": []}
        for round_index in range(args.rounds):
            for impl in ("segc", "paddleseg"):
                say(f"training, round {round_index + 1}/{args.rounds}: {impl}, {args.iters} "
                    f"iterations ...")
                runs[impl].append(training_run(impl, s, work, round_index))
                done = runs[impl][-1]
                say(f"  {statistics.median(done['iteration_s']):.2f} s/iteration, peak RSS "
                    f"{done['process']['peak_rss_mib']:.0f} MiB, run "
                    f"{done['process']['wall_s']:.0f} s")
        summary = {}
        for impl, done in runs.items():
            all_iters = [v for r in done for v in r["iteration_s"]]
            summary[impl] = {
                "iteration_s": stats(all_iters),
                "reported_iteration_s": stats(
                    [v for r in done for v in r["reported_iteration_s"]]),
                "run_wall_s": [r["process"]["wall_s"] for r in done],
                "peak_rss_mib": max(r["process"]["peak_rss_mib"] for r in done),
                "peak_tree_rss_mib": max(r["process"]["peak_tree_rss_mib"] for r in done),
                "first_losses": done[0]["losses"][:5],
            }
        results["parts"]["training"] = summary
        ratios["train_iteration"] = ratio(summary["segc"]["iteration_s"]["median"],
                                          summary["paddleseg"]["iteration_s"]["median"])
        ratios["train_peak_rss"] = ratio(summary["segc"]["peak_rss_mib"],
                                         summary["paddleseg"]["peak_rss_mib"])

    if "breakdown" in parts:
        breakdown = {}
        for impl in ("segc", "paddleseg"):
            say(f"where a training iteration's time goes: {impl} ...")
            breakdown[impl] = run_json_child("breakdown", impl, s, work, f"breakdown_{impl}")
            breakdown[impl].pop("process", None)
            shares = ", ".join(f"{k} {v:.0%}" for k, v in breakdown[impl]["share"].items())
            say(f"  {breakdown[impl]['total_s']:.2f} s: {shares}")
        breakdown["cpu_ratio"] = ratio(breakdown["segc"]["cpu_total_s"],
                                       breakdown["paddleseg"]["cpu_total_s"])
        breakdown["wall_ratio"] = ratio(breakdown["segc"]["total_s"],
                                        breakdown["paddleseg"]["total_s"])
        results["parts"]["training_breakdown"] = breakdown

    results["targets"] = {name: verdict(name, ratios.get(name)) for name in TARGETS
                          if name in ratios}
    for part in results["parts"].values():
        part["measured_at"] = results["measured_at"]
        part["rounds"] = args.rounds
    if args.update and args.output.is_file():
        earlier = json.loads(args.output.read_text())
        results["parts"] = {**earlier.get("parts", {}), **results["parts"]}
        results["targets"] = {**earlier.get("targets", {}), **results["targets"]}
        results["measured_at"] = earlier.get("measured_at", results["measured_at"])
    results["environment"]["load_average_end"] = [round(v, 2) for v in os.getloadavg()]
    results["wall_s"] = round(time.perf_counter() - started, 1)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    args.docs.parent.mkdir(parents=True, exist_ok=True)
    args.docs.write_text(render_markdown(results, display_path(args.output)))
    say(f"\nsegc vs PaddleSeg ({results['wall_s']:.0f} s) -> {args.output}, {args.docs}")
    for name, target in results["targets"].items():
        mark = {True: "met", False: "MISSED", None: "n/a"}[target["met"]]
        say(f"  {name:16s} {target['value']!s:>10} (target {target['target']}): {mark}  "
            f"[{target['meaning']}]")


if __name__ == "__main__":
    main()
