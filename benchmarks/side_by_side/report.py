"""The side-by-side benchmark's verdicts and its page: each ratio segc / PaddleSeg
against its target, and docs/vs_paddleseg.md as a pure function of the results file
(`--report-only` rewrites the page from that file alone)."""

from __future__ import annotations

from pathlib import Path

from .locations import REPO

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
    "e2e_inference_best_engine": ("<=", 0.5, ("segc's fastest engine / PaddleSeg's faster CPU "
                                  "configuration, ms per image end to end, the worst of the "
                                  "engine part's combinations")),
}


def ratio(ours, theirs):
    return None if not ours or not theirs else round(ours / theirs, 4)


def verdict(name, value):
    if value is None:
        return {"target": f"{TARGETS[name][0]} {TARGETS[name][1]}", "value": None,
                "met": None, "meaning": TARGETS[name][2]}
    op, bound, meaning = TARGETS[name]
    met = {"<": value < bound, "<=": value <= bound, ">=": value >= bound}[op]
    return {"target": f"{op} {bound}", "value": value, "met": bool(met), "meaning": meaning}


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
    engine = settings.get("engine", "paddle")  # segc's side of end-to-end inference
    engine_note = "" if engine == "paddle" else f" (segc's inference on {engine})"
    lines = [
        f"<!-- Generated by benchmarks/vs_paddleseg.py from {source}: do not edit. -->",
        "# segc vs PaddleSeg 2.8, side by side",
        "",
        (f"`{results['combination']}` against PaddleSeg's `{results['paddleseg_config']}`, "
        f"measured {results['measured_at'][:10]} on {env['cpu_model']} "
        f"({env['logical_cpus']} logical CPUs), Paddle {env['paddle']}, PaddleSeg "
        f"{env.get('paddleseg')}; {settings['device']}, {settings['cpu_threads']} threads, "
        f"oneDNN {'on' if settings['onednn'] else 'off'} on both sides{engine_note}; "
        "training batch "
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
    if parts.get("engines"):
        lines += render_engines(parts["engines"])
    lines += ["", ("What PaddleSeg's code needed to run under Paddle 3.3 (benchmark only, "
              "see tests/oracle/runtime.py):"), ""]
    lines += [f"- {fix}" for fix in results["paddleseg_fixes"]]
    return "\n".join(lines) + "\n"


ENGINE_TITLES = {"paddle": "Paddle Inference", "onnxruntime": "ONNX Runtime",
                 "openvino": "OpenVINO"}


def engine_label(label: str) -> str:
    """'segc openvino int8' -> 'OpenVINO, int8'; PaddleSeg's sides by their configuration."""
    if label == "paddleseg":
        return "PaddleSeg deploy, oneDNN on"
    if label == "paddleseg_default":
        return "PaddleSeg deploy, default (oneDNN off)"
    words = label.split()[1:]
    return ENGINE_TITLES[words[0]] + (", int8" if words[1:] == ["int8"] else "")


def render_engines(part: dict) -> list[str]:
    """The page's engine section: one table row per combination and side."""
    env = part["environment"]
    lines = ["", "## Inference engines, end to end per image", "",
             (f"Measured {env['measured_at'][:10]} on {env['cpu_model']} "
              f"({env['logical_cpus']} logical CPUs), {part['cpu_threads']} threads, Paddle "
              f"{env['paddle']}, onnxruntime {env.get('onnxruntime')}, OpenVINO "
              f"{env.get('openvino')}; load average {env['load_average_start'][0]:.1f} at the "
              f"start, {env.get('load_average_end', [0])[0]:.1f} at the end. "
              "Each combination's untrained model exported once (`export.py --engines "
              "paddle,onnxruntime,openvino`"
              + (", `--quantize int8` calibrated on the 4 synthetic 1024x512 test scenes"
                 if part.get("int8") else "")
              + "), one 1024x512 image at a time: read, preprocess, the engine's run, "
              "postprocess. PaddleSeg's side is its deploy/python/infer.py Predictor on the "
              "same Paddle program. The ratio is segc's engine against PaddleSeg's faster CPU "
              "configuration; the target is <= 0.5."), "",
             ("| combination | engine | ms per image | of which the model | segc / "
              "PaddleSeg's fastest | <= 0.5 |"), "|-|-|-|-|-|-|"]
    for combination, entry in part["combinations"].items():
        for label, values in entry["figures"].items():
            rate = values.get("ratio_to_paddleseg_best")
            met = "" if rate is None else ("yes" if rate <= 0.5 else "no")
            marker = " (fastest)" if label in (entry["segc_fastest"],
                                               entry["paddleseg_best"]) else ""
            lines.append(f"| {combination} | {engine_label(label)}{marker} | "
                         f"{values['total_ms']:.1f} | {values['model_ms']:.1f} | "
                         f"{'' if rate is None else f'{rate:.3f}'} | {met} |")
    if part.get("int8"):
        lines += ["", ("The int8 rows time untrained models, whose speed does not depend on "
                       "the weights but whose accuracy means nothing; what int8 keeps of a "
                       "trained model's mIoU is measured by `benchmarks/quantize_int8.py` "
                       "([benchmarks/results/quantize_int8.md]"
                       "(../benchmarks/results/quantize_int8.md)).")]
    lines += ["", "Per combination, segc's fastest engine and its fastest float32 one:", ""]
    for combination, entry in part["combinations"].items():
        figures = entry["figures"]
        fastest, fastest_float = entry["segc_fastest"], entry["segc_fastest_float"]
        best, best_float = (figures[fastest]["ratio_to_paddleseg_best"],
                            figures[fastest_float]["ratio_to_paddleseg_best"])
        model_share = figures[fastest_float]["model_ms"] / figures[fastest_float]["total_ms"]
        lines.append(
            f"- {combination}: {engine_label(fastest)} {best:.3f} of PaddleSeg's time "
            f"({'target met' if best <= 0.5 else 'target missed'}); in float32 "
            f"{engine_label(fastest_float)} {best_float:.3f} "
            f"({'met' if best_float <= 0.5 else 'missed'}: the engine's model run is "
            f"{model_share:.0%} of its time).")
    return lines
