"""The benchmark's children: one measurement each, run in a fresh process (through the
entry script's --child) and written as JSON; `impl` says whose code runs ("segc",
"paddleseg", or for inference "paddleseg_default") and `s` holds the run's settings
(see orchestration.main)."""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import statistics
import time
from pathlib import Path

from segc.bench.scripts import load_script
from segc.bench.timing import distribution
from tests import oracle  # the repository root is on sys.path (vs_paddleseg.py)


def peak_rss_mib() -> float:
    """This process's peak resident memory (Linux reports KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


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
        "segc_with_read": lambda: infer.infer_preprocess(infer.read_image_file(path), scale,
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
    return {"ms": {name: distribution(v) for name, v in times.items()},
            "max_abs_difference_segc_vs_paddleseg": difference,
            "shape": list(outputs["segc"].shape)}


def child_infer(impl, s):
    """End-to-end inference per image (read, preprocess, predict, postprocess) with one
    side's predictor; stage medians and the process's peak memory."""
    import numpy as np

    infer = load_script(Path(s["combination_dir"]) / "infer.py", "segc_infer")
    config = infer.load_deploy_config(s["export_dir"])
    if impl == "segc":
        # infer.py --engine's engine (Paddle Inference unless --engine names another)
        # (an int8 model is another ONNX file: s["onnx_file"], as infer.py --onnx-file)
        engine = infer.load_engine(
            s.get("engine", "paddle"), config,
            s.get("onnx_file") or infer.default_onnx_file(config),
            infer.engine_settings(s["device"], s["cpu_threads"], s["onednn"]))
        scale, shift = infer.infer_normalize_coefficients(config["mean"], config["std"])

        def stages(path):
            image = infer.read_image_file(path)
            batch = infer.infer_preprocess(image, scale, shift, config["resize"])
            yield "preprocess"
            output = engine.run(batch)
            yield "inference"
            infer.infer_postprocess(output, (image.shape[1], image.shape[0]))
            yield "postprocess"
    else:

        drop = infer.inference_program_has_broken_onednn_ops(config["model_file"])
        deploy_infer = oracle.import_deploy_infer(Path(s["paddleseg_repo"]), drop)
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
    return {"ms": {stage: distribution([r[stage] for r in runs]) for stage in runs[0]},
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
    from paddleseg.cvlibs import Config, SegBuilder

    oracle.fix_cross_entropy_loss()
    config = Config(s["paddleseg_config"], batch_size=s["batch_size"], iters=s["iters"])
    config.dic = oracle.without_pretrained(config.dic)
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
    from paddleseg.core import train

    paddle.set_device(s["device"])
    paddle.seed(0)
    builder = paddleseg_builder(s)
    with oracle.oracle_fix(builder.config.model_cfg["type"]):
        model = builder.model  # some build only with the fix (its init_weight)
        train(model, builder.train_dataset, optimizer=builder.optimizer,
              save_dir=os.path.join(s["work"], "paddleseg_train"), iters=s["iters"],
              batch_size=s["batch_size"], save_interval=s["iters"] + 1, log_iters=1,
              num_workers=s["num_workers"],
              losses=oracle.losses_of_shape_one(builder.loss), keep_checkpoint_max=1)
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
        from paddleseg.core.train import loss_computation

        builder = paddleseg_builder(s)
        dataset = builder.train_dataset
        with oracle.oracle_fix(builder.config.model_cfg["type"]):
            model = builder.model  # some build only with the fix (its init_weight)
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
        fix = oracle.oracle_fix(builder.config.model_cfg["type"])

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

