"""``asot video`` end to end on encoded synthetic videos, and ``asot predict`` on new videos."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

if os.environ.get("CI", "").lower() not in {"1", "true", "yes"}:
    pytest.importorskip("av")
    pytest.importorskip("transformers")

from asot.cli import app  # noqa: E402
from asot.video.synthetic import COLLECTION as PLANS  # noqa: E402
from asot.video.synthetic import COLLECTION_SCENES as N_SCENES  # noqa: E402
from asot.video.synthetic import NEW_VIDEOS as NEW  # noqa: E402
from asot.video.synthetic import score_segmentation, write_collection, write_scene_video  # noqa: E402

runner = CliRunner()
#: small and fast: 64 px frames, 4 frames per second, random ResNet-18 weights (no download)
OPTIONS = ["--backbone", "random:resnet18", "--fps", "4", "--image-size", "64", "--no-progress", "--workers", "0",
           "--device", "cpu", "--no-figures"]  # fmt: skip
BOUNDARY_TOLERANCE_S = 1.0


def _write(folder: Path, plans: dict, seed: int) -> dict:
    return write_collection(folder, plans, n_scenes=N_SCENES, seed=seed)


def _read_segments(path: Path) -> dict[str, list[dict]]:
    by_video: dict[str, list[dict]] = {}
    with open(path, newline="") as fh:
        for row in csv.DictReader(fh):
            by_video.setdefault(row["video"], []).append(row)
    return by_video


def _score(rows: list[dict], video, sidecar: dict) -> tuple[float, list[float]]:
    """Per-video MoF and boundary errors of the segments expanded back to sampled frames."""
    labels = np.concatenate([[int(r["label"].removeprefix("action_"))] * (int(r["end_frame"]) - int(r["start_frame"])) for r in rows])
    starts = [float(r["start_s"]) for r in rows]
    times = np.asarray(sidecar["timestamps"])
    assert starts == [round(float(times[int(r["start_frame"])]), 6) for r in rows]  # seconds from the sidecar
    return score_segmentation(video, labels, times)


@pytest.fixture(scope="module")
def video_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("video_run")
    videos = _write(root / "videos", PLANS, seed=10)
    run = root / "run"
    result = runner.invoke(app, ["video", str(root / "videos"), "--n-actions", str(N_SCENES), "--out", str(run), *OPTIONS])
    return root, videos, run, result


def test_video_command_finds_the_scenes_of_encoded_videos(video_run):
    root, videos, run, result = video_run
    assert result.exit_code == 0, result.output
    segments = _read_segments(run / "segments.csv")
    assert sorted(segments) == sorted(PLANS)
    report = {}
    for name, video in videos.items():
        sidecar = json.loads((run / "data" / "videos" / "features" / f"{name}.json").read_text())
        report[name] = _score(segments[name], video, sidecar)
    print({name: (round(m, 1), [round(e, 2) for e in errs]) for name, (m, errs) in report.items()})
    for name, (video_mof, errors) in report.items():
        assert video_mof >= 90, (name, report)
        assert max(errors) <= BOUNDARY_TOLERANCE_S, (name, report)
    rows = json.loads((run / "segments.json").read_text())["segments"]
    assert len(rows) == sum(len(v) for v in segments.values())
    assert rows[0]["start_s"] == 0.0 and rows[0]["label"].startswith("action_")
    assert all(0 < r["confidence"] <= 1 for r in rows)
    assert (run / "model" / "segments.csv").read_text() == (run / "segments.csv").read_text()


def test_predict_reuses_the_run_on_new_videos(video_run, tmp_path):
    root, videos, run, result = video_run
    assert result.exit_code == 0, result.output
    new = _write(tmp_path / "new", NEW, seed=50)
    out = tmp_path / "pred"
    r = runner.invoke(app, ["predict", "--checkpoint", str(run), str(tmp_path / "new"), "--out", str(out)])
    assert r.exit_code == 0, r.output
    settings = json.loads((run / "video.json").read_text())["features"]
    sidecar = json.loads((out / "features" / "new0.json").read_text())
    assert {k: sidecar[k] for k in ("backbone", "requested_fps", "image_size", "seed")} == {
        "backbone": settings["backbone"], "requested_fps": settings["fps"], "image_size": settings["image_size"],
        "seed": settings["seed"]}  # fmt: skip
    segments = _read_segments(out / "segments.csv")
    video_mof, errors = _score(segments["new0"], new["new0"], sidecar)
    print({"new0": (round(video_mof, 1), [round(e, 2) for e in errors])})
    assert video_mof >= 90 and max(errors) <= BOUNDARY_TOLERANCE_S
    assert (out / "new0").is_file()  # the label file, groundTruth format
    # the run's clusters: a scene gets the action it got in the training videos
    train_rows = _read_segments(run / "segments.csv")
    scene_action = {}
    for name, video in videos.items():
        for (scene, _, _), row in zip(video.segments, train_rows[name]):
            scene_action.setdefault(scene, set()).add(row["label"])
    agree = [row["label"] in scene_action[scene] for (scene, _, _), row in zip(new["new0"].segments, segments["new0"])]
    assert all(agree), (scene_action, segments["new0"])
    # features made by hand with the run's settings: predict --data/--dataset with the run folder
    r = runner.invoke(app, ["predict", "--checkpoint", str(run), "--data", str(tmp_path), "--dataset", "pred", "--out",
                            str(tmp_path / "labels"), "--no-report"])  # fmt: skip
    assert r.exit_code == 0, r.output
    assert (tmp_path / "labels" / "new0").read_text() == (out / "new0").read_text()


def test_video_command_errors(tmp_path):
    video = write_scene_video(tmp_path / "v.mp4", [(0, 1.0), (1, 1.0)], n_scenes=2)
    cases = [
        (["video", str(video.path), "--n-actions", "0", "--out", str(tmp_path / "r")], "--n-actions must be >= 1"),
        (["video", str(tmp_path / "none.mp4"), "--n-actions", "2", "--out", str(tmp_path / "r")], "no such video file"),
    ]
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "thesis.tex").write_text("mine")
    cases.append((["video", str(video.path), "--n-actions", "2", "--out", str(tmp_path / "busy")], "not an asot video run folder"))
    cases.append((["predict", "--checkpoint", str(tmp_path / "busy"), str(video.path), "--out", str(tmp_path / "p")],
                  "not an asot video run folder"))  # fmt: skip
    for args, message in cases:
        r = runner.invoke(app, args)
        assert r.exit_code == 2, (args, r.output)
        assert message in r.output and len(r.output.strip().splitlines()) == 1, r.output
    assert (tmp_path / "busy" / "thesis.tex").read_text() == "mine"
