"""``asot demo`` on the tiny synthetic data (fast_dev_run-style smoke test)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from asot.cli import app

runner = CliRunner()


def test_demo_tiny_smoke(tmp_path):
    out = tmp_path / "run"
    r = runner.invoke(app, ["demo", "--tiny", "--epochs", "1", "--data", str(tmp_path / "data"), "--out", str(out)])
    assert r.exit_code == 0, r.output
    for row in ("ASOT", "k-means + argmax", "No GW", "Balanced OT"):
        assert row in r.output
    summary = json.loads((out / "summary.json").read_text())
    assert list(summary["table"]) == ["ASOT", "k-means + argmax", "No GW", "Balanced OT"]
    assert all(set(v) == {"mof", "f1", "miou"} for v in summary["table"].values())
    assert summary["methods"]["No GW"]["train_solver"]["alpha"] == 0.0
    assert summary["methods"]["Balanced OT"]["eval_solver"]["unbalanced_actions"] is False
    assert (out / "metrics.json").exists() and (out / "predictions").is_dir() and (out / "figures").is_dir()
    # the dataset is reused on a second run
    r = runner.invoke(app, ["demo", "--tiny", "--epochs", "1", "--no-ablations", "--data", str(tmp_path / "data"), "--out", str(out)])
    assert r.exit_code == 0, r.output


def test_demo_bad_epochs_is_one_line_error(tmp_path):
    r = runner.invoke(app, ["demo", "--tiny", "--epochs", "0", "--out", str(tmp_path / "r")])
    assert r.exit_code == 2 and "--epochs must be >= 1" in r.output and "Traceback" not in r.output


def test_demo_ablations_in_a_second_process_give_the_same_table(tmp_path):
    """The ablations trained beside ASOT in a spawned process (the default on >= 2 CPUs) score
    exactly as when trained one after another in this process (fixed seeds, one thread each)."""
    from asot.data import TINY
    from asot.training.demo import run_demo

    data = tmp_path / "data"
    seq = run_demo(tmp_path / "seq", data=data, synthetic=TINY, epochs=1, parallel=False, echo=None)
    par = run_demo(tmp_path / "par", data=data, synthetic=TINY, epochs=1, parallel=True, echo=None)
    assert list(par["table"]) == list(seq["table"]) == ["ASOT", "k-means + argmax", "No GW", "Balanced OT"]
    assert par["table"] == seq["table"]
    assert par["methods"]["Balanced OT"]["per_video"] == seq["methods"]["Balanced OT"]["per_video"]


def test_demo_trains_the_ablation_here_when_the_second_process_dies(tmp_path, monkeypatch):
    """A second process that ends early (killed, out of memory) costs time, not the table."""
    from concurrent.futures import Future
    from concurrent.futures.process import BrokenProcessPool

    import asot.training.demo as demo
    from asot.data import TINY

    class _Dead:
        def shutdown(self, **_kw):
            pass

    def dead(*_a, **_kw):
        fut = Future()
        fut.set_exception(BrokenProcessPool("killed"))
        return _Dead(), fut

    monkeypatch.setattr(demo, "_ablations_in_background", dead)
    lines = []
    summary = demo.run_demo(tmp_path / "run", data=tmp_path / "data", synthetic=TINY, epochs=1, parallel=True, echo=lines.append)
    assert list(summary["table"]) == ["ASOT", "k-means + argmax", "No GW", "Balanced OT"]
    assert any("ended early" in line for line in lines)
