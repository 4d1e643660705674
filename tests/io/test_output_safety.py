"""Commands never overwrite their inputs, nor a file they did not write without --overwrite;
--skip-existing keeps only complete outputs (through the command line)."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from typer.testing import CliRunner

from asot.cli import app
from asot.data.synthetic import TINY, generate_dataset
from asot.io.outputs import label_file_complete, npy_complete, png_complete

runner = CliRunner()


def _affinity(n=60, k=4, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.uniform(-1, 1, size=(n, k)).astype(np.float32)
    a[np.arange(n), np.repeat(np.arange(3), [20, 25, 15]) % k] += 1.0
    return np.clip(a, -1, 1)


def _segment(*args):
    return runner.invoke(app, ["segment", *map(str, args), "--no-progress"])


def test_save_coupling_never_overwrites_its_own_input(tmp_path):
    """D1: the input sits where the coupling goes (OUT/couplings/<video>.npy)."""
    (tmp_path / "pred" / "couplings").mkdir(parents=True)
    src = tmp_path / "pred" / "couplings" / "v.npy"
    np.save(src, _affinity())
    before = src.read_bytes()
    for extra in ([], ["--overwrite"]):  # not even with --overwrite
        r = _segment(tmp_path / "pred" / "couplings", "--kind", "affinity", "--out", tmp_path / "pred", "--save-coupling", *extra)
        assert r.exit_code == 2, r.output
        assert "input file" in r.output and str(src) in r.output and "Traceback" not in r.output
        assert src.read_bytes() == before
    assert not (tmp_path / "pred" / "v").exists()  # refused before any work


def test_input_through_a_link_is_still_an_input(tmp_path):
    (tmp_path / "data").mkdir()
    np.save(tmp_path / "data" / "v.npy", _affinity())
    (tmp_path / "out" / "couplings").mkdir(parents=True)
    (tmp_path / "out" / "couplings" / "v.npy").symlink_to(tmp_path / "data" / "v.npy")
    before = (tmp_path / "data" / "v.npy").read_bytes()
    r = _segment(tmp_path / "data", "--kind", "affinity", "--out", tmp_path / "out", "--save-coupling", "--overwrite")
    assert r.exit_code == 2 and "input file" in r.output
    assert (tmp_path / "data" / "v.npy").read_bytes() == before


def test_segment_into_a_ground_truth_folder_needs_overwrite(tmp_path):
    """D2: OUT holds files the command did not write (ground truth)."""
    (tmp_path / "aff").mkdir()
    np.save(tmp_path / "aff" / "v.npy", _affinity())
    gt = tmp_path / "gt"
    gt.mkdir()
    (gt / "v").write_text("take\n" * 60)
    r = _segment(tmp_path / "aff", "--kind", "affinity", "--out", gt)
    assert r.exit_code == 2, r.output
    assert str(gt / "v") in r.output and "--overwrite" in r.output
    assert (gt / "v").read_text() == "take\n" * 60
    r = _segment(tmp_path / "aff", "--kind", "affinity", "--out", gt, "--overwrite")  # explicit: allowed
    assert r.exit_code == 0 and (gt / "v").read_text() != "take\n" * 60


@pytest.mark.parametrize("damage", ["empty", "truncated", "no-final-newline"])
def test_skip_existing_redoes_incomplete_outputs(tmp_path, damage):
    """W4: an empty or truncated label file is not a finished video."""
    np.save(tmp_path / "v.npy", _affinity())
    out = tmp_path / "out"
    assert _segment(tmp_path / "v.npy", "--kind", "affinity", "--out", out).exit_code == 0
    good = (out / "v").read_text()
    broken = {"empty": "", "truncated": good[: len(good) // 2], "no-final-newline": good[:-1]}[damage]
    (out / "v").write_text(broken)
    r = _segment(tmp_path / "v.npy", "--kind", "affinity", "--out", out, "--skip-existing")
    assert r.exit_code == 0, r.output
    assert "skipped" not in r.output
    assert (out / "v").read_text() == good
    r = _segment(tmp_path / "v.npy", "--kind", "affinity", "--out", out, "--skip-existing")  # now complete: kept
    assert r.exit_code == 0 and "1 skipped" in r.output


def test_skip_existing_redoes_a_truncated_coupling_or_figure(tmp_path):
    np.save(tmp_path / "v.npy", _affinity())
    out = tmp_path / "out"
    assert _segment(tmp_path / "v.npy", "--kind", "affinity", "--out", out, "--save-coupling", "--plot").exit_code == 0
    coupling, figure = out / "couplings" / "v.npy", out / "figures" / "v.png"
    assert npy_complete(coupling, (60, 4)) and png_complete(figure)
    coupling.write_bytes(coupling.read_bytes()[:100])
    r = _segment(tmp_path / "v.npy", "--kind", "affinity", "--out", out, "--save-coupling", "--plot", "--skip-existing")
    assert r.exit_code == 0 and "skipped" not in r.output and npy_complete(coupling, (60, 4))
    figure.write_bytes(figure.read_bytes()[:-20])
    r = _segment(tmp_path / "v.npy", "--kind", "affinity", "--out", out, "--save-coupling", "--plot", "--skip-existing")
    assert r.exit_code == 0 and "skipped" not in r.output and png_complete(figure)


def test_completeness_checks(tmp_path):
    f = tmp_path / "labels"
    f.write_text("1\n2\n")
    assert label_file_complete(f, 2) and not label_file_complete(f, 3)
    f.write_text("1\n\n")
    assert not label_file_complete(f, 2)
    assert not label_file_complete(tmp_path / "missing", 0)
    assert not npy_complete(tmp_path / "missing.npy", (1,))
    (tmp_path / "x.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 20)
    assert not png_complete(tmp_path / "x.png")


# -- predict ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("safety")
    generate_dataset(root / "data", TINY)
    run = root / "run"
    r = runner.invoke(app, ["train", "--data", str(root / "data"), "--dataset", TINY.name, "--out", str(run), "--epochs", "1",
                            "--activity", "tea", "--no-progress", "--no-baseline", "--no-figures"])  # fmt: skip
    assert r.exit_code == 0, r.output
    return root / "data", run


def _predict(data, run, out, *extra):
    return runner.invoke(app, ["predict", "--checkpoint", str(run), "--data", str(data), "--dataset", TINY.name,
                               "--activity", "tea", "--out", str(out), *extra])  # fmt: skip


def test_predict_never_writes_into_the_datasets_own_folders(trained, tmp_path):
    """D2: predict --out ROOT/<dataset>/groundTruth, even with --overwrite."""
    data, run = trained
    copy = tmp_path / "data"
    shutil.copytree(data, copy)
    gt = copy / TINY.name / "groundTruth"
    before = {p.name: p.read_text() for p in gt.iterdir()}
    for extra in ([], ["--overwrite"]):
        r = _predict(copy, run, gt, *extra)
        assert r.exit_code == 2, r.output
        assert "groundTruth" in r.output and "Traceback" not in r.output
        assert {p.name: p.read_text() for p in gt.iterdir()} == before


def test_predict_replaces_existing_label_files_only_with_overwrite(trained, tmp_path):
    data, run = trained
    out = tmp_path / "pred"
    assert _predict(data, run, out).exit_code == 0
    name = sorted(p.name for p in out.iterdir())[0]
    (out / name).write_text("mine\n")
    r = _predict(data, run, out)
    assert r.exit_code == 2 and "--overwrite" in r.output and (out / name).read_text() == "mine\n"
    r = _predict(data, run, out, "--overwrite")
    assert r.exit_code == 0 and (out / name).read_text() != "mine\n"


def test_disk_full_in_predict_names_the_folder(trained, tmp_path, monkeypatch):
    """Sibling of U1/C6: predict's label files on a full disk."""
    import errno
    import os

    data, run = trained

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    out = tmp_path / "pred"
    r = _predict(data, run, out, "--no-report")
    assert r.exit_code == 1, r.output
    line = r.output.strip().splitlines()[-1]
    assert line.startswith("Error: ") and str(out) in line and "no space left" in line and "Traceback" not in r.output
    assert not out.exists() or not [p for p in out.rglob("*") if p.is_file()]
