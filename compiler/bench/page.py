"""The zoo page (docs/model_zoo.md) and its three charts, from a `segc bench` results file
and, when given, the ONNX status file (segc.bench.onnx_status).

Everything here is a pure function of those files: the same files give byte-identical
Markdown and PNGs (on the same matplotlib), so the page can be regenerated and
committed at any time. The table has the seed's summary-table columns, each measured
figure beside the seed's, and an ONNX column; the charts are the seed's three (accuracy
vs inference time, GFLOPs and parameters), one labelled point per combination with a
reference mIoU. A section lists every combination's ONNX and OpenVINO status.
"""

from __future__ import annotations

import os
from pathlib import Path

PAGE_NAME = "model_zoo.md"
CHART_DIR = "model_zoo"
# (file name, title, x-axis label, function of an entry giving x or None)
CHARTS = (
    ("accuracy_vs_inference_time.png", "Accuracy vs inference time",
     "inference time per 1024x512 image (ms, median, this machine)",
     lambda e: (e["latency_ms"] or {}).get("inference", {}).get("median")),
    ("accuracy_vs_gflops.png", "Accuracy vs FLOPs", "GFLOPs (1x3x512x1024, paddle.flops)",
     lambda e: (e["flops"] or {}).get("gflops")),
    ("accuracy_vs_params.png", "Accuracy vs parameters",
     "parameters (M, eval mode as paddle.flops counts them)",
     lambda e: None if e["params"]["eval"] is None else e["params"]["eval"] / 1e6),
)
SEED = "PaddleSeg's model zoo overview (docs/model_zoo_overview.md, PaddleSeg 2.3 era)"
SEED_MACHINE = ("Tesla V100 16GB, Intel Xeon Gold 6148 @ 2.40GHz, CUDA 10.2, cuDNN 7.6, "
                "Paddle 2.1.3, PaddleSeg 2.3")


def cell(value, digits=2, suffix="") -> str:
    if value is None:
        return "–"
    return f"{value:.{digits}f}{suffix}"


def pair(ours, seed, digits=2) -> str:
    """'ours / seed', with ✓ when they agree to `digits` decimals."""
    if ours is None and seed is None:
        return "–"
    same = ours is not None and seed is not None and round(ours, digits) == round(seed, digits)
    return f"{cell(ours, digits)} / {cell(seed, digits)}" + (" ✓" if same else "")


def ms(stats, digits=1) -> str:
    return "–" if not stats else cell(stats["median"], digits)


def ordered_entries(results: dict) -> list[dict]:
    return sorted(results["entries"].values(),
                  key=lambda e: (e["arch"].lower(), e["backbone"].lower(), e["combination"]))


def environment_key(entry: dict) -> tuple:
    env, settings = entry["environment"], entry["settings"]
    return (env["cpu_model"], env["logical_cpus"], env["device"], env["paddle"],
            env["platform"], settings["device"], settings.get("cpu_threads"),
            settings.get("onednn"), tuple(settings["input_shape"]), settings["warmup"],
            settings["runs"])


def markdown_escape(text) -> str:
    return (str(text).replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")
            .replace("\n", " "))


def summary_table(entries: list[dict], onnx: dict | None = None) -> list[str]:
    lines = [
        ("| Model | Backbone | mIoU (seed) | GFLOPs ours / seed | Params(M) ours / seed | "
        "Inference ms ours (p10–p90) | Inference ms seed | Preprocess ms ours / seed | "
        "Postprocess ms ours / seed |" + (" ONNX |" if onnx is not None else "")),
        "|-|-|-|-|-|-|-|-|-|" + ("-|" if onnx is not None else ""),
    ]
    for e in entries:
        ref = e["reference"]
        latency = e["latency_ms"] or {}
        inference = latency.get("inference")
        spread = ("–" if not inference else
                  f"{inference['median']:.1f} ({inference['p10']:.1f}–{inference['p90']:.1f})")
        eval_params = None if e["params"]["eval"] is None else e["params"]["eval"] / 1e6
        lines.append(" | ".join([
            f"| {markdown_escape(e['arch'])}", markdown_escape(e["backbone"] or "–"),
            cell(ref.get("miou"), 2, "%"),
            pair((e["flops"] or {}).get("gflops"), ref.get("gflops")),
            pair(eval_params, ref.get("params_m")),
            spread,
            cell(ref.get("inference_ms"), 2),
            f"{ms(latency.get('preprocess'), 2)} / {cell(ref.get('preprocess_ms'), 2)}",
            f"{ms(latency.get('postprocess'), 3)} / {cell(ref.get('postprocess_ms'), 3)} |"
            + (f" {onnx_short(onnx['entries'].get(e['combination']))} |"
               if onnx is not None else ""),
        ]))
    return lines


def onnx_short(entry: dict | None) -> str:
    """The summary table's ONNX cell: yes, a fixed size's multiple, or no."""
    if entry is None:
        return "–"
    return {"converts": "yes", "fixed_input": f"fixed size (×{entry['multiple']})",
            "unsupported": "no"}.get(entry["status"], "failed")


def share(value) -> str:
    """A share of pixels as export.py prints it (six decimals: one pixel of 128x256 shows)."""
    return "–" if value is None else f"{value:.6f}"


def onnx_section(entries: list[dict], onnx: dict) -> list[str]:
    """Per combination: what `export.py --onnx` does, and how the ONNX model's classes
    agree with Paddle Inference (onnxruntime) and onnxruntime (OpenVINO)."""
    measured = onnx["entries"]
    rows = [(e["arch"], e["backbone"] or "–", e["combination"]) for e in entries]
    known = {name for _, _, name in rows}
    rows += [("–", "–", name) for name in sorted(measured) if name not in known]
    lines = [
        ("What `export.py --onnx` does for each combination's untrained model (its default "
         "argmax output), as `benchmarks/onnx_status.py` measured it, and the share of "
         "pixels whose class equals the reference's on export.py's random check input: "
         "onnxruntime against Paddle Inference (export.py's own check), OpenVINO (CPU, "
         "reading the same model.onnx) against onnxruntime at f32 inference precision and "
         "at OpenVINO's default precision. Each model card says the same in its ONNX "
         "paragraph; `tests/test_onnx_status.py` holds every card to what export.py does."),
        "",
        ("- **yes**: converts at any input size. **fixed size (×M)**: adaptive pooling that "
         "paddle2onnx converts only at a static size, exactly where both sides are multiples "
         "of M; export.py --onnx refuses any other size in one line. **no**: export.py --onnx "
         "stops with the line quoted; Paddle Inference runs the model."),
    ] + openvino_precision_note(measured) + [
        "",
        ("| Model | Backbone | ONNX | checked at | onnxruntime = Paddle Inference | "
         "OpenVINO f32 = onnxruntime | OpenVINO default = onnxruntime |"),
        "|-|-|-|-|-|-|-|",
    ]
    for arch, backbone, name in rows:
        entry = measured.get(name)
        if entry is None:
            lines.append(f"| {markdown_escape(arch)} | {markdown_escape(backbone)} | "
                         "not measured | – | – | – | – |")
            continue
        status = onnx_short(entry)
        if entry["status"] in ("unsupported", "failed"):
            status += f": {markdown_escape(entry['reason'])}"
        openvino = entry["openvino"] or {}
        shape = ("–" if not entry["input_shape"] or not entry["openvino"]
                 else "x".join(map(str, entry["input_shape"][2:])))
        default = ("–" if not openvino else
                   f"{share(openvino['default'])} ({openvino['default_precision']})")
        lines.append(" | ".join([
            f"| {markdown_escape(arch)}", markdown_escape(backbone), status, shape,
            share(entry["onnxruntime_agreement"]), share(openvino.get("f32")),
            f"{default} |"]))
    environments = {}
    for entry in measured.values():
        env = entry["environment"]
        key = tuple(env.get(k) for k in ("cpu_model", "paddle", "paddle2onnx", "onnxruntime",
                                          "openvino"))
        environments.setdefault(key, []).append(entry["measured_at"][:10])
    lines.append("")
    for (cpu, paddle, paddle2onnx, onnxruntime, openvino), dates in environments.items():
        when = min(dates) if min(dates) == max(dates) else f"{min(dates)} to {max(dates)}"
        lines.append(f"Measured {when} on {markdown_escape(cpu)} ({len(dates)} "
                     f"combination(s)): Paddle {paddle}, paddle2onnx {paddle2onnx}, "
                     f"onnxruntime {onnxruntime}, OpenVINO {openvino}.")
    return lines


def openvino_precision_note(measured: dict) -> list[str]:
    """A bullet on OpenVINO's default precision where it was not f32 (bf16 on a CPU with
    AMX or AVX512-BF16): the range of its agreement with onnxruntime."""
    lowered = [e["openvino"] for e in measured.values()
               if e["openvino"] and e["openvino"]["default_precision"] != "f32"]
    if not lowered:
        return []
    precisions = sorted({o["default_precision"] for o in lowered})
    shares = sorted(o["default"] for o in lowered)
    f32 = min(o["f32"] for o in lowered)
    return [(f"- OpenVINO's default precision on the CPU measured was "
             f"{', '.join(precisions)}: {share(shares[0])} to {share(shares[-1])} of the "
             f"pixels (median {share(shares[len(shares) // 2])}) kept onnxruntime's class, "
             "those whose top two logits are close changing; at f32 "
             f"(`INFERENCE_PRECISION_HINT`) at least {share(f32)} did.")]


def environment_section(entries: list[dict]) -> list[str]:
    groups: dict[tuple, list[dict]] = {}
    for e in entries:
        groups.setdefault(environment_key(e), []).append(e)
    lines = []
    for number, members in enumerate(groups.values(), start=1):
        env, settings = members[0]["environment"], members[0]["settings"]
        dates = sorted(m["measured_at"][:10] for m in members)
        when = dates[0] if dates[0] == dates[-1] else f"{dates[0]} to {dates[-1]}"
        loads = [m["environment"].get("load_average") or [] for m in members]
        busiest = max((load[0] for load in loads if load), default=None)
        device = (f"CPU, {settings.get('cpu_threads')} threads, oneDNN "
                  f"{'on' if settings.get('onednn') else 'off'}" if settings["device"] == "cpu"
                  else f"GPU ({env['device']})")
        shape = "x".join(str(v) for v in settings["input_shape"])
        lines += [
            f"**Machine {number}** ({len(members)} combination(s), measured {when}): "
            f"{markdown_escape(env['cpu_model'])}, {env['logical_cpus']} logical CPUs"
            + (f", {env['memory_gib']} GiB" if env.get("memory_gib") else "")
            + f"; {markdown_escape(env['platform'])}.",
            f"Paddle {env['paddle']}{' (CUDA)' if env.get('paddle_cuda') else ''}, "
            f"Python {env['python']}, numpy {env['numpy']}, OpenCV {env['opencv']}"
            + (f", onnxruntime {env['onnxruntime']}" if env.get("onnxruntime") else "")
            + f". Inference on {device}; input {shape}; {settings['warmup']} warm-up + "
            f"{settings['runs']} timed runs per combination"
            + (f"; 1-minute load average up to {busiest:.2f} when measuring"
               if busiest is not None else "") + ".",
            "",
            "Combinations: " + ", ".join(f"`{m['combination']}`" for m in members) + ".",
            "",
        ]
    return lines


def notes_section(entries: list[dict]) -> list[str]:
    lines = []
    for e in entries:
        notes = []
        if e["reference"].get("note"):
            notes.append(markdown_escape(e["reference"]["note"]))
        if e["reference"].get("config"):
            notes.append(f"PaddleSeg config `{markdown_escape(e['reference']['config'])}`.")
        if e["params"]["eval"] is not None and e["params"]["total"] != e["params"]["eval"]:
            notes.append(f"{e['params']['total'] / 1e6:.2f} M parameters in all (layers "
                         "that only run in training, and parameters a model holds outside "
                         "its layers, such as position embeddings, included).")
        engines = e.get("engine_latency_ms") or (
            {"onnxruntime": e["onnx_latency_ms"]} if e.get("onnx_latency_ms") else {})
        if engines:
            notes.append("Model run per engine, median: " + ", ".join(
                f"{name} {stats['median']:.1f} ms" for name, stats in engines.items()) + ".")
        if e.get("export"):
            notes.append(f"Export {e['export']['seconds']:.0f} s; "
                         f"{markdown_escape(e['export']['check'])}.")
        notes += [f"**Error** {markdown_escape(err)}" for err in e["errors"]]
        if notes:
            lines.append(f"- `{e['combination']}`: " + " ".join(notes))
    return lines


def render_page(results: dict, source: str, onnx: dict | None = None) -> str:
    entries = ordered_entries(results)
    plotted = {name: [e for e in entries if e["reference"].get("miou") is not None
                      and x(e) is not None] for name, _, _, x in CHARTS}
    lines = [
        (f"<!-- Generated by `segc bench` from {source}: do not edit. Run `segc bench` to "
        "measure, `segc bench --report-only` to regenerate this page and its charts. -->"),
        "# Model zoo: measured figures beside the seed's",
        "",
        (f"Every compiled combination, measured by `segc bench` on the machine(s) described "
        f"below, beside the figures of {SEED}. In each *ours / seed* pair the first figure "
        "is measured here and ✓ marks agreement to two decimals. mIoU is the seed's "
        "(Cityscapes val, PaddleSeg's trained weights); segc does not retrain for this page."),
        "",
        ("- **GFLOPs, Params(M)**: paddle.flops at 1x3x512x1024 in eval mode, the seed's "
        "convention (a multiply-add counts once; parameters of the layers an eval pass runs)."),
        ("- **Inference ms**: Paddle Inference at batch 1 on a 1024x512 image through the "
        "generated `infer.py`'s functions, median of the timed runs (10th–90th percentile in "
        "brackets). The seed's figure is on a V100 GPU "
        f"({SEED_MACHINE}); ours is on the device named below, so compare the two only "
        "where the devices match."),
        ("- **Preprocess ms**: `infer.py`'s preprocessing of the decoded image (to the "
        "normalized 1x3xHxW input). PaddleSeg's figure also includes decoding the image "
        "file; `benchmarks/vs_paddleseg.py` compares the two side by side on one machine."),
        "- **Postprocess ms**: from the model output to the label mask at the image's size.",
        "",
        "## Charts",
        "",
    ]
    for (name, title, _, _) in CHARTS:
        lines.append(f"![{title}]({CHART_DIR}/{name})")
        lines.append("")
    missing = [e["combination"] for e in entries if e["reference"].get("miou") is None]
    lines.append(f"One point per combination with a reference mIoU "
                 f"({len(plotted[CHARTS[0][0]])} on the inference-time chart). "
                 + ("Not plotted, for want of a reference mIoU: "
                    + ", ".join(f"`{m}`" for m in missing) + "." if missing else ""))
    lines += ["", "## Summary table", ""]
    lines += summary_table(entries, onnx)
    if onnx is not None:
        lines += ["", "## ONNX and OpenVINO", ""] + onnx_section(entries, onnx)
    lines += ["", "## Where and how it was measured", ""]
    lines += environment_section(entries)
    notes = notes_section(entries)
    if notes:
        lines += ["## Notes", ""] + notes + [""]
    return "\n".join(lines).rstrip("\n") + "\n"


def chart_label(entry: dict) -> str:
    return f"{entry['arch']} {entry['backbone']}".strip()  # no backbone: the title alone


# Where a point's label may go, in points from the point: right, above or below it,
# then to its left. The first that overlaps no marker or label placed so far wins.
LABEL_OFFSETS = ((5, 3), (5, -10), (5, 9), (5, -16), (-5, 3), (-5, -10))
LABEL_FONT_SIZE = 7


def place_labels(axes, points) -> None:
    """Label every point, each where it overlaps the fewest markers and labels already
    placed (boxes estimated from the text length, in display pixels)."""
    to_pixels = axes.figure.dpi / 72.0
    char_width, height = 0.6 * LABEL_FONT_SIZE * to_pixels, LABEL_FONT_SIZE * to_pixels
    markers = [axes.transData.transform((x, y)) for x, y, _, _ in points]
    radius = 4 * to_pixels
    placed = [(mx - radius, my - radius, mx + radius, my + radius) for mx, my in markers]

    def overlap(box):
        return sum(max(0.0, min(box[2], b[2]) - max(box[0], b[0]))
                   * max(0.0, min(box[3], b[3]) - max(box[1], b[1])) for b in placed)

    for x, y, label, _ in points:
        px, py = axes.transData.transform((x, y))
        width = char_width * len(label)
        candidates = []
        for dx, dy in LABEL_OFFSETS:
            left = px + dx * to_pixels - (width if dx < 0 else 0.0)
            bottom = py + dy * to_pixels
            candidates.append((left, bottom, left + width, bottom + height))
        index = min(range(len(candidates)), key=lambda i: (overlap(candidates[i]), i))
        placed.append(candidates[index])
        dx, dy = LABEL_OFFSETS[index]
        axes.annotate(label, (x, y), xytext=(dx, dy), textcoords="offset points",
                      fontsize=LABEL_FONT_SIZE, ha="right" if dx < 0 else "left")


def draw_chart(entries: list[dict], title: str, xlabel: str, x_of, path: Path) -> None:
    """One accuracy chart as a PNG; byte-identical for identical entries."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    points = sorted(((x_of(e), e["reference"]["miou"], chart_label(e), e["arch"])
                     for e in entries if e["reference"].get("miou") is not None
                     and x_of(e) is not None), key=lambda p: (p[0], p[1], p[2]))
    archs = sorted({p[3] for p in points})
    # matplotlib's defaults, not the user's matplotlibrc, so every machine draws the same
    with matplotlib.rc_context(matplotlib.rcParamsDefault):
        matplotlib.rcParams.update({"font.size": 9, "svg.hashsalt": "segc",
                                    "path.simplify": False})
        figure = Figure(figsize=(10, 5.5), dpi=100)
        FigureCanvasAgg(figure)
        axes = figure.add_subplot(1, 1, 1)
        colours = matplotlib.colormaps["tab20"]
        # tab20's dark shades first, then its light ones
        shades = [colours(i) for i in range(0, 20, 2)] + [colours(i) for i in range(1, 20, 2)]
        for index, arch in enumerate(archs):
            mine = [p for p in points if p[3] == arch]
            axes.scatter([p[0] for p in mine], [p[1] for p in mine], s=36,
                         color=shades[index % 20], label=arch, zorder=3)
        if points:
            xs = [p[0] for p in points]
            if min(xs) > 0 and max(xs) / min(xs) > 20:
                axes.set_xscale("log")
            axes.margins(x=0.2)  # room for the rightmost labels
            ys = [p[1] for p in points]
            axes.set_ylim(min(ys) - 1.5, max(ys) + 1.5)
            # beside the plot, where it hides no point or label
            axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7,
                        ncols=2 if len(archs) > 12 else 1)
            figure.tight_layout()  # fixes the axes' place, which label placement needs
            place_labels(axes, points)
        else:
            axes.text(0.5, 0.5, "no measured combination has a reference mIoU yet",
                      ha="center", va="center", transform=axes.transAxes)
        axes.set_title(title)
        axes.set_xlabel(xlabel)
        axes.set_ylabel("mIoU (%, Cityscapes val, seed)")
        axes.grid(True, linestyle=":", linewidth=0.6, zorder=0)
        figure.tight_layout()
        tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        figure.savefig(tmp, format="png", metadata={"Software": None})
        os.replace(tmp, path)


def write_zoo_page(results: dict, docs: Path, source: str | None = None,
                   onnx: dict | None = None) -> list[Path]:
    """Write docs/model_zoo.md and docs/model_zoo/*.png; the paths written."""
    docs = Path(docs)
    charts = docs / CHART_DIR
    charts.mkdir(parents=True, exist_ok=True)
    entries = ordered_entries(results)
    written = []
    for name, title, xlabel, x_of in CHARTS:
        draw_chart(entries, title, xlabel, x_of, charts / name)
        written.append(charts / name)
    page = docs / PAGE_NAME
    text = render_page(results, source or "benchmarks/results/zoo_bench.json", onnx)
    tmp = page.with_name(f".{page.name}.tmp-{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, page)
    written.insert(0, page)
    return written
