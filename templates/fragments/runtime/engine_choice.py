"""infer.py --engine auto: the fastest engine installed here for this export, device and
thread count, measured once on the first input and recorded beside deploy.yaml
(engines.json); measured again when a model file or the set of engines changes."""

import json
import os
import time

from .engines import INFER_ENGINE_PACKAGES, engine_installed, engine_model_files, load_engine

# The record of auto's measurements, beside deploy.yaml.
ENGINE_RECORD_FILE = "engines.json"
# Runs per engine when measuring: one untimed (a predictor sets itself up on its first
# run), then the fastest of these, the run least disturbed by other work on the machine.
ENGINE_TIMED_RUNS = 3


def auto_engine_candidates(onnx_file, settings):
    """The engines auto picks from: Paddle Inference, and each ONNX engine that is
    installed when the ONNX file is there (OpenVINO on the CPU only). float16 and
    TensorRT are Paddle Inference's alone."""
    names = ["paddle"]
    if settings["precision"] != "fp32" or settings["use_trt"] or not os.path.isfile(onnx_file):
        return names
    for name in INFER_ENGINE_PACKAGES:
        if (name != "openvino" or settings["device"] == "cpu") and engine_installed(name):
            names.append(name)
    return names


def engine_record_key(settings):
    """What a measurement holds for: the device, and on CPU the threads and oneDNN."""
    if settings["device"] != "cpu":
        return settings["device"]
    key = f"cpu, {settings['cpu_threads']} threads"
    return key if settings["use_onednn"] else key + ", oneDNN off"


def model_file_stamps(names, config, onnx_file):
    """Size and modification time of each file the engines `names` load, by file name."""
    stamps = {}
    for name in names:
        for path in engine_model_files(name, config, onnx_file):
            status = os.stat(path)
            stamps[os.path.basename(path)] = [status.st_size, status.st_mtime_ns]
    return stamps


def engine_record_path(config):
    return os.path.join(os.path.dirname(config["path"]), ENGINE_RECORD_FILE)


def read_engine_record(path):
    """The record as a dict; empty when there is none or it is not ours."""
    try:
        with open(path, encoding="utf-8") as f:
            record = json.load(f)
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def recorded_engine(config, onnx_file, settings, candidates):
    """The engine the record names for these settings, while it was measured among the
    same engines on the same model files; else None."""
    entry = read_engine_record(engine_record_path(config)).get(engine_record_key(settings))
    if not isinstance(entry, dict) or not isinstance(entry.get("ms"), dict):
        return None
    if sorted(entry["ms"]) != sorted(candidates) or entry.get("engine") not in candidates:
        return None
    if entry.get("files") != model_file_stamps(candidates, config, onnx_file):
        return None
    return entry["engine"]


def time_engine(engine, batch):
    """Milliseconds of one run of `engine` on `batch`: the fastest of ENGINE_TIMED_RUNS
    after an untimed one."""
    engine.run(batch)
    times = []
    for _ in range(ENGINE_TIMED_RUNS):
        started = time.perf_counter()
        engine.run(batch)
        times.append(time.perf_counter() - started)
    return min(times) * 1000


def measure_engines(config, onnx_file, settings, candidates, batch):
    """Load and time each candidate on `batch`, record the fastest, and return it loaded."""
    timings, fastest = {}, None
    for name in candidates:
        engine = load_engine(name, config, onnx_file, settings)
        timings[name] = round(time_engine(engine, batch), 1)
        if fastest is None or timings[name] < timings[fastest.name]:
            fastest = engine
        del engine  # one loaded model at a time besides the fastest
    key = engine_record_key(settings)
    path = engine_record_path(config)
    record = read_engine_record(path)
    record[key] = {
        "engine": fastest.name,
        "ms": timings,
        "input": list(batch.shape),
        "files": model_file_stamps(candidates, config, onnx_file),
    }
    measured = ", ".join(f"{name} {ms:.1f} ms" for name, ms in timings.items())
    shape = "x".join(map(str, batch.shape))
    print(f"engine auto: {fastest.name} (measured on {shape}, {key}: {measured})")
    temporary = f"{path}.partial"
    try:
        with open(temporary, "w", encoding="utf-8") as f:
            json.dump(record, f, indent=2, sort_keys=True)
            f.write("\n")
        os.replace(temporary, path)
        print(f"engine auto: recorded in {path}; delete it to measure again")
    except OSError as error:
        print(f"engine auto: cannot record it in {path} ({error.strerror}); measuring each run")
    return fastest


class AutoEngine:
    """--engine auto before it has measured: its first run times the candidates on that
    batch (measure_engines), and it runs the fastest from then on."""

    def __init__(self, config, onnx_file, settings, candidates):
        self.measure = lambda batch: measure_engines(config, onnx_file, settings, candidates, batch)
        self.chosen = None

    def run(self, batch):
        if self.chosen is None:
            self.chosen = self.measure(batch)
        return self.chosen.run(batch)

    @property
    def where(self):
        return self.chosen.where if self.chosen else "auto, not measured yet"


def auto_engine(config, onnx_file, settings):
    """--engine auto: Paddle Inference when it is the only engine with a model here, the
    engine recorded for these settings when the record still holds, else an AutoEngine
    that measures on the first input."""
    candidates = auto_engine_candidates(onnx_file, settings)
    if candidates == ["paddle"]:
        return load_engine("paddle", config, onnx_file, settings)
    name = recorded_engine(config, onnx_file, settings, candidates)
    if name is None:
        return AutoEngine(config, onnx_file, settings, candidates)
    print(f"engine auto: {name} (measured fastest before: {engine_record_path(config)})")
    return load_engine(name, config, onnx_file, settings)
