"""Silently wrong results and unclear messages on bad inputs, each through the command line:
transposed arrays of every kind, cost overflow, random bytes in a .npy, 1e300 features, 1-based
lines, a string of activities, cluster ids scored as classes, reports that would replace inputs."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from typer.testing import CliRunner

from asot.cli import app
from asot.data.dataset import DatasetError, read_features

runner = CliRunner()


def _segment(*args):
    return runner.invoke(app, ["segment", *map(str, args), "--no-progress"])


def _probs(n=60, k=4, seed=0):
    rng = np.random.default_rng(seed)
    p = rng.random((n, k)) + 0.05
    return p / p.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("kind", ["prob", "logit", "affinity", "cost"])
def test_a_classes_by_frames_array_is_refused_for_every_kind(tmp_path, kind):
    """W5: a (10 classes, 500 frames) array without --transpose read as 10 frames of 500 classes."""
    rng = np.random.default_rng(0)
    scores = {"prob": _probs(500, 10).T, "logit": rng.normal(size=(10, 500)), "affinity": rng.uniform(-1, 1, (10, 500)),
              "cost": rng.random((10, 500))}[kind]  # fmt: skip
    np.save(tmp_path / "v.npy", scores)
    r = _segment(tmp_path / "v.npy", "--kind", kind, "--out", tmp_path / "out")
    assert r.exit_code == 1, r.output
    assert "looks transposed" in r.output and "pass --transpose" in r.output and str(tmp_path / "v.npy") in r.output
    assert not (tmp_path / "out").exists()
    assert _segment(tmp_path / "v.npy", "--kind", kind, "--out", tmp_path / "out", "--transpose").exit_code == 0


def test_transpose_on_frames_by_classes_probabilities_says_drop_transpose(tmp_path):
    """W5 hint 1: it used to advise --kind logit."""
    for n in (12, 200):  # short (sum check) and long (shape check)
        np.save(tmp_path / "v.npy", _probs(n, 5))
        r = _segment(tmp_path / "v.npy", "--kind", "prob", "--transpose", "--out", tmp_path / "out")
        assert r.exit_code == 1, r.output
        assert "drop --transpose" in r.output and "--kind logit" not in r.output


def test_mapping_with_the_wrong_orientation_gives_the_transpose_hint(tmp_path):
    """W5 hint 2: a class-count mismatch whose other dimension fits the mapping."""
    (tmp_path / "mapping.txt").write_text("".join(f"{i} c{i}\n" for i in range(6)))
    np.save(tmp_path / "v.npy", _probs(10, 6).T)  # (6 classes, 10 frames), no --transpose
    r = _segment(tmp_path / "v.npy", "--kind", "prob", "--mapping", tmp_path / "mapping.txt", "--out", tmp_path / "out")
    assert r.exit_code == 1, r.output
    assert "looks transposed" in r.output and "pass --transpose" in r.output


def test_cost_overflow_names_the_file(tmp_path):
    """U2."""
    cost = np.ones((30, 3), np.float32)
    cost[4, 1] = 1e37
    np.save(tmp_path / "big.npy", cost)
    r = _segment(tmp_path / "big.npy", "--kind", "cost", "--out", tmp_path / "out")
    assert r.exit_code == 1, r.output
    assert str(tmp_path / "big.npy") in r.output and "overflow" in r.output and "Traceback" not in r.output


def test_random_bytes_npy_is_not_called_pickled(tmp_path):
    """U3."""
    (tmp_path / "v.npy").write_bytes(os.urandom(256))
    r = _segment(tmp_path / "v.npy", "--kind", "prob", "--out", tmp_path / "out")
    assert r.exit_code == 1, r.output
    assert "not a .npy file" in r.output and "pickled" not in r.output


def test_features_beyond_float32_name_file_and_line(tmp_path):
    """C3 and 1-based lines: 1e300 is finite in float64 but Inf in float32."""
    x = np.ones((5, 3))
    x[3, 2] = 1e300
    np.savetxt(tmp_path / "v.txt", x)
    with pytest.raises(DatasetError, match=r"v\.txt: 1 feature value\(s\) beyond the float32 range.*line 4, column 3"):
        read_features(tmp_path / "v.txt")
    (tmp_path / "w.txt").write_text("1 2\n3 4 5\n")  # the other message numbers lines from 1 too
    with pytest.raises(DatasetError, match="line 2 has 3 values, line 1 has 2"):
        read_features(tmp_path / "w.txt")


def test_features_beyond_float32_through_train_is_one_line(tmp_path):
    from asot.data.synthetic import TINY, generate_dataset

    generate_dataset(tmp_path / "data", TINY)
    feats = sorted((tmp_path / "data" / TINY.name / "features").rglob("*.npy"))[0]
    x = np.load(feats).astype(np.float64)
    x[2, 0] = 1e300
    np.savetxt(feats.with_suffix(".txt"), x)
    feats.unlink()
    r = runner.invoke(app, ["train", "--data", str(tmp_path / "data"), "--dataset", TINY.name, "--out", str(tmp_path / "run"),
                            "--epochs", "1", "--no-progress"])  # fmt: skip
    assert r.exit_code == 1, r.output
    assert str(feats.with_suffix(".txt")) in r.output and "line 3, column 1" in r.output and "Traceback" not in r.output


def test_activities_as_one_string_is_one_activity(tmp_path):
    """U4: activities="tea" is ["tea"], not ["t", "e", "a"]."""
    import asot
    from asot.data.synthetic import TINY, generate_dataset
    from asot.training.pipeline import load_videos

    generate_dataset(tmp_path, TINY)
    preset = asot.get_preset("default")
    assert {v.activity for v in load_videos(tmp_path, TINY.name, preset, "tea")} == {"tea"}
    run = asot.train(tmp_path, TINY.name, preset=asot.get_preset("default", epochs=1), activities="tea",
                     baseline=False, figures=False)  # fmt: skip
    assert list(run.activities) == ["tea"]


def _labels(folder, name, values):
    folder.mkdir(exist_ok=True)
    (folder / name).write_text("".join(f"{v}\n" for v in values))


def test_evaluate_says_when_predictions_are_cluster_ids(tmp_path):
    """Cluster ids scored as classes ('raw') gave 0.00 under a 'Hungarian matching' header."""
    (tmp_path / "mapping.txt").write_text("0 a\n1 b\n2 c\n")
    gt = [0] * 10 + [1] * 10 + [2] * 10
    _labels(tmp_path / "gt", "v", ["abc"[g] for g in gt])
    _labels(tmp_path / "pred", "v", [g + 5 for g in gt])  # cluster ids 5, 6, 7
    argv = ["evaluate", "--pred", str(tmp_path / "pred"), "--gt", str(tmp_path / "gt"), "--mapping", str(tmp_path / "mapping.txt")]
    r = runner.invoke(app, argv)
    assert r.exit_code == 0, r.output
    assert "look like cluster ids" in r.output and "--supervised-on matched" in r.output
    assert "on the labels as given" in r.output  # the header says what was matched and what was not
    _labels(tmp_path / "pred", "v", [(g + 1) % 3 for g in gt])  # ids inside the mapping, but permuted
    r = runner.invoke(app, argv)
    assert r.exit_code == 0 and "look like cluster ids" in r.output
    r = runner.invoke(app, [*argv, "--supervised-on", "matched"])
    assert r.exit_code == 0 and "cluster ids" not in r.output
    _labels(tmp_path / "pred", "v", gt)  # real class ids
    r = runner.invoke(app, argv)
    assert r.exit_code == 0 and "cluster ids" not in r.output


def test_json_report_never_replaces_an_input(tmp_path):
    """Sibling of D1: evaluate --json / compare --json pointed at one of the files they read."""
    (tmp_path / "mapping.txt").write_text("0 a\n1 b\n")
    _labels(tmp_path / "gt", "v", ["a"] * 20 + ["b"] * 20)
    _labels(tmp_path / "pred", "v", [0] * 20 + [1] * 20)
    target = tmp_path / "gt" / "v"
    before = target.read_text()
    r = runner.invoke(app, ["evaluate", "--pred", str(tmp_path / "pred"), "--gt", str(tmp_path / "gt"),
                            "--mapping", str(tmp_path / "mapping.txt"), "--json", str(target)])  # fmt: skip
    assert r.exit_code == 2 and "input file" in r.output and target.read_text() == before
    np.save(tmp_path / "v.npy", _probs(40, 2))
    r = runner.invoke(app, ["compare", str(tmp_path / "v.npy"), "--kind", "prob", "--gt", str(tmp_path / "gt"),
                            "--mapping", str(tmp_path / "mapping.txt"), "--decoders", "argmax", "--json", str(tmp_path / "v.npy")])  # fmt: skip
    assert r.exit_code == 2 and "input file" in r.output
    assert np.load(tmp_path / "v.npy").shape == (40, 2)


@pytest.mark.parametrize("how", ["missing", "dangling-link"])
def test_a_video_without_ground_truth_is_named_not_dropped(tmp_path, how):
    """W3: its groundTruth file is missing (or a dangling link): it is trained on and segmented
    unlabelled, the run names it (and the broken link) once, and it is left out of the metrics,
    not silently left out of training."""
    from asot.data.synthetic import TINY, generate_dataset

    generate_dataset(tmp_path / "data", TINY)
    gt = sorted((tmp_path / "data" / TINY.name / "groundTruth").iterdir())[0]
    gt.unlink()
    if how == "dangling-link":
        gt.symlink_to(tmp_path / "nowhere")
    r = runner.invoke(app, ["train", "--data", str(tmp_path / "data"), "--dataset", TINY.name, "--out", str(tmp_path / "run"),
                            "--epochs", "1", "--no-progress", "--no-baseline", "--figures", "0", "--no-report"])  # fmt: skip
    assert r.exit_code == 0, r.output
    assert r.output.count("no groundTruth file") == 1 and gt.name in r.output and "Traceback" not in r.output
    assert ("broken link" in r.output) == (how == "dangling-link")
    assert (tmp_path / "run" / "predictions" / gt.name).is_file()  # trained on and segmented
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["unlabelled"]["videos"] == [gt.name] and "full" in metrics


def test_one_decoder_name_as_a_string_is_one_decoder():
    """Sibling of U4: build_decoders("asot") is the asot decoder, not 'a', 's', 'o', 't'."""
    from asot.postprocess import build_decoders

    assert list(build_decoders("argmax")) == ["argmax"]
