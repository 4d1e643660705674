"""``asot train`` / ``asot predict``: smoke test and one-line user errors (exit code 2)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from asot.cli import app
from asot.data.synthetic import TINY

runner = CliRunner()


def test_train_smoke_and_predict(tiny_root, tmp_path):
    run = tmp_path / "run"
    r = runner.invoke(app, ["train", "--data", str(tiny_root), "--dataset", TINY.name, "--out", str(run), "--epochs", "1",
                            "--activity", "tea", "--no-progress", "--train-eps", "0.06", "--eval-alpha", "0.5", "--seed", "3"])  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "MoF" in r.output
    metrics = json.loads((run / "metrics.json").read_text())
    assert set(metrics["full"]) == {"mof", "f1", "miou"} and "activities" not in metrics
    config = json.loads((run / "config.json").read_text())
    assert config["preset"]["train_solver"]["eps"] == 0.06 and config["preset"]["eval_solver"]["alpha"] == 0.5
    assert config["preset"]["train_solver"]["alpha"] == 0.3  # untouched flags keep the preset's value
    assert config["preset"]["seed"] == 3 and config["activities"] == ["tea"]
    assert len(list((run / "predictions").iterdir())) == 3
    r = runner.invoke(app, ["predict", "--checkpoint", str(run / "checkpoints" / "tea" / "last.ckpt"), "--data", str(tiny_root),
                            "--dataset", TINY.name, "--out", str(tmp_path / "pred"), "--device", "cpu"])  # fmt: skip
    assert r.exit_code == 0, r.output
    written = sorted(p.name for p in (tmp_path / "pred").iterdir())
    assert written == sorted([*(p.name for p in (run / "predictions").iterdir()), "report.html", "segments.csv", "segments.json"])
    assert (run / "report.html").is_file()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--data", "/no/such/folder"], "does not exist"),
        (["--preset", "nope"], "unknown preset"),
        (["--n-clusters", "0"], "--n-clusters must be >= 1"),
        (["--n-clusters", "foo"], "Invalid value for '--n-clusters'"),
        (["--restarts", "0"], "--restarts must be >= 1"),
        (["--restarts", "two"], "Invalid value for '--restarts'"),
        (["--activity", "nothere"], "unknown activity"),
        (["--accelerator", "foo"], "invalid accelerator name"),
        (["--devices", "0"], "trainer settings"),
        (["--strategy", "foo"], "invalid strategy name"),
        (["--num-nodes", "0"], "num_nodes"),
    ],
)
def test_train_user_errors_are_one_line_exit_2(tiny_root, tmp_path, args, message):
    base = {"--data": str(tiny_root), "--dataset": TINY.name, "--out": str(tmp_path / "run")}
    for flag, value in zip(args[::2], args[1::2]):
        base[flag] = value
    argv = ["train", *[x for kv in base.items() for x in kv], "--epochs", "1", "--no-progress"]
    r = runner.invoke(app, argv)
    assert r.exit_code == 2, r.output
    assert message in r.output
    assert "Traceback" not in r.output and len(r.output.strip().splitlines()) == 1
    assert not (tmp_path / "run" / "metrics.json").exists()


def test_predict_missing_checkpoint_is_one_line_error(tiny_root, tmp_path):
    r = runner.invoke(app, ["predict", "--checkpoint", str(tmp_path / "none.ckpt"), "--data", str(tiny_root),
                            "--dataset", TINY.name, "--out", str(tmp_path / "p")])  # fmt: skip
    assert r.exit_code == 2 and "does not exist" in r.output and "Traceback" not in r.output


def test_train_rho_kmeans_and_auto_radius_flags(tiny_root, tmp_path):
    run = tmp_path / "run"
    r = runner.invoke(app, ["train", "--data", str(tiny_root), "--dataset", TINY.name, "--out", str(run), "--epochs", "1",
                            "--activity", "tea", "--no-progress", "--no-baseline", "--no-figures", "--rho", "auto",
                            "--train-radius", "auto", "--eval-radius", "auto"])  # fmt: skip
    assert r.exit_code == 0, r.output
    config = json.loads((run / "config.json").read_text())
    assert config["preset"]["rho_auto"] is True and config["preset"]["train_solver"]["radius"] == "auto"
    assert config["preset"]["prior_centred"] is True  # the default preset's anchor
    assert config["preset"]["min_run_radii"] == 0.5  # the default preset's flicker filter
    r = runner.invoke(app, ["train", "--data", str(tiny_root), "--dataset", TINY.name, "--out", str(run), "--epochs", "1",
                            "--activity", "tea", "--no-progress", "--no-baseline", "--no-figures", "--rho", "0", "--no-kmeans-init",
                            "--prior-paper", "--min-run-radii", "0", "--overwrite"])  # fmt: skip
    assert r.exit_code == 0, r.output
    config = json.loads((run / "config.json").read_text())
    assert config["preset"]["rho"] == 0.0 and config["preset"]["kmeans_init"] is False and config["preset"]["rho_auto"] is False
    assert config["preset"]["prior_centred"] is False
    assert config["preset"]["min_run_radii"] == 0.0 and config["chosen"]["tea"]["min_run_radii"] == 0.0
    r = runner.invoke(app, ["train", "--data", str(tiny_root), "--dataset", TINY.name, "--out", str(run), "--rho", "-1"])
    assert r.exit_code == 2 and "--rho" in r.output
    r = runner.invoke(app, ["train", "--data", str(tiny_root), "--dataset", TINY.name, "--out", str(run), "--min-run-radii", "-1"])
    assert r.exit_code == 2 and "--min-run-radii" in r.output and "Traceback" not in r.output


def test_train_refuses_folders_that_are_not_run_folders_and_bad_flags_keep_old_results(tiny_root, tmp_path):
    base = ["train", "--data", str(tiny_root), "--dataset", TINY.name, "--epochs", "1", "--activity", "tea", "--no-progress"]
    mine = tmp_path / "mine"
    (mine / "figures").mkdir(parents=True)
    (mine / "figures" / "paper.png").write_bytes(b"x")
    r = runner.invoke(app, [*base, "--out", str(mine)])
    assert r.exit_code == 2 and "not an asot run folder" in r.output
    assert (mine / "figures" / "paper.png").exists()  # nothing of the user's deleted
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    r = runner.invoke(app, [*base, "--out", str(a_file)])
    assert r.exit_code == 2 and "exists and is not a folder" in r.output
    run = tmp_path / "run"
    assert runner.invoke(app, [*base, "--out", str(run)]).exit_code == 0
    r = runner.invoke(app, [*base, "--out", str(run), "--accelerator", "foo"])
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert (run / "metrics.json").exists() and (run / "predictions").is_dir()  # checked before cleaning


def test_predict_writes_into_a_folder_without_touching_other_files(tiny_root, tmp_path):
    run = tmp_path / "run"
    assert runner.invoke(app, ["train", "--data", str(tiny_root), "--dataset", TINY.name, "--epochs", "1", "--activity",
                               "tea", "--no-progress", "--no-figures", "--out", str(run)]).exit_code == 0  # fmt: skip
    out = tmp_path / "results"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    base = ["predict", "--data", str(tiny_root), "--dataset", TINY.name, "--activity", "tea"]
    r = runner.invoke(app, [*base, "--checkpoint", str(run), "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert (out / "notes.txt").read_text() == "keep me"
    assert sorted(p.name for p in out.iterdir()) == sorted(["notes.txt", "segments.csv", "segments.json",
                                                            *(p.name for p in (run / "predictions").iterdir())])  # fmt: skip
    r = runner.invoke(app, ["predict", "--data", str(tiny_root), "--dataset", TINY.name, "--checkpoint", str(run),
                            "--out", str(tmp_path / "all")])  # fmt: skip
    assert r.exit_code == 0 and "no checkpoint for activity 'salad': 3 video(s) not segmented" in r.output
    not_a_checkpoint = tmp_path / "fake.ckpt"
    not_a_checkpoint.write_text("garbage")
    r = runner.invoke(app, [*base, "--checkpoint", str(not_a_checkpoint), "--out", str(tmp_path / "p2")])
    assert r.exit_code == 1 and "not a readable asot checkpoint" in r.output and "Traceback" not in r.output  # a bad file: failure
