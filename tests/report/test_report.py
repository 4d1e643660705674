"""The HTML report (asot.report, ``asot report``): what it reads, what it embeds, and a real
headless Chromium opening it (required under CI=true, skipped with a reason elsewhere)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from asot.cli import app
from asot.data.synthetic import TINY, generate_dataset
from asot.io.labels import write_label_file
from asot.report import ReportError, collect, write_report
from asot.report.browser import HeadlessChromium, find_chromium

runner = CliRunner()
CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def embedded(html_path: Path) -> dict:
    text = html_path.read_text(encoding="utf-8")
    match = re.search(r'<script id="report-data" type="application/json">(.*?)</script>', text, re.S)
    assert match, "no embedded data"
    return json.loads(match.group(1))


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """A real (1-epoch, 2-activity) training run: run folder with report.html."""
    from asot.training.pipeline import train

    root = tmp_path_factory.mktemp("report_data")
    generate_dataset(root, TINY)
    run = root / "run"
    result = train(root, TINY.name, run, epochs=1, overrides={"val_every": 1}, figures=1)
    return root, run, result


def test_train_writes_a_self_contained_report(tiny_run):
    root, run, result = tiny_run
    path = run / "report.html"
    text = path.read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", text), "the report must not load anything from the network"
    assert "<script src" not in text and "<link" not in text
    data = embedded(path)
    names = sorted(result.predictions)
    assert [v["name"] for v in data["videos"]] == names
    assert data["rows"][:3] == ["GT", "ASOT", "k-means + argmax"] and len(data["rows"]) >= 3  # GT, ASOT, baselines
    # class names come from the dataset's mapping, and unmatched clusters have their own entry
    mapping = dict(line.split(maxsplit=1) for line in (root / TINY.name / "mapping" / "mapping.txt").read_text().splitlines())
    class_names = {c["name"] for c in data["classes"]}
    assert class_names <= set(mapping.values()) | {"unmatched cluster"}
    assert len(class_names & set(mapping.values())) >= 5
    # the metrics table holds the run's own numbers; per-video MoF is recomputed exactly
    metrics = json.loads((run / "metrics.json").read_text())
    assert data["metrics"]["ASOT"]["full"]["mof"] == pytest.approx(metrics["full"]["mof"])
    for name, entry in metrics["baselines"].items():
        assert name in data["rows"] and data["metrics"][name]["full"]["mof"] == pytest.approx(entry["full"]["mof"])
    from asot.metrics import functional as MF

    video = data["videos"][0]
    act = result.activities[video["activity"]]
    pv = 100 * MF.mof([act.predictions[video["name"]]], [act.ground_truth[video["name"]]], per_video=True)
    assert video["mof_pv"]["ASOT"] == pytest.approx(pv, abs=0.01)
    # tracks decode back to the frame labels' segment structure
    gt = act.ground_truth[video["name"]]
    starts = video["tracks"]["GT"][0::2]
    assert starts == [0, *[int(i) for i in np.flatnonzero(np.diff(gt)) + 1]]
    # settings used and chosen per activity, loss curve per activity
    assert set(data["settings"]["chosen"]) == set(result.activities)
    assert all(data["settings"]["chosen"][a]["K"] == r.n_clusters for a, r in result.activities.items())
    assert data["settings"]["used"]["preset.epochs"] == 1
    assert (metrics.get("advice") in data["notes"]) if metrics.get("advice") else not data["notes"]
    assert set(data["loss"]) == set(result.activities) and all(len(v) == 1 for v in data["loss"].values())
    # figures=1: one segmentation figure per activity (of 3 videos each), a loss curve each
    assert len(list((run / "figures").glob("segmentation_*.png"))) == len(result.activities)
    assert len(list((run / "figures").glob("loss_*.png"))) == len(result.activities)


def test_prediction_folder_with_ground_truth_baseline_rows_and_fps(tmp_path):
    gt_dir, pred = tmp_path / "gt", tmp_path / "pred"
    (tmp_path / "mapping.txt").write_text("0 pour\n1 stir\n2 drink\n")
    truth = {"a": np.array([0] * 10 + [1] * 20 + [2] * 10), "b": np.array([1] * 15 + [2] * 15)}
    for name, labels in truth.items():
        write_label_file(gt_dir / name, labels)
        write_label_file(pred / name, (labels + 1) % 3)  # a perfect prediction under a permutation
        write_label_file(pred / "baselines" / "equal split" / name, np.zeros_like(labels))
    (pred / "segments.csv").write_text("video,segment,label,start_frame,end_frame,start_s,end_s\na,0,x,0,10,0.0,0.4\n")
    path = write_report(pred, gt=gt_dir, mapping=tmp_path / "mapping.txt")
    data = embedded(path)
    assert data["rows"] == ["GT", "ASOT", "equal split"]
    by_name = {v["name"]: v for v in data["videos"]}
    assert by_name["a"]["mof"]["ASOT"] == 100.0 and by_name["b"]["mof"]["ASOT"] == 100.0
    assert by_name["a"]["mof"]["equal split"] == pytest.approx(50.0)  # cluster 0 matched to "stir" (35 of 70 frames)
    assert by_name["a"]["fps"] == pytest.approx(25.0) and by_name["b"]["fps"] is None
    assert [data["classes"][c]["name"] for c in by_name["a"]["tracks"]["ASOT"][1::2]] == ["pour", "stir", "drink"]
    assert data["metrics"]["ASOT"]["full"]["mof"] == pytest.approx(100.0)
    # without ground truth: clusters as predicted, a note, no metrics
    bare = collect(pred)
    assert bare.rows == ["ASOT", "equal split"] and bare.metrics == {} and bare.notes


def test_report_errors_are_clear_and_never_replace_a_foreign_file(tmp_path):
    pred = tmp_path / "pred"
    write_label_file(pred / "v1", np.array([0, 0, 1]))
    mine = pred / "report.html"
    mine.write_text("my own notes")
    with pytest.raises(ReportError, match="not an asot report"):
        write_report(pred)
    assert mine.read_text() == "my own notes"
    write_report(pred, tmp_path / "r.html")
    write_report(pred, tmp_path / "r.html")  # its own report is replaced
    r = runner.invoke(app, ["report", str(tmp_path / "missing")])
    assert r.exit_code == 2 and "not a folder" in r.output and "Traceback" not in r.output
    r = runner.invoke(app, ["report", str(pred), "--gt", str(tmp_path / "nogt"), "--out", str(tmp_path / "r2.html")])
    assert r.exit_code == 2 and "--gt" in r.output
    (tmp_path / "empty").mkdir()
    r = runner.invoke(app, ["report", str(tmp_path / "empty")])
    assert r.exit_code == 2 and "no prediction files" in r.output


def test_embedded_data_cannot_end_the_script(tmp_path):
    pred, gt = tmp_path / "pred", tmp_path / "gt"
    write_label_file(pred / "v<!--", np.array([0, 1]))
    write_label_file(gt / "v<!--", np.array([0, 1]))
    (tmp_path / "m.txt").write_text("0 </script><b>\n1 a&b <i>\n")
    data = embedded(write_report(pred, gt=gt, mapping=tmp_path / "m.txt"))
    assert data["videos"][0]["name"] == "v<!--"
    assert {c["name"] for c in data["classes"]} == {"</script><b>", "a&b <i>"}


def _browser_or_skip() -> None:
    if find_chromium() is None:
        message = "headless Chromium not installed (apt-get install chromium)"
        if CI:
            pytest.fail(message + " (CI=true: .ci/run installs it)")
        pytest.skip(message)


def test_report_in_headless_chromium(tiny_run, tmp_path):
    """The run's report in a real browser: no console errors, one timeline per video and row,
    hover text for a segment, sorting, and a screenshot (kept in $ASOT_SCREENSHOT_DIR if set)."""
    _browser_or_skip()
    _, run, result = tiny_run
    n_videos = len(result.predictions)
    shot = Path(os.environ.get("ASOT_SCREENSHOT_DIR", tmp_path)) / "report_test.png"
    with HeadlessChromium(1400, 900) as browser:
        browser.open(run / "report.html")
        assert browser.evaluate("document.querySelectorAll('tr.video').length") == n_videos
        per_video = browser.evaluate("[...document.querySelectorAll('tr.video')].map(tr => tr.querySelectorAll('svg').length)")
        assert per_video == [len(embedded(run / "report.html")["rows"])] * n_videos  # GT, ASOT, each baseline
        box = browser.evaluate("""(() => { const e = document.querySelector('tr.video svg[data-row="ASOT"] rect');
                                  e.scrollIntoView({block: 'center'}); const r = e.getBoundingClientRect();
                                  return [r.x + r.width / 2, r.y + r.height / 2]; })()""")
        browser.hover(*box)
        tip = browser.evaluate("document.getElementById('tooltip').innerText")
        assert "ASOT" in tip and re.search(r"frames 0\u2013\d+", tip), tip
        # sort by ASOT MoF, worst first
        browser.evaluate("document.querySelector('th[data-key=\"mof:ASOT\"]').click()")
        shown = browser.evaluate("[...document.querySelectorAll('tr.video td:nth-child(5)')].map(td => parseFloat(td.textContent))")
        assert shown == sorted(shown)
        assert browser.evaluate("getComputedStyle(document.getElementById('tooltip')).display") == "none"  # stale after sorting
        box = browser.evaluate("""(() => { const e = document.querySelector('tr.video svg[data-row="GT"] rect');
                                  e.scrollIntoView({block: 'center'}); const r = e.getBoundingClientRect();
                                  return [r.x + r.width / 2, r.y + r.height / 2]; })()""")
        browser.hover(*box)
        first = browser.evaluate("document.querySelector('tr.video').getAttribute('data-name')")
        tip = browser.evaluate("document.getElementById('tooltip').innerText")
        assert f"{first} \u00b7 GT" in tip, tip
        # one activity: its videos only, and the legend lists only the classes drawn for them
        browser.evaluate("(() => { const s = document.getElementById('activity'); s.value = 'tea'; s.dispatchEvent(new Event('change')); })()")
        assert browser.evaluate("document.querySelectorAll('tr.video').length") == sum(1 for n in result.predictions if n.endswith("_tea"))
        legend = browser.evaluate("[...document.querySelectorAll('#legend .item')].map(e => e.textContent)")
        assert legend and not any(name.startswith("salad") for name in legend), legend
        browser.screenshot(shot)
        assert browser.errors == []
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000


def test_thumbnails_from_the_source_video(tmp_path):
    """A run made from a video (features sidecar with source and timestamps): one thumbnail per
    segment, the frame from the middle of the segment (its colour identifies the scene)."""
    av = pytest.importorskip("av", reason="PyAV (the video decoder) is not installed")
    import base64
    import io

    from PIL import Image

    colors = [(220, 30, 30), (30, 200, 30), (30, 30, 220)]
    labels = np.repeat([0, 1, 2], 10)
    video = tmp_path / "clip.mp4"
    with av.open(str(video), mode="w") as container:
        stream = container.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for label in labels:
            image = np.zeros((48, 64, 3), np.uint8) + np.array(colors[label], np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    data_dir = tmp_path / "mine"
    (data_dir / "features").mkdir(parents=True)
    (data_dir / "features" / "clip.json").write_text(json.dumps(
        {"source": str(video), "fps": 10.0, "timestamps": [i / 10 for i in range(30)]}))
    write_label_file(tmp_path / "pred" / "clip", labels)
    data = embedded(write_report(tmp_path / "pred", data=data_dir))
    assert data["videos"][0]["fps"] == 10.0
    thumbs = data["thumbnails"]["clip"]["ASOT"]
    assert len(thumbs) == 3 and all(t.startswith("data:image/jpeg;base64,") for t in thumbs)
    for thumb, color in zip(thumbs, colors):
        pixel = np.asarray(Image.open(io.BytesIO(base64.b64decode(thumb.split(",", 1)[1]))).convert("RGB")).mean((0, 1))
        assert np.abs(pixel - color).max() < 40, (pixel, color)
    assert collect(tmp_path / "pred", data=data_dir, thumbnails=False).thumbnails == {}


def test_settings_chosen_from_the_data_are_read_from_the_checkpoints(tmp_path):
    import torch

    from asot.report.collect import _chosen_settings

    (tmp_path / "checkpoints" / "coffee").mkdir(parents=True)
    torch.save({"state_dict": {"rho_used": torch.tensor(0.0, dtype=torch.float64), "recurring": torch.tensor(True)},
                "training_radii": [0.05, 0.1, 0.2], "hyper_parameters": {"n_clusters": 7}},
               tmp_path / "checkpoints" / "coffee" / "last.ckpt")  # fmt: skip
    chosen = _chosen_settings(tmp_path, {"n_clusters": {"coffee": 7}, "preset": {"rho_auto": True}})
    assert chosen == {"coffee": {"K": 7, "rho": "0 (auto)", "actions recur": True,
                                 "radius (auto)": "0.1 median, 0.05-0.2 over 3 videos"}}  # fmt: skip


def test_report_command_on_a_run_folder(tiny_run, tmp_path):
    _, run, result = tiny_run
    out = tmp_path / "r.html"
    r = runner.invoke(app, ["report", str(run), "--out", str(out), "--fps", "15"])
    assert r.exit_code == 0, r.output
    assert str(out) in r.output
    data = embedded(out)
    assert len(data["videos"]) == len(result.predictions) and all(v["fps"] == 15.0 for v in data["videos"])
    assert runner.invoke(app, ["report", str(run), "--fps", "0"]).exit_code == 2
