"""``asot evaluate`` (spec ASOT.md section 7)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from asot.cli import app
from asot.metrics import METRIC_KEYS
from conftest import require_shared

MAPPING = "0 SIL\n1 cut\n2 peel\n3 put\n"


def _argv(*args: str) -> list[str]:
    """``evaluate ARGS``; typer collapses an app of one command to that command."""
    is_group = hasattr(typer.main.get_command(app), "list_commands")
    return ["evaluate", *args] if is_group else list(args)


def run(*args: str):
    """Invoke ``asot evaluate ARGS``."""
    return CliRunner().invoke(app, _argv(*args))


@pytest.fixture
def dataset(tmp_path):
    """gt/: two videos and the mapping; pred/: matching predictions, one as .npy.

    video a: gt  SIL SIL cut cut cut peel        pred (text) 5 5 6 6 7 7
    video b: gt  cut cut cut put put SIL SIL     pred (npy)  6 6 6 8 8 5 5
    """
    gt, pred = tmp_path / "gt", tmp_path / "pred"
    gt.mkdir()
    pred.mkdir()
    (gt / "mapping.txt").write_text(MAPPING)
    (gt / "a").write_text("SIL\nSIL\ncut\ncut\ncut\npeel\n")
    (gt / "b.txt").write_text("cut\ncut\ncut\nput\nput\nSIL\nSIL\n")
    (pred / "a").write_text("5\n5\n6\n6\n7\n7\n")
    np.save(pred / "b.npy", np.array([6, 6, 6, 8, 8, 5, 5]))
    return tmp_path


def test_full_matching_table_and_json(dataset):
    out = dataset / "report" / "metrics.json"
    result = run("--pred", str(dataset / "pred"), "--gt", str(dataset / "gt"),
                 "--mapping", str(dataset / "gt" / "mapping.txt"), "--json", str(out))
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert set(METRIC_KEYS) <= set(report) and "videos" not in report
    # Full matching over 13 frames: clusters 5, 6, 7, 8 vs classes SIL 0, cut 1, peel 2, put 3.
    # 5: SIL 4; 6: cut 5; 7: cut 1 + peel 1; 8: put 2. Best: 5->0, 6->1, 8->3, 7->2:
    # 4 + 5 + 2 + 1 = 12 of 13 frames -> MoF 92.31.
    assert report["mof"] == pytest.approx(100 * 12 / 13)
    # IoU: 5<->SIL 4/4, 6<->cut 5/6 (cut has 6 frames), 8<->put 1, 7<->peel 1/2: mean over 4
    assert report["miou"] == pytest.approx(100 * (1 + 5 / 6 + 1 + 0.5) / 4)
    # Raw accuracy compares ids: no prediction id (5..8) is a class id (0..3) -> 0.
    assert report["accuracy"] == 0.0
    assert report["matching"] == "full" and report["n_videos"] == 2 and report["n_frames"] == 13
    for key in METRIC_KEYS:
        assert f"{key}" in result.output
    assert "92.31" in result.output


def test_per_video_with_exclusion_and_matched_supervised_metrics(dataset):
    out = dataset / "m.json"
    result = run("--pred", str(dataset / "pred"), "--gt", str(dataset / "gt"),
                 "--mapping", str(dataset / "gt" / "mapping.txt"), "--per-video",
                 "--exclude", "SIL", "--supervised-on", "matched", "--json", str(out))
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert set(report["videos"]) == {"a", "b"}
    # video a without SIL: gt cut cut cut peel, pred 6 6 7 7: 6->cut, 7->peel: 3 of 4.
    # video b without SIL: gt cut cut cut put put, pred 6 6 6 8 8: perfect.
    a, b = report["videos"]["a"], report["videos"]["b"]
    assert a["mof"] == pytest.approx(75.0) and b["mof"] == pytest.approx(100.0)
    assert report["mof"] == pytest.approx((75.0 + 100.0) / 2)
    # matched video a: mapped pred cut cut peel peel vs cut cut cut peel: segments [cut, peel]
    # on both sides -> edit 100, accuracy 3/4
    assert a["edit"] == 100.0 and a["accuracy"] == pytest.approx(75.0)
    assert b["accuracy"] == 100.0 and b["n_frames"] == 5
    assert "overall" in result.output and "a " in result.output


def test_exclude_by_integer_id_equals_by_name(dataset):
    common = ("--pred", str(dataset / "pred"), "--gt", str(dataset / "gt"),
              "--mapping", str(dataset / "gt" / "mapping.txt"))
    by_name = run(*common, "--exclude", "SIL", "--json", str(dataset / "n.json"))
    by_id = run(*common, "--exclude", "0", "--json", str(dataset / "i.json"))
    assert by_name.exit_code == by_id.exit_code == 0
    assert json.loads((dataset / "n.json").read_text()) == json.loads((dataset / "i.json").read_text())


def test_label_name_predictions_and_legacy_f1(dataset):
    # class-name predictions (a supervised model): equal to the ground truth -> 100 everywhere
    pred = dataset / "names"
    pred.mkdir()
    for video in ("a", "b.txt"):
        (pred / video).write_text((dataset / "gt" / video).read_text())
    out = dataset / "r.json"
    result = run("--pred", str(pred), "--gt", str(dataset / "gt"), "--mapping",
                 str(dataset / "gt" / "mapping.txt"), "--legacy-f1", "--json", str(out))
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert all(report[k] == 100.0 for k in METRIC_KEYS)
    # legacy precision divides by n_videos * n_classes = 2 * 4 = 8 while there are 6 GT
    # segments, all detected in each of the 50 repetitions: P = 6/8, R = 1, F1 = 6/7
    assert report["f1_legacy"] == pytest.approx(100 * 6 / 7)


def _errors(dataset, *extra, pred=None, code=2):
    """The one-line error: exit 2 for a wrong command line, 1 for wrong file contents."""
    result = run("--pred", str(pred or dataset / "pred"), "--gt", str(dataset / "gt"),
                 "--mapping", str(dataset / "gt" / "mapping.txt"), *extra)
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    assert result.output.startswith("Error: ") and len(result.output.strip().splitlines()) == 1
    return result.output


def test_error_missing_prediction(dataset):
    (dataset / "pred" / "a").unlink()
    out = _errors(dataset)
    assert "no prediction" in out and "a" in out and "--allow-missing" in out
    result = run("--pred", str(dataset / "pred"), "--gt", str(dataset / "gt"),
                 "--mapping", str(dataset / "gt" / "mapping.txt"), "--allow-missing")
    assert result.exit_code == 0, result.output
    assert "1 video(s)" in result.output


def test_error_extra_prediction(dataset):
    (dataset / "pred" / "c.txt").write_text("1\n")
    out = _errors(dataset)
    assert "no ground truth" in out and "c" in out


def test_error_length_mismatch_names_both_files(dataset):
    (dataset / "pred" / "a").write_text("5\n5\n6\n")
    out = _errors(dataset, code=1)
    assert "length mismatch for video 'a'" in out
    assert str(dataset / "pred" / "a") in out and "3 frames" in out and "6" in out


def test_error_unknown_label_names_the_file_and_line(dataset):
    (dataset / "gt" / "a").write_text("SIL\nstir\n" + "cut\n" * 4)
    out = _errors(dataset, code=1)
    assert f"{dataset / 'gt' / 'a'}:2" in out and "unknown label 'stir'" in out


def test_error_unknown_exclude_label(dataset):
    out = _errors(dataset, "--exclude", "background")
    assert "unknown label to exclude" in out and "background" in out


def test_error_everything_excluded_and_bad_folders(dataset, tmp_path):
    (dataset / "gt" / "a").write_text("SIL\n" * 6)
    (dataset / "gt" / "b.txt").write_text("SIL\n" * 7)
    assert "no frames to evaluate" in _errors(dataset, "--exclude", "SIL", code=1)
    assert "not a folder" in _errors(dataset, pred=tmp_path / "nope")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "no prediction files" in _errors(dataset, pred=empty)


def test_error_ambiguous_prediction_files(dataset):
    np.save(dataset / "pred" / "a.npy", np.zeros(6, dtype=int))
    assert "two prediction files" in _errors(dataset, code=1)


def test_help_lists_the_contract_options():
    result = CliRunner().invoke(app, _argv("--help"))
    assert result.exit_code == 0
    for option in ("--pred", "--gt", "--mapping", "--per-video", "--exclude", "--json"):
        assert option in result.output


@pytest.mark.parametrize("video, mapping, mof", [
    ("2020-04-19_14-03-25", "mapping_da.txt", 77.05),
    ("P36_webcam01_P36_salat", "mapping_salat.txt", 73.87),
])
def test_reference_labels_through_the_cli(tmp_path, video, mapping, mof):
    # The published solver's labels, scored against the real ground truth folder (which holds
    # other videos and mapping files too: --allow-missing evaluates just this one).
    gt_dir = require_shared("data", "asot_examples", "gt")
    case = {"2020-04-19_14-03-25": "real_desktop_assembly_2020-04-19_14-03-25.npz",
            "P36_webcam01_P36_salat": "real_breakfast_P36_webcam01_P36_salat.npz"}[video]
    labels = np.load(require_shared("reference", case))["labels"]
    pred = tmp_path / "pred"
    pred.mkdir()
    np.save(pred / f"{video}.npy", labels)
    out = tmp_path / "r.json"
    result = run("--pred", str(pred), "--gt", str(gt_dir), "--mapping", str(gt_dir / mapping),
                 "--per-video", "--allow-missing", "--json", str(out))
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert round(report["videos"][video]["mof"], 2) == mof
    assert round(report["mof"], 2) == mof
