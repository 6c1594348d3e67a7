"""The engines an exported model runs on, behind one interface: Paddle Inference on the
saved program, ONNX Runtime and OpenVINO on the ONNX file export.py --engines writes
beside deploy.yaml. Each loads the model once and then runs a float32 NCHW batch to the
model's first output (class ids, probabilities or logits, as exported). The ONNX engines
are optional packages, imported only when one is asked for."""

import importlib
import os

from .errors import fail, import_optional
from .onnx_export import ONNX_MODEL_FILE, create_onnx_session, run_onnx_session
from .predictor import create_inference_predictor, run_inference_predictor

# Engine name (infer.py --engine, export.py --engines) -> what it is called in messages.
INFER_ENGINE_TITLES = {
    "paddle": "Paddle Inference",
    "onnxruntime": "onnxruntime",
    "openvino": "OpenVINO",
}
# The pip package each engine needs beyond paddle, numpy and opencv.
INFER_ENGINE_PACKAGES = {"onnxruntime": "onnxruntime", "openvino": "openvino"}


class InferenceEngine:
    """One exported model loaded into one engine: `run(batch)` gives the model's first
    output as a numpy array; `where` names the engine and its settings (for --benchmark)."""

    def __init__(self, name, run, where):
        self.name = name
        self.run = run
        self.where = where


def engine_installed(name):
    """Whether the package `name` needs imports here (Paddle Inference always does)."""
    package = INFER_ENGINE_PACKAGES.get(name)
    if package is None:
        return True
    try:
        importlib.import_module(package)
    except ImportError:
        return False
    return True


def engine_model_files(name, config, onnx_file):
    """The files engine `name` loads: the saved program and its weights, or the ONNX file."""
    if name == "paddle":
        return [config["model_file"], config["params_file"]]
    return [onnx_file]


def default_onnx_file(config):
    """The ONNX model export.py writes beside deploy.yaml."""
    return os.path.join(os.path.dirname(config["path"]), ONNX_MODEL_FILE)


def first_error_line(error):
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def load_paddle_engine(config, onnx_file, settings):
    """Paddle Inference on the saved program (oneDNN on CPU; float16 or TensorRT on GPU).
    A program export.py already converted to float16 (config's `fp16_program`) is run as
    it is, as Paddle's mixed-precision guide runs a converted model."""
    precision = "fp32" if config.get("fp16_program") else settings["precision"]
    try:
        predictor = create_inference_predictor(
            config["model_file"],
            config["params_file"],
            settings["device"],
            settings["cpu_threads"],
            settings["use_onednn"],
            precision,
            settings["use_trt"],
            config["input_shape"],
        )
    except Exception as error:  # noqa: BLE001 - a corrupt or foreign model is a user error
        fail(f"{config['model_file']}: Paddle Inference cannot load it ({first_error_line(error)})")
    if settings["device"] == "gpu":
        where = f"Paddle Inference, gpu, {settings['precision']}" + (
            ", TensorRT" if settings["use_trt"] else ""
        )
    else:
        onednn = "on" if settings["use_onednn"] else "off"
        where = f"Paddle Inference, cpu, {settings['cpu_threads']} threads, oneDNN {onednn}"
    return InferenceEngine("paddle", lambda batch: run_inference_predictor(predictor, batch), where)


def load_onnxruntime_engine(config, onnx_file, settings):
    """ONNX Runtime on the ONNX file (its CUDA provider first on --device gpu, if present)."""
    session = create_onnx_session(
        onnx_file, settings["device"], settings["cpu_threads"], settings["flag"]
    )
    where = "onnxruntime, " + (
        f"cpu, {settings['cpu_threads']} threads" if settings["device"] == "cpu" else "gpu"
    )
    return InferenceEngine("onnxruntime", lambda batch: run_onnx_session(session, batch), where)


def load_openvino_engine(config, onnx_file, settings):
    """OpenVINO on the ONNX file: it reads ONNX (not Paddle 3's model.json), and compiles
    it for the CPU with --cpu-threads threads, tuned for the latency of one image."""
    openvino = import_optional("openvino", settings["flag"])
    if settings["device"] != "cpu":
        fail(f"{settings['flag']} runs on the CPU here: use --device cpu")
    try:
        core = openvino.Core()
        compiled = core.compile_model(
            core.read_model(onnx_file),
            "CPU",
            {
                "INFERENCE_NUM_THREADS": int(settings["cpu_threads"]),
                "PERFORMANCE_HINT": "LATENCY",
                # float32 as exported: on a CPU with bfloat16 units OpenVINO would
                # otherwise pick bfloat16 by itself, and move the logits
                "INFERENCE_PRECISION_HINT": "f32",
            },
        )
        request = compiled.create_infer_request()
    except Exception as error:  # noqa: BLE001 - a corrupt file is a user error
        fail(f"{onnx_file}: OpenVINO cannot load it ({first_error_line(error)})")

    def run(batch):
        request.infer({0: batch})
        # the request reuses its output buffer: copy before the next run
        return request.get_output_tensor(0).data.copy()

    return InferenceEngine("openvino", run, f"OpenVINO, cpu, {settings['cpu_threads']} threads")


INFER_ENGINE_LOADERS = {
    "paddle": load_paddle_engine,
    "onnxruntime": load_onnxruntime_engine,
    "openvino": load_openvino_engine,
}


def engine_settings(
    device="cpu", cpu_threads=None, use_onednn=True, precision="fp32", use_trt=False, flag=None
):
    """How to load an engine: the device and threads, Paddle Inference's oneDNN, precision
    and TensorRT, and the flag that asked for it (named in a missing-package message)."""
    return {
        "device": device,
        "cpu_threads": int(cpu_threads or os.cpu_count() or 1),
        "use_onednn": use_onednn,
        "precision": precision,
        "use_trt": use_trt,
        "flag": flag,
    }


def load_engine(name, config, onnx_file, settings):
    """Engine `name` with the model of `config` (deploy.yaml's) or `onnx_file`; one line
    and exit 2 when its package or its model file is missing, or it cannot load it."""
    settings = dict(settings, flag=settings["flag"] or f"--engine {name}")
    if name in INFER_ENGINE_PACKAGES:
        import_optional(INFER_ENGINE_PACKAGES[name], settings["flag"])
        if not os.path.isfile(onnx_file):
            fail(
                f"{onnx_file}: ONNX model not found (export.py --engines {name} writes it "
                "beside deploy.yaml)"
            )
    return INFER_ENGINE_LOADERS[name](config, onnx_file, settings)
