"""`segc bench`: the results file's schema, merging, and the zoo page and charts made from
a small results file; one real measurement of the smallest combination (slow)."""

import copy
import json

import pytest

from segc.bench import page as zoo_page
from segc.bench.onnx_status import (
    STATUS_FILE,
    StatusError,
    empty_status,
    load_status,
    merge_status,
    save_status,
)
from segc.bench.results import (
    RESULTS_FORMAT,
    RESULTS_VERSION,
    ResultsError,
    empty_results,
    load_results,
    merge_entries,
    save_results,
    schema_text,
    validation_errors,
)
from segc.bench.timing import distribution, stage_stats

from .conftest import GENERATED, REPO

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def stage(median, p10=None, p90=None):
    p10 = median * 0.9 if p10 is None else p10
    p90 = median * 1.1 if p90 is None else p90
    return {"runs": 10, "median": median, "mean": median, "min": p10, "max": p90, "p10": p10,
            "p90": p90, "stdev": 0.5, "cpu_median": median * 1.8}


def entry(combination, arch, backbone, reference, gflops=None, eval_params=None,
          inference=None, errors=()):
    return {
        "combination": combination, "arch": arch, "backbone": backbone,
        "spec_file": f"zoo_specs/{arch.lower()}.yaml", "measured_at": "2026-01-02T03:04:05Z",
        "segc_version": "0.1.0",
        "scripts_sha256": {"train.py": "0" * 64},
        "environment": {"platform": "Linux-x86_64", "cpu_model": "Test CPU", "logical_cpus": 2,
                        "memory_gib": 24.0, "python": "3.11.7", "paddle": "3.3.1",
                        "paddle_commit": None, "paddle_cuda": False, "device": "cpu",
                        "numpy": "2.0", "opencv": "4.10", "onnxruntime": None,
                        "paddle2onnx": None, "load_average": [1.5, 1.0, 0.5]},
        "settings": {"device": "cpu", "cpu_threads": 2, "onednn": True,
                     "input_shape": [1, 3, 512, 1024], "warmup": 3, "runs": 10,
                     "output_op": "argmax"},
        "params": {"total": eval_params or 1000, "eval": eval_params},
        "flops": None if gflops is None else {"flops": int(gflops * 1e9), "gflops": gflops},
        "export": None if inference is None else {"seconds": 12.0, "check": "argmax agreement "
                                                  "1.000000", "onnx_check": None},
        "latency_ms": None if inference is None else {
            "read": stage(9.0), "preprocess": stage(1.25), "inference": stage(inference),
            "postprocess": stage(0.2)},
        "onnx_latency_ms": None,
        "reference": reference,
        "errors": list(errors),
    }


@pytest.fixture
def small_results():
    return merge_entries(empty_results(), [
        entry("pspnet_resnet101_vd_os8", "PSPNet", "ResNet101_vd",
              {"config": "pspnet.yml", "miou": 80.48, "gflops": 686.89, "params_m": 86.97,
               "inference_ms": 115.93, "preprocess_ms": 115.94, "postprocess_ms": 0.012},
              gflops=686.8912, eval_params=86_970_000, inference=9000.0),
        entry("fcn_hrnet_w48", "FCN", "HRNet_W48",
              {"config": "fcn48.yml", "miou": 80.70, "gflops": 187.50, "params_m": 65.94},
              gflops=190.1, eval_params=65_940_000, inference=2500.0),
        entry("fcn_hrnet_w18", "FCN", "HRNet_W18",
              {"config": "fcn18.yml", "note": "no row | in the seed"},
              errors=["flops: RuntimeError: boom"]),
    ])


def test_results_schema_accepts_measured_entries(small_results):
    assert validation_errors(small_results) == []
    assert small_results["format"] == RESULTS_FORMAT
    assert small_results["version"] == RESULTS_VERSION


@pytest.mark.parametrize("break_it, where", [
    (lambda r: r.pop("version"), "(top level)"),
    (lambda r: r["entries"]["fcn_hrnet_w48"].pop("latency_ms"), "entries/fcn_hrnet_w48"),
    (lambda r: r["entries"]["fcn_hrnet_w48"]["latency_ms"]["inference"].update(median="fast"),
     "entries/fcn_hrnet_w48/latency_ms/inference/median"),
    (lambda r: r["entries"]["fcn_hrnet_w48"]["params"].update(total=-1),
     "entries/fcn_hrnet_w48/params/total"),
    (lambda r: r["entries"]["fcn_hrnet_w48"]["settings"].update(input_shape=[1, 3]),
     "entries/fcn_hrnet_w48/settings/input_shape"),
    (lambda r: r["entries"]["fcn_hrnet_w48"].update(combination="other"),
     "entries/fcn_hrnet_w48"),
    (lambda r: r["entries"]["fcn_hrnet_w48"].update(surprise=1), "entries/fcn_hrnet_w48"),
])
def test_results_schema_rejects_broken_files(small_results, tmp_path, break_it, where):
    broken = copy.deepcopy(small_results)
    break_it(broken)
    errors = validation_errors(broken)
    assert errors and any(e.startswith(where + ":") for e in errors), errors
    path = tmp_path / "results.json"
    path.write_text(json.dumps(broken))
    with pytest.raises(ResultsError, match="does not follow the results schema"):
        load_results(path)
    with pytest.raises(ResultsError, match="refusing to write"):
        save_results(tmp_path / "out.json", broken)
    assert not (tmp_path / "out.json").exists()


def test_rerunning_a_subset_replaces_only_its_entries(small_results, tmp_path):
    path = tmp_path / "results.json"
    save_results(path, small_results)
    assert json.loads((tmp_path / "results.schema.json").read_text())["properties"]["version"] == {
        "const": RESULTS_VERSION}
    rerun = copy.deepcopy(small_results["entries"]["fcn_hrnet_w48"])
    rerun["latency_ms"]["inference"] = stage(1234.5)
    merged = merge_entries(load_results(path), [rerun])
    save_results(path, merged)
    again = load_results(path)
    assert list(again["entries"]) == sorted(small_results["entries"])
    assert again["entries"]["fcn_hrnet_w48"]["latency_ms"]["inference"]["median"] == 1234.5
    for name in ("pspnet_resnet101_vd_os8", "fcn_hrnet_w18"):
        assert again["entries"][name] == small_results["entries"][name]



def test_a_run_that_skipped_a_part_keeps_the_earlier_figures_of_that_part(small_results):
    """segc bench --no-flops (a latency-only run) keeps the FLOPs an earlier run counted
    at the same input size, --no-latency the latency; what was measured is replaced, and
    a skipped part measured at another size is not carried over."""
    earlier = small_results["entries"]["pspnet_resnet101_vd_os8"]
    latency_only = entry("pspnet_resnet101_vd_os8", "PSPNet", "ResNet101_vd",
                         earlier["reference"], inference=7777.0)
    kept = merge_entries(small_results, [latency_only], not_measured=["flops"])
    new = kept["entries"]["pspnet_resnet101_vd_os8"]
    assert new["flops"] == earlier["flops"] and new["params"]["eval"] == 86_970_000
    assert new["latency_ms"]["inference"]["median"] == 7777.0
    flops_only = entry("pspnet_resnet101_vd_os8", "PSPNet", "ResNet101_vd",
                       earlier["reference"], gflops=700.0, eval_params=86_970_000)
    new = merge_entries(small_results, [flops_only], not_measured=["latency"])[
        "entries"]["pspnet_resnet101_vd_os8"]
    assert new["flops"]["gflops"] == 700.0
    assert new["latency_ms"] == earlier["latency_ms"] and new["export"] == earlier["export"]
    # without not_measured the entry replaces the old one whole, as before
    assert merge_entries(small_results, [latency_only])["entries"][
        "pspnet_resnet101_vd_os8"]["flops"] is None
    elsewhere = copy.deepcopy(latency_only)
    elsewhere["settings"]["input_shape"] = [1, 3, 256, 512]
    assert merge_entries(small_results, [elsewhere], not_measured=["flops"])["entries"][
        "pspnet_resnet101_vd_os8"]["flops"] is None
    assert validation_errors(kept) == []

def test_stats_median_percentiles_and_spread():
    figures = stage_stats([5.0, 1.0, 3.0, 2.0, 4.0], [10.0, 2.0, 6.0, 4.0, 8.0])
    assert figures["median"] == 3.0 and figures["mean"] == 3.0
    assert (figures["min"], figures["max"]) == (1.0, 5.0)
    assert figures["p10"] == pytest.approx(1.4) and figures["p90"] == pytest.approx(4.6)
    assert figures["stdev"] == pytest.approx(1.5811, abs=1e-4)
    assert figures["cpu_median"] == 6.0 and figures["runs"] == 5
    assert stage_stats([7.0], [7.0])["stdev"] == 0.0
    # the same figures as benchmarks/vs_paddleseg.py records them
    assert distribution([5.0, 1.0, 3.0, 2.0, 4.0]) == {
        "n": 5, "median": 3.0, "mean": 3.0, "p10": 1.4, "p90": 4.6, "min": 1.0, "max": 5.0}


def test_page_has_the_seed_columns_with_measured_beside_reference(small_results):
    page = zoo_page.render_page(small_results, "results.json")
    lines = page.splitlines()
    header = next(line for line in lines if line.startswith("| Model | Backbone"))
    for column in ("mIoU (seed)", "GFLOPs ours / seed", "Params(M) ours / seed",
                   "Inference ms ours (p10–p90)", "Inference ms seed",
                   "Preprocess ms ours / seed", "Postprocess ms ours / seed"):
        assert column in header
    rows = {line.split(" | ")[0] + " " + line.split(" | ")[1]: line for line in lines
            if line.startswith(("| FCN", "| PSPNet"))}
    assert list(rows) == ["| FCN HRNet_W18", "| FCN HRNet_W48", "| PSPNet ResNet101_vd"]
    pspnet = rows["| PSPNet ResNet101_vd"]
    assert "80.48%" in pspnet and "686.89 / 686.89 ✓" in pspnet and "86.97 / 86.97 ✓" in pspnet
    assert "9000.0 (8100.0–9900.0)" in pspnet and "115.93" in pspnet
    assert "1.25 / 115.94" in pspnet and "0.200 / 0.012" in pspnet
    assert "190.10 / 187.50 |" in rows["| FCN HRNet_W48"]  # different: no tick
    assert "– | – | – | – |" in rows["| FCN HRNet_W18"]
    assert "Not plotted, for want of a reference mIoU: `fcn_hrnet_w18`." in page
    assert "**Error** flops: RuntimeError: boom" in page
    assert "no row \\| in the seed" in page  # spec text cannot break the table
    assert "Test CPU, 2 logical CPUs" in page and "oneDNN on" in page
    assert page == zoo_page.render_page(copy.deepcopy(small_results), "results.json")


def test_charts_are_deterministic_pngs_of_the_results(small_results, tmp_path):
    first = zoo_page.write_zoo_page(small_results, tmp_path / "a")
    second = zoo_page.write_zoo_page(copy.deepcopy(small_results), tmp_path / "b")
    assert [p.name for p in first] == ["model_zoo.md", "accuracy_vs_inference_time.png",
                                       "accuracy_vs_gflops.png", "accuracy_vs_params.png"]
    for a, b in zip(first, second):
        assert a.read_bytes() == b.read_bytes(), a.name
    for png in first[1:]:
        assert png.read_bytes().startswith(PNG_SIGNATURE)
        assert f"]({zoo_page.CHART_DIR}/{png.name})" in first[0].read_text()
    # the charts show the data: other figures, other pictures
    moved = copy.deepcopy(small_results)
    moved["entries"]["fcn_hrnet_w48"]["latency_ms"]["inference"]["median"] = 100.0
    third = zoo_page.write_zoo_page(moved, tmp_path / "c")
    assert third[1].read_bytes() != first[1].read_bytes()
    assert third[2].read_bytes() == first[2].read_bytes()


def test_report_only_regenerates_from_the_results_file_alone(small_results, tmp_path,
                                                              run_segc):
    results = tmp_path / "results.json"
    save_results(results, small_results)
    code, out, err = run_segc("bench", "--report-only", "--results", results, "--docs",
                              tmp_path / "docs", cwd=tmp_path)
    assert code == 0, err
    page = (tmp_path / "docs" / "model_zoo.md").read_text()
    assert page == zoo_page.render_page(small_results, str(results))
    assert "wrote" in out
    code, _, err = run_segc("bench", "--report-only", "--results", tmp_path / "none.json",
                            "--docs", tmp_path / "docs", cwd=tmp_path)
    assert code == 2 and "no results file; run `segc bench` first" in err


def onnx_entry(combination, status, reason=None, multiple=None, shape=None, ort=None,
               openvino=None):
    return {
        "combination": combination, "measured_at": "2026-01-02T03:04:05Z", "status": status,
        "reason": reason, "multiple": multiple, "input_shape": shape,
        "onnx_check": None if ort is None else f"argmax agreement {ort:.6f} on input ...",
        "onnxruntime_agreement": ort,
        "openvino": None if openvino is None else {
            "f32": openvino[0], "default": openvino[1], "default_precision": "bf16"},
        "export_seconds": None if ort is None else 12.5,
        "environment": {"cpu_model": "Test CPU", "paddle": "3.3.1", "paddle2onnx": "2.1.0",
                        "onnxruntime": "1.32.0", "openvino": "2026.4.1"},
    }


@pytest.fixture
def small_onnx_status():
    return merge_status(empty_status(), [
        onnx_entry("fcn_hrnet_w18", "converts", shape=[1, 3, 128, 256], ort=1.0,
                   openvino=(1.0, 0.98765)),
        onnx_entry("pspnet_resnet101_vd_os8", "fixed_input", reason="--onnx needs ...",
                   multiple=48, shape=[1, 3, 48, 96], ort=0.9995, openvino=(1.0, 1.0)),
        onnx_entry("segnet", "unsupported", reason="paddle2onnx cannot convert | unpool"),
    ])


def test_page_shows_each_combinations_onnx_status(small_results, small_onnx_status):
    page = zoo_page.render_page(small_results, "results.json", small_onnx_status)
    summary = next(line for line in page.splitlines() if line.startswith("| Model |"))
    assert summary.endswith("| ONNX |")
    rows = [line for line in page.splitlines() if line.startswith("| PSPNet")]
    assert rows[0].endswith("| fixed size (×48) |")  # the summary table's cell
    assert rows[1] == ("| PSPNet | ResNet101_vd | fixed size (×48) | 48x96 | 0.999500 | "
                       "1.000000 | 1.000000 (bf16) |")
    assert ("| FCN | HRNet_W18 | yes | 128x256 | 1.000000 | 1.000000 | 0.987650 (bf16) |"
            in page.splitlines())
    assert "| FCN | HRNet_W48 | not measured | – | – | – | – |" in page.splitlines()
    # a combination with no bench entry still gets its row; its reason cannot break it
    assert ("| – | – | no: paddle2onnx cannot convert \\| unpool | – | – | – | – |"
            in page.splitlines())
    assert "bf16: 0.987650 to 1.000000 of the pixels" in page
    assert "(`INFERENCE_PRECISION_HINT`) at least 1.000000 did." in page
    assert ("Measured 2026-01-02 on Test CPU (3 combination(s)): Paddle 3.3.1, paddle2onnx "
            "2.1.0, onnxruntime 1.32.0, OpenVINO 2026.4.1.") in page
    assert "ONNX" not in zoo_page.render_page(small_results, "results.json")


def test_onnx_status_file_round_trip_and_schema(small_onnx_status, tmp_path):
    path = tmp_path / STATUS_FILE
    save_status(path, small_onnx_status)
    assert load_status(path) == small_onnx_status
    broken = copy.deepcopy(small_onnx_status)
    broken["entries"]["segnet"]["status"] = "maybe"
    with pytest.raises(StatusError, match="maybe"):
        save_status(path, broken)
    assert load_status(tmp_path / "none.json", missing_ok=True) == empty_status()


def test_report_only_adds_the_onnx_status_beside_the_results(small_results, small_onnx_status,
                                                             tmp_path, run_segc):
    results = tmp_path / "results.json"
    save_results(results, small_results)
    save_status(tmp_path / STATUS_FILE, small_onnx_status)
    code, _, err = run_segc("bench", "--report-only", "--results", results, "--docs",
                            tmp_path / "docs", cwd=tmp_path)
    assert code == 0, err
    page = (tmp_path / "docs" / "model_zoo.md").read_text()
    assert page == zoo_page.render_page(small_results, str(results), small_onnx_status)


def test_bench_refuses_unknown_combinations_before_measuring(tmp_path, run_segc):
    code, _, err = run_segc("bench", "no_such_combination", "--generated", GENERATED,
                            "--results", tmp_path / "r.json", cwd=tmp_path)
    assert code == 2 and "unknown combination(s) no_such_combination" in err
    assert not (tmp_path / "r.json").exists()


def test_bench_refuses_an_unknown_engine_before_measuring(tmp_path, run_segc):
    code, _, err = run_segc("bench", "fcn_hrnet_w18", "--generated", GENERATED, "--engines",
                            "paddle,tensorrt", "--results", tmp_path / "r.json", cwd=tmp_path)
    assert code == 2 and "--engines: unknown engine(s) tensorrt" in err
    assert not (tmp_path / "r.json").exists()


def test_committed_results_and_zoo_page_agree():
    """The committed page is what --report-only makes of the committed results file, and
    the committed schema is the one segc validates with."""
    folder = REPO / "benchmarks" / "results"
    assert (folder / "zoo_bench.schema.json").read_text(encoding="utf-8") == schema_text()
    results = load_results(folder / "zoo_bench.json")
    assert results["entries"], "the committed results file has no entry"
    onnx = load_status(folder / STATUS_FILE)
    committed = (REPO / "docs" / "model_zoo.md").read_text(encoding="utf-8")
    assert committed == zoo_page.render_page(results, "benchmarks/results/zoo_bench.json",
                                             onnx)
    for name, _, _, _ in zoo_page.CHARTS:
        assert (REPO / "docs" / zoo_page.CHART_DIR / name).read_bytes().startswith(
            PNG_SIGNATURE)


@pytest.mark.slow
def test_bench_measures_a_combination_into_a_valid_entry(tmp_path, run_segc):
    """The real thing, small: the smallest combination at a small input size."""
    results = tmp_path / "results.json"
    code, out, err = run_segc(
        "bench", "fcn_hrnet_w18", "--generated", GENERATED, "--results", results,
        "--docs", tmp_path / "docs", "--input-size", "128", "64", "--warmup", "0",
        "--runs", "2", "--cpu-threads", "1", "--engines", "onnxruntime,openvino", cwd=tmp_path)
    assert code == 0, out + err
    data = load_results(results)
    [measured] = data["entries"].values()
    assert measured["combination"] == "fcn_hrnet_w18" and measured["errors"] == []
    assert measured["settings"]["input_shape"] == [1, 3, 64, 128]
    assert measured["params"]["total"] >= measured["params"]["eval"] > 9_000_000
    assert measured["flops"]["gflops"] > 0
    assert "argmax agreement" in measured["export"]["check"]
    for name, figures in measured["latency_ms"].items():
        assert figures["runs"] == 2 and 0 < figures["min"] <= figures["median"], name
    # each engine's model run, loaded as infer.py --engine loads it
    assert measured["settings"]["engines"] == ["paddle", "onnxruntime", "openvino"]
    assert sorted(measured["engine_latency_ms"]) == ["onnxruntime", "openvino", "paddle"]
    for name, figures in measured["engine_latency_ms"].items():
        assert figures["runs"] == 2 and 0 < figures["min"] <= figures["median"], name
    assert "[1/1] fcn_hrnet_w18: params" in out and "openvino " in out
    page = (tmp_path / "docs" / "model_zoo.md").read_text()
    assert "| FCN | HRNet_W18 |" in page and "Model run per engine, median: paddle " in page


def test_model_card_figures_come_from_measured_entries_at_the_seed_size(tmp_path):
    from segc.model_figures import load_figures, update_figures

    full = entry("a_r50", "A", "ResNet50_vd", {}, gflops=123.456, eval_params=26_789_000)
    small = copy.deepcopy(full)
    small["combination"] = "b_r50"
    small["settings"]["input_shape"] = [1, 3, 64, 128]  # other FLOPs: not the card's
    no_flops = entry("c_r50", "C", "ResNet50_vd", {})
    assert update_figures(tmp_path, [full, small, no_flops]) == tmp_path / "measured.json"
    assert load_figures(tmp_path) == {
        "a_r50": {"params_m": 26.79, "params_total_m": 26.79, "gflops": 123.46}}
    assert update_figures(tmp_path, [full]) is None  # nothing new: the file is left alone
