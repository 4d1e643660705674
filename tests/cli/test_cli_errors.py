"""One error style for every command: ``Error: <one line>`` on stderr, exit 2 for a wrong
command line, 1 for a failure, never a traceback or a box; full disks name the folder."""

from __future__ import annotations

import errno
import os

import numpy as np
import pytest
from typer.testing import CliRunner

from asot.cli import app

runner = CliRunner()


def _one_line_error(result, code: int) -> str:
    out = result.output
    assert result.exit_code == code, out
    assert out.startswith("Error: "), out
    assert len(out.strip().splitlines()) == 1, out
    assert "Traceback" not in out and "╭" not in out and "│" not in out, out  # no rich box
    return out


@pytest.mark.parametrize(
    "argv",
    [
        ["segment"],  # missing argument
        ["segment", "x.npy", "--out", "o"],  # missing option
        ["segment", "x.npy", "--kind", "nope", "--out", "o"],  # bad choice
        ["segment", "x.npy", "--kind", "prob", "--out", "o", "--batch-size", "many"],  # not a number
        ["segment", "x.npy", "--kind", "prob", "--out", "o", "--eps", "-1"],  # a value the command refuses
        ["evaluate", "--pred", "p"],
        ["train", "--data", "d"],
        ["predict", "--checkpoint", "c"],
        ["nosuchcommand"],
    ],
)
def test_parser_errors_are_one_line_exit_2(argv):
    _one_line_error(runner.invoke(app, argv), 2)


def test_evaluate_uses_the_same_style_as_the_other_commands(tmp_path):
    out = _one_line_error(runner.invoke(app, ["evaluate", "--pred", str(tmp_path / "nope"), "--gt", str(tmp_path),
                                              "--mapping", str(tmp_path / "m.txt")]), 2)  # fmt: skip
    assert "not a folder" in out


def test_segment_bad_file_is_a_failure_exit_1(tmp_path):
    (tmp_path / "v.npy").write_bytes(b"not an array at all")
    _one_line_error(runner.invoke(app, ["segment", str(tmp_path / "v.npy"), "--kind", "prob", "--out", str(tmp_path / "o"),
                                        "--no-progress"]), 1)  # fmt: skip


def _disk_full(monkeypatch):
    """Every file write hits a full disk, as a real ``write``/``fsync`` does: an OSError
    without a file name."""

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)


def _probs(n=40, k=3):
    rng = np.random.default_rng(0)
    p = rng.random((n, k)) + 0.1
    return p / p.sum(axis=1, keepdims=True)


def test_disk_full_in_segment_names_the_folder_and_leaves_no_partial_file(tmp_path, monkeypatch):
    np.save(tmp_path / "v.npy", _probs())
    out = tmp_path / "pred"
    _disk_full(monkeypatch)
    msg = _one_line_error(runner.invoke(app, ["segment", str(tmp_path / "v.npy"), "--kind", "prob", "--out", str(out),
                                              "--no-progress"]), 1)  # fmt: skip
    assert str(out) in msg and "no space left on device" in msg
    assert not out.exists() or not [p for p in out.rglob("*") if p.is_file()]  # no half-written or temporary file


def test_disk_full_in_compare_json_names_the_file_or_folder(tmp_path, monkeypatch):
    np.save(tmp_path / "v.npy", _probs())
    (tmp_path / "gt").mkdir()
    (tmp_path / "gt" / "v").write_text("0\n" * 20 + "1\n" * 20)
    _disk_full(monkeypatch)
    result = runner.invoke(app, ["compare", str(tmp_path / "v.npy"), "--pred-kind", "prob", "--gt", str(tmp_path / "gt"),
                                 "--decoders", "argmax", "--json", str(tmp_path / "res" / "table.json")])  # fmt: skip
    assert result.exit_code == 1 and "Traceback" not in result.output
    msg = result.output.strip().splitlines()[-1]  # the table is printed first, then the JSON write fails
    assert msg.startswith("Error: ")
    assert str(tmp_path / "res") in msg and "no space left on device" in msg
    assert not list((tmp_path / "res").glob("*"))
