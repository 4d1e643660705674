"""Segment tables (segments.csv / segments.json) and the one run-length helper."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from asot.cli import app
from asot.io.labels import LabelFileError, read_label_file, read_labels
from asot.io.segments import coupling_confidence, expand_segments, read_segment_table, segment_rows, write_segment_tables
from asot.io.timing import FrameTiming, read_frame_timing
from asot.runs import run_length_decode, run_length_encode

runner = CliRunner()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(-3, 5), max_size=80))
def test_run_length_encode_then_decode_is_identity(values):
    labels = np.array(values, dtype=np.int64)
    runs = run_length_encode(labels)
    np.testing.assert_array_equal(run_length_decode(*runs), labels)
    assert runs.starts.tolist() == [0, *runs.ends[:-1].tolist()] if len(values) else runs.starts.size == 0
    assert (runs.lengths > 0).all() and (runs.labels[1:] != runs.labels[:-1]).all()  # maximal runs


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), st.integers(1, 6)), min_size=1, max_size=20))
def test_decode_then_encode_merges_equal_neighbours_only(pairs):
    labels = [k for k, _ in pairs]
    lengths = np.array([n for _, n in pairs])
    ends = np.cumsum(lengths)
    frames = run_length_decode(labels, ends - lengths, ends)
    assert frames.size == ends[-1]
    again = run_length_encode(frames)
    assert again.labels.size == 1 + sum(a != b for a, b in zip(labels, labels[1:]))


def test_decode_refuses_runs_that_do_not_tile():
    with pytest.raises(ValueError, match="run 1 starts at frame 3 but run 0 ends at 2"):
        run_length_decode([0, 1], [0, 3], [2, 5])
    with pytest.raises(ValueError, match="run 0 starts at frame 1"):
        run_length_decode([0], [1], [3])


def test_confidence_normalises_each_coupling_row():
    coupling = np.array([[0.2, 0.2], [0.0, 0.5], [0.0, 0.0]])  # unbalanced rows; the last has no mass
    np.testing.assert_allclose(coupling_confidence(coupling, [0, 1, 1]), [0.5, 1.0, 0.0])
    rows = segment_rows("v", [0, 1, 1], confidence=coupling_confidence(coupling, [0, 1, 1]))
    assert [r["confidence"] for r in rows] == [0.5, 0.5]
    assert [r["label"] for r in rows] == ["action_0", "action_1"] and rows[1]["start_s"] is None


def test_seconds_from_fps_and_timestamps_never_invented(tmp_path):
    lab = [2, 2, 2, 7]
    by_fps = segment_rows("v", lab, timing=FrameTiming(fps=4.0))
    assert [(r["start_s"], r["end_s"]) for r in by_fps] == [(0.0, 0.75), (0.75, 1.0)]
    ts = FrameTiming(timestamps=np.array([10.0, 10.5, 11.0, 11.5]))
    assert [(r["start_s"], r["end_s"]) for r in segment_rows("v", lab, timing=ts)] == [(10.0, 11.5), (11.5, 12.0)]
    rows = segment_rows("v", lab)
    write_segment_tables(tmp_path, rows)
    lines = (tmp_path / "segments.csv").read_text().splitlines()
    assert lines[0] == "video,segment,label,id,start_frame,end_frame,start_s,end_s,frames,confidence"
    assert lines[1] == "v,0,action_2,2,0,3,,,3,"  # no timing: empty, not invented
    doc = json.loads((tmp_path / "segments.json").read_text())
    assert doc["segments"][0]["start_s"] is None and doc["columns"][0] == "video"
    assert read_segment_table(tmp_path / "segments.csv") == read_segment_table(tmp_path / "segments.json")


def test_sidecar_timing_and_its_errors(tmp_path):
    feat = tmp_path / "v.npy"
    assert read_frame_timing(feat, 3) is None  # no sidecar
    (tmp_path / "v.json").write_text(json.dumps({"source": "v.mp4", "fps": 2.0, "timestamps": [0.1, 0.6, 1.1], "backbone": "x"}))
    timing = read_frame_timing(feat, 3)
    assert timing.fps == 2.0 and timing.seconds(3) == [0.1, 0.6, 1.1, 1.6]
    assert read_frame_timing(feat, 3, fps=10.0).seconds(3)[3] == pytest.approx(0.3)  # --fps wins
    with pytest.raises(LabelFileError, match=r"v\.json.*'timestamps': 3 times for 4 feature rows"):
        read_frame_timing(feat, 4)
    (tmp_path / "v.json").write_text(json.dumps({"fps": -1}))
    with pytest.raises(LabelFileError, match=r"v\.json: field 'fps': expected a frame rate > 0"):
        read_frame_timing(feat, 4)
    (tmp_path / "v.json").write_text("{not json")
    with pytest.raises(LabelFileError, match=r"v\.json: unreadable sidecar"):
        read_frame_timing(feat, 4)


@pytest.mark.parametrize("with_mapping", [False, True])
def test_segment_cli_table_round_trips_to_the_label_files(tmp_path, with_mapping):
    rng = np.random.default_rng(0)
    inputs = tmp_path / "probs"
    inputs.mkdir()
    for i, n in enumerate((60, 45, 80)):
        blocks = np.repeat(rng.permutation(4), n // 4 + 1)[:n]
        probs = rng.dirichlet(np.ones(4) * 0.5, size=n) * 0.4 + 0.6 * np.eye(4)[blocks]
        np.save(inputs / f"vid{i}.npy", probs.astype(np.float32))
    args = ["segment", str(inputs), "--kind", "prob", "--out", str(tmp_path / "pred"), "--fps", "15", "--no-progress"]
    if with_mapping:
        (tmp_path / "mapping.txt").write_text("0 cut\n1 pour\n2 stir\n3 wait\n")
        args += ["--mapping", str(tmp_path / "mapping.txt")]
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output
    table = tmp_path / "pred" / "segments.csv"
    rows = read_segment_table(table)
    assert {row["video"] for row in rows} == {"vid0", "vid1", "vid2"}
    assert all(0.0 <= row["confidence"] <= 1.0 for row in rows)
    assert all(row["start_s"] == pytest.approx(row["start_frame"] / 15) and row["end_s"] == pytest.approx(row["end_frame"] / 15) for row in rows)
    mapping = None
    if with_mapping:
        from asot.io.labels import read_mapping

        mapping = read_mapping(tmp_path / "mapping.txt")
        names = expand_segments(table, by="label")
        for video, labels in names.items():  # the label files hold class names: exactly those
            assert read_label_file(tmp_path / "pred" / video) == list(labels)
    for video, ids in expand_segments(tmp_path / "pred" / "segments.json").items():
        np.testing.assert_array_equal(read_labels(tmp_path / "pred" / video, mapping), ids)
    # the tables are not predictions of a video named segments.csv
    gt = tmp_path / "gt"
    gt.mkdir()
    for video in ("vid0", "vid1", "vid2"):
        (gt / video).write_text((tmp_path / "pred" / video).read_text())
    if not with_mapping:
        (tmp_path / "mapping.txt").write_text("0 a\n1 b\n2 c\n3 d\n")
        for video in ("vid0", "vid1", "vid2"):
            ids = read_labels(gt / video)
            (gt / video).write_text("".join("abcd"[i] + "\n" for i in ids))
    r = runner.invoke(app, ["evaluate", "--pred", str(tmp_path / "pred"), "--gt", str(gt), "--mapping", str(tmp_path / "mapping.txt")])
    assert r.exit_code == 0, r.output
    assert "segments" not in r.output


def test_segment_skip_existing_keeps_the_rows_of_skipped_videos(tmp_path):
    import asot

    rng = np.random.default_rng(1)
    probs = {f"v{i}": rng.dirichlet(np.ones(3), size=30).astype(np.float32) for i in range(2)}
    asot.segment_videos(probs, kind="prob", out=tmp_path, fps=5)
    first = read_segment_table(tmp_path / "segments.json")
    asot.segment_videos(probs, kind="prob", out=tmp_path, skip_existing=True, fps=5)
    assert read_segment_table(tmp_path / "segments.json") == first


def test_segment_tables_describe_the_whole_folder_and_protect_foreign_files(tmp_path):
    import asot

    rng = np.random.default_rng(2)
    a = {"a": rng.dirichlet(np.ones(3), size=20).astype(np.float32)}
    b = {"b": rng.dirichlet(np.ones(3), size=25).astype(np.float32)}
    asot.segment_videos(a, kind="prob", out=tmp_path / "out")
    asot.segment_videos(b, kind="prob", out=tmp_path / "out")  # a second command into the same folder
    assert set(expand_segments(tmp_path / "out" / "segments.csv")) == {"a", "b"}
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "segments.csv").write_text("my own notes\n")
    from asot.io.outputs import OutputConflict

    with pytest.raises(OutputConflict, match="segments.csv"):
        asot.segment_videos(a, kind="prob", out=tmp_path / "mine")
    assert (tmp_path / "mine" / "segments.csv").read_text() == "my own notes\n"
