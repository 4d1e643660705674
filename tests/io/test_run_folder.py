"""``asot train`` run folders: never lose a finished run, one run at a time, checkpoints every
epoch (atomic, the last few kept), resume with the run's own settings (through the CLI)."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import subprocess
import sys

import pytest
import torch
from typer.testing import CliRunner

from asot.cli import app
from asot.data.synthetic import TINY, generate_dataset
from asot.io.runfolder import LOCK_NAME, RunFolderBusy, RunLock

runner = CliRunner()


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("runfolder")
    generate_dataset(root, TINY)
    return root


def _train(data, run, *extra):
    return runner.invoke(app, ["train", "--data", str(data), "--dataset", TINY.name, "--activity", "tea", "--out", str(run),
                               "--no-progress", "--no-baseline", "--no-figures", "--epochs", "2", *extra])  # fmt: skip


def _snapshot(run):
    """Every file of the run (logs aside) and its content hash."""
    return {str(p.relative_to(run)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(run.rglob("*")) if p.is_file() and "logs" not in p.parts}  # fmt: skip


@pytest.fixture(scope="module")
def finished(data, tmp_path_factory):
    run = tmp_path_factory.mktemp("finished") / "run"
    r = _train(data, run)
    assert r.exit_code == 0, r.output
    return run


def _copy(run, tmp_path):
    import shutil

    dest = tmp_path / "run"
    shutil.copytree(run, dest)
    return dest


def test_rerun_into_a_finished_run_needs_overwrite_and_keeps_it(data, finished, tmp_path):
    """D3: without --resume / --overwrite nothing of the finished run is deleted."""
    run = _copy(finished, tmp_path)
    before = _snapshot(run)
    r = _train(data, run)
    assert r.exit_code == 2 and "--overwrite" in r.output and "--resume" in r.output, r.output
    assert _snapshot(run) == before


def test_overwrite_that_fails_or_is_interrupted_keeps_the_old_run(data, finished, tmp_path, monkeypatch):
    """D3: the replacement is built beside the old run; a failure or Ctrl-C leaves the old one."""
    import asot.training.pipeline as pipeline

    run = _copy(finished, tmp_path)
    before = _snapshot(run)

    def interrupted(*args, **kwargs):  # after the new model is trained and checkpointed
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline, "write_predictions", interrupted)
    r = _train(data, run, "--overwrite", "--seed", "5")
    assert r.exit_code == 130, r.output
    assert "previous run" in r.output and "unchanged" in r.output
    assert _snapshot(run) == before
    assert not [p for p in run.iterdir() if p.name.startswith(".")]  # no staging folder or lock left
    monkeypatch.undo()
    r = _train(data, run, "--overwrite", "--seed", "5")
    assert r.exit_code == 0, r.output
    assert json.loads((run / "config.json").read_text())["preset"]["seed"] == 5
    assert (run / "metrics.json").exists() and not [p for p in run.iterdir() if p.name.startswith(".")]


def test_a_second_run_into_a_busy_folder_is_refused(data, tmp_path):
    """D4: a lock file held by a live process; a stale one (dead process) is taken over."""
    run = tmp_path / "run"
    run.mkdir()
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        import socket

        (run / LOCK_NAME).write_text(f"{holder.pid} {socket.gethostname()}\n")
        r = _train(data, run)
        assert r.exit_code == 1, r.output
        assert "in use by another asot run" in r.output and str(holder.pid) in r.output
        assert len(r.output.strip().splitlines()) == 1 and "Traceback" not in r.output
        assert not (run / "config.json").exists()
    finally:
        holder.kill()
        holder.wait()
    r = _train(data, run)  # the holder is gone: its lock is stale
    assert r.exit_code == 0, r.output
    assert not (run / LOCK_NAME).exists()


def test_run_lock_is_exclusive(tmp_path):
    with RunLock(tmp_path / "run"):
        with pytest.raises(RunFolderBusy, match="in use by another asot run"):
            RunLock(tmp_path / "run").acquire()
    with RunLock(tmp_path / "run"):  # released: free again
        pass


def test_checkpoints_every_epoch_and_only_the_last_few_kept(data, tmp_path):
    run = tmp_path / "run"
    r = _train(data, run, "--epochs", "4", "--keep-checkpoints", "2")
    assert r.exit_code == 0, r.output
    files = sorted(p.name for p in (run / "checkpoints" / "tea").iterdir())
    assert files == ["epoch002.ckpt", "epoch003.ckpt", "last.ckpt"], files
    assert torch.load(run / "checkpoints" / "tea" / "last.ckpt", weights_only=False)["epoch"] == 3


def test_interrupt_keeps_the_last_completed_epoch_and_says_resume_once(data, tmp_path, monkeypatch):
    from asot.models.lit_module import ASOTModule

    def stop_in_epoch_three(self):
        if self.current_epoch == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(ASOTModule, "on_train_epoch_start", stop_in_epoch_three, raising=False)
    run = tmp_path / "run"
    r = _train(data, run, "--epochs", "4")
    assert r.exit_code == 130, r.output
    last = run / "checkpoints" / "tea" / "last.ckpt"
    assert str(last) in r.output and r.output.count("resume") == 1, r.output
    assert torch.load(last, weights_only=False)["epoch"] == 1  # epochs 1 and 2 done (0-based 0, 1): nothing lost
    monkeypatch.undo()
    r = _train(data, run, "--epochs", "4", "--resume")
    assert r.exit_code == 0, r.output
    assert torch.load(last, weights_only=False)["epoch"] == 3


def test_resume_from_a_truncated_checkpoint_is_one_line(data, finished, tmp_path):
    """C4."""
    run = _copy(finished, tmp_path)
    last = run / "checkpoints" / "tea" / "last.ckpt"
    last.write_bytes(last.read_bytes()[:1000])
    r = _train(data, run, "--resume")
    assert r.exit_code == 1, r.output
    assert str(last) in r.output and "truncated" in r.output
    assert len(r.output.strip().splitlines()) == 1 and "Traceback" not in r.output


def test_resume_takes_the_runs_settings_and_never_rewrites_config(data, finished, tmp_path):
    """C5: a contradicting flag is an error naming it; config.json is untouched."""
    run = _copy(finished, tmp_path)
    config = (run / "config.json").read_bytes()
    k = json.loads(config)["n_clusters"]["tea"]
    r = _train(data, run, "--resume", "--n-clusters", str(k + 2))
    assert r.exit_code == 2, r.output
    assert "--n-clusters" in r.output and str(k + 2) in r.output and "Traceback" not in r.output
    assert (run / "config.json").read_bytes() == config
    r = _train(data, run, "--resume", "--train-eps", "0.5", "--seed", "9")
    assert r.exit_code == 2 and "--train-eps" in r.output and "--seed" in r.output
    assert (run / "config.json").read_bytes() == config
    r = _train(data, run, "--resume", "--n-clusters", str(k))  # the same value is not a contradiction
    assert r.exit_code == 0, r.output
    assert (run / "config.json").read_bytes() == config


def test_too_many_clusters_is_one_line_before_anything_is_written(data, tmp_path):
    """C2: K larger than the training frames."""
    run = tmp_path / "run"
    r = _train(data, run, "--n-clusters", "100000")
    assert r.exit_code == 2, r.output
    assert "100000" in r.output and "training frames" in r.output and "Traceback" not in r.output
    assert not run.exists()


def test_disk_full_while_checkpointing_names_the_folder_and_leaves_no_broken_file(data, tmp_path, monkeypatch):
    """C6: the checkpoint write hits a full disk half-way."""
    real_save = torch.save

    def half_then_full(obj, f, *args, **kwargs):
        if hasattr(f, "write"):
            f.write(b"PK\x03\x04 half a checkpoint")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(torch, "save", half_then_full)
    run = tmp_path / "run"
    r = _train(data, run)
    monkeypatch.setattr(torch, "save", real_save)
    assert r.exit_code == 1, r.output
    line = r.output.strip().splitlines()[-1]
    assert line.startswith("Error: ") and str(run / "checkpoints" / "tea") in line and "no space left" in line
    assert "Traceback" not in r.output
    left = [p.name for p in (run / "checkpoints" / "tea").glob("*")] if (run / "checkpoints" / "tea").exists() else []
    assert left == []  # neither a half-written epoch/last checkpoint nor its temporary file


def test_resume_after_an_overwrite_still_keeps_only_the_last_few(data, tmp_path):
    """The replacing run was built in RUN/.asot-new: its checkpoints' bookkeeping moves with it."""
    run = tmp_path / "run"
    assert _train(data, run, "--keep-checkpoints", "1").exit_code == 0
    r = _train(data, run, "--keep-checkpoints", "1", "--overwrite")
    assert r.exit_code == 0, r.output
    r = _train(data, run, "--keep-checkpoints", "1", "--resume", "--epochs", "3")
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in (run / "checkpoints" / "tea").iterdir()) == ["epoch002.ckpt", "last.ckpt"]


def test_a_swap_cut_short_by_kill_is_finished_by_the_next_run(tmp_path):
    """kill -9 between moving the old run aside and moving the new one in: neither is lost."""
    from asot.io.runfolder import NEW_NAME, OLD_NAME, publish, remove_leftovers

    run = tmp_path / "run"
    (run / OLD_NAME / "checkpoints").mkdir(parents=True)  # the old run, moved aside
    (run / OLD_NAME / "metrics.json").write_text("old")
    (run / NEW_NAME / "predictions").mkdir(parents=True)  # the complete new run, half moved in
    (run / NEW_NAME / "metrics.json").write_text("new")
    (run / "config.json").write_text("new config")
    (run / "notes.txt").write_text("mine")
    remove_leftovers(run)
    assert sorted(p.name for p in run.iterdir()) == ["config.json", "metrics.json", "notes.txt", "predictions"]
    assert (run / "metrics.json").read_text() == "new" and (run / "notes.txt").read_text() == "mine"
    (run / NEW_NAME).mkdir()  # an unfinished replacement (no .asot-old): dropped, the run stays
    (run / NEW_NAME / "metrics.json").write_text("half")
    remove_leftovers(run)
    assert (run / "metrics.json").read_text() == "new" and not (run / NEW_NAME).exists()
    work = run / NEW_NAME
    work.mkdir()
    (work / "metrics.json").write_text("newer")
    (work / "checkpoints").mkdir()
    publish(work, run)  # a normal swap: only the run's own entries are replaced
    assert sorted(p.name for p in run.iterdir()) == ["checkpoints", "metrics.json", "notes.txt"]
    assert (run / "metrics.json").read_text() == "newer"


def test_demo_replaces_only_its_own_folder(data, tmp_path):
    """Sibling of D3: asot demo re-runs replace a demo folder, never another finished run."""
    run = tmp_path / "real"
    run.mkdir()
    (run / "config.json").write_text(json.dumps({"dataset": "Breakfast", "preset": {}, "trainer": {}}))
    (run / "metrics.json").write_text("{}")
    r = runner.invoke(app, ["demo", "--tiny", "--epochs", "1", "--no-ablations", "--data", str(data), "--out", str(run)])
    # demo has no --overwrite: the message must not advise one
    assert r.exit_code == 2 and "choose another --out" in r.output and "--overwrite" not in r.output, r.output
    assert (run / "metrics.json").read_text() == "{}"


@pytest.mark.parametrize(
    "saved, published",
    [
        ("/r/.asot-new/checkpoints/tea", "/r/checkpoints/tea"),
        ("/r/.asot-order/checkpoints/tea", "/r/checkpoints/tea"),
        ("/r/.asot-new/.asot-order/checkpoints/tea", "/r/checkpoints/tea"),
        ("/r/.asot-restarts/seed-4/checkpoints/tea", "/r/checkpoints/tea"),
        ("/r/checkpoints/tea", "/r/checkpoints/tea"),
        ("/r/my.asot-order/checkpoints/tea", "/r/my.asot-order/checkpoints/tea"),  # only whole folder names
    ],
)
def test_checkpoint_bookkeeping_follows_staged_and_side_runs(saved, published):
    """A retraining or restart moved into the run (or a run swapped in from .asot-new) keeps its
    checkpoint bookkeeping, so --keep-checkpoints still prunes after --resume."""
    from asot.training.atomic_checkpoint_io import published_dirpath

    assert published_dirpath(saved.replace("/", os.sep)) == published.replace("/", os.sep)
