"""Training, predicting and segmenting without labels: features only, or labelled and
unlabelled videos mixed."""

from __future__ import annotations

import json
import shutil
import warnings

import numpy as np
import pytest
from typer.testing import CliRunner

import asot
from asot.cli import app
from asot.data import load_dataset
from asot.data.synthetic import TINY
from asot.io.labels import read_labels
from asot.io.segments import expand_segments, read_segment_table
from asot.training.pipeline import PipelineError, PipelineWarning
from tests.conftest import require_shared

runner = CliRunner()
BREAKFAST_ARGS = ["--preset", "breakfast", "--epochs", "1", "--seed", "5", "--no-baseline", "--no-figures", "--no-progress"]


def _strip_labels(src, dest):
    """A copy of the dataset folder ``src`` at ``dest`` with ``groundTruth/`` and ``mapping/`` removed."""
    shutil.copytree(src, dest)
    shutil.rmtree(dest / "groundTruth")
    shutil.rmtree(dest / "mapping")
    return dest


def test_load_dataset_optional_labels(tiny_root, tmp_path):
    base = tmp_path / TINY.name
    shutil.copytree(tiny_root / TINY.name, base)
    full = load_dataset(tmp_path, TINY.name)
    dropped = full[0].name
    (base / "groundTruth" / dropped).unlink()
    mixed = load_dataset(tmp_path, TINY.name, labels="optional")
    assert [v.name for v in mixed] == [v.name for v in full]  # the video without groundTruth is kept
    assert mixed.unlabelled == (dropped,) and mixed[dropped].labels is None
    assert all(np.array_equal(v.labels, full[v.name].labels) for v in mixed if v.name != dropped)
    shutil.rmtree(base / "groundTruth")
    shutil.rmtree(base / "mapping")  # no groundTruth/: no mapping needed
    bare = load_dataset(tmp_path, TINY.name, labels="optional")
    assert bare.unlabelled == tuple(v.name for v in full) and bare.mapping is None
    with pytest.raises(ValueError, match="labels must be"):
        load_dataset(tmp_path, TINY.name, labels="maybe")


def test_breakfast_without_labels_trains_and_predicts_like_with_labels(tmp_path):
    """The Breakfast sample with groundTruth/ and mapping/ removed: same seed, same cluster ids."""
    src = require_shared("data", "breakfast_coffee", "Breakfast")
    root = tmp_path / "data"
    _strip_labels(src, root / "Breakfast")
    labelled = asot.train(src.parent, "Breakfast", preset="breakfast", epochs=1, seed=5, baseline=False, figures=False)
    assert "full" in labelled.metrics

    run = tmp_path / "run"
    r = runner.invoke(app, ["train", "--data", str(root), "--dataset", "Breakfast", "--out", str(run), *BREAKFAST_ARGS])
    assert r.exit_code == 0, r.output
    assert r.output.count("metrics skipped") == 1 and "MoF" not in r.output
    metrics = json.loads((run / "metrics.json").read_text())
    assert "full" not in metrics and metrics["unlabelled"]["n_labelled"] == 0
    assert sorted(metrics["unlabelled"]["videos"]) == sorted(labelled.predictions)
    for name, pred in labelled.predictions.items():  # identical cluster ids, not just equal scores
        np.testing.assert_array_equal(read_labels(run / "predictions" / name), pred, err_msg=name)

    r = runner.invoke(app, ["predict", "--checkpoint", str(run), "--data", str(root), "--dataset", "Breakfast",
                            "--out", str(tmp_path / "pred"), "--fps", "15"])  # fmt: skip
    assert r.exit_code == 0, r.output
    for name, pred in labelled.predictions.items():
        np.testing.assert_array_equal(read_labels(tmp_path / "pred" / name), pred, err_msg=name)
    # both wrote segment tables that expand back to their label files exactly
    for folder, labels in ((run, run / "predictions"), (tmp_path / "pred", tmp_path / "pred")):
        expanded = expand_segments(folder / "segments.csv")
        assert sorted(expanded) == sorted(labelled.predictions)
        for name, ids in expanded.items():
            np.testing.assert_array_equal(read_labels(labels / name), ids, err_msg=f"{folder}: {name}")
        rows = read_segment_table(folder / "segments.json")
        assert all(r["label"] == f"action_{r['id']}" and 0 <= r["confidence"] <= 1 for r in rows)
        if folder == run:  # no --fps and no sidecar: no seconds
            assert all(r["start_s"] is None and r["end_s"] is None for r in rows)
        else:  # --fps 15
            assert all(r["start_s"] == pytest.approx(r["start_frame"] / 15) and r["end_s"] == pytest.approx(r["end_frame"] / 15) for r in rows)


def test_mixed_labelled_and_unlabelled_videos(tiny_root, tmp_path):
    """A video whose groundTruth file is missing is trained unlabelled, said once, not scored."""
    shutil.copytree(tiny_root / TINY.name, tmp_path / TINY.name)
    videos = load_dataset(tmp_path, TINY.name, activities=["tea"])
    missing = videos[1].name
    (tmp_path / TINY.name / "groundTruth" / missing).unlink()
    timed = videos[0]  # a sidecar with timestamps (as asot features writes) gives its segments seconds
    stamps = [0.5 + t / 8 for t in range(timed.n_frames)]
    timed.path.with_suffix(".json").write_text(json.dumps({"source": "x.mp4", "fps": 8.0, "timestamps": stamps}))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", PipelineWarning)
        run = asot.train(tmp_path, TINY.name, tmp_path / "run", activities=["tea"], epochs=1, baseline=True, figures=False)
    notices = [str(w.message) for w in caught if issubclass(w.category, PipelineWarning)]
    assert len(notices) == 1 and missing in notices[0] and "unlabelled" in notices[0], notices
    assert set(run.predictions) == {v.name for v in videos}  # trained on and segmented
    assert run.metrics["unlabelled"]["videos"] == [missing] and run.metrics["unlabelled"]["n_labelled"] == len(videos) - 1
    # metrics over the labelled videos only
    gts = {v.name: v.labels for v in videos if v.name != missing}
    expected = asot.metrics.mof([run.predictions[n] for n in gts], list(gts.values()))
    assert run.metrics["full"]["mof"] == pytest.approx(100 * expected)
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["unlabelled"]["videos"] == [missing]
    rows = read_segment_table(tmp_path / "run" / "segments.csv")
    for r in rows:
        if r["video"] == timed.name:
            assert r["start_s"] == pytest.approx(0.5 + r["start_frame"] / 8) and r["end_s"] == pytest.approx(0.5 + r["end_frame"] / 8)
        else:
            assert r["start_s"] is None and r["end_s"] is None
    for name, ids in expand_segments(rows).items():
        np.testing.assert_array_equal(ids, run.predictions[name])
    (timed.path.with_suffix(".json")).write_text(json.dumps({"fps": 8.0, "timestamps": stamps[:-1]}))
    with pytest.raises(PipelineError, match=r"\.json: field 'timestamps'"):
        asot.train(tmp_path, TINY.name, activities=["tea"], epochs=1)


def test_unlabelled_needs_k(tiny_root, tmp_path):
    _strip_labels(tiny_root / TINY.name, tmp_path / TINY.name)
    with pytest.raises(PipelineError, match="no ground-truth labels.*--n-clusters"):
        asot.train(tmp_path, TINY.name, activities=["tea"], epochs=1)
    r = runner.invoke(app, ["train", "--data", str(tmp_path), "--dataset", TINY.name, "--out", str(tmp_path / "run"),
                            "--activity", "tea", "--epochs", "1", "--no-progress"])  # fmt: skip
    assert r.exit_code == 2 and "--n-clusters" in r.output and "Traceback" not in r.output
    run = asot.train(tmp_path, TINY.name, activities=["tea"], n_clusters=3, epochs=1, figures=False)
    assert "full" not in run.metrics and all(p.max() < 3 for p in run.predictions.values())
