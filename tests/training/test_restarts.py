"""``restarts``: R seeds of an activity, the one most in agreement with the others kept."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from asot.cli import app
from asot.data.synthetic import TINY
from asot.training.pipeline import PipelineError, train
from asot.training.restarts import RESTARTS_DIR, agreement


def test_agreement_ranks_the_restart_the_others_confirm_first():
    rng = np.random.default_rng(0)
    truth = np.repeat(np.arange(4), 50)
    relabelled = (truth + 1) % 4  # the same segmentation under other cluster ids
    noisy = np.where(rng.random(200) < 0.2, rng.integers(0, 4, 200), truth)
    other = rng.integers(0, 4, 200)
    scores = agreement([{"v": truth}, {"v": relabelled}, {"v": noisy}, {"v": other}])
    assert scores[0] == pytest.approx(scores[1]) and scores[0] > scores[2] > scores[3]
    assert agreement([{"v": truth}]) == [1.0]


def test_train_keeps_the_chosen_restart_and_records_it(tiny_root, tmp_path):
    run = tmp_path / "run"
    res = train(tiny_root, TINY.name, run, activities=["tea"], epochs=1, figures=False, baseline=False, report=False,
                restarts=2)  # fmt: skip
    metrics = json.loads((run / "metrics.json").read_text())
    config = json.loads((run / "config.json").read_text())
    rec = metrics["chosen"]["tea"]["restarts"]
    assert config["chosen"]["tea"]["restarts"] == rec
    assert rec["criterion"] == "agreement" and rec["seeds"] == [0, 1] and rec["chosen_seed"] in (0, 1)
    assert rec["chosen_seed"] == rec["seeds"][int(np.argmax(rec["agreement"]))]
    assert (run / "checkpoints" / "tea" / "last.ckpt").is_file() and not (run / RESTARTS_DIR).exists()
    # the kept model is the single run of the chosen seed
    single = train(tiny_root, TINY.name, None, activities=["tea"], epochs=1, figures=False, baseline=False,
                   seed=rec["chosen_seed"])  # fmt: skip
    kept = res.activities["tea"].predictions
    assert all(np.array_equal(kept[n], p) for n, p in single.activities["tea"].predictions.items())
    assert res.activities["tea"].module.hparams.seed == rec["chosen_seed"]


@pytest.mark.parametrize("bad", [0, -1, 1.5, True])
def test_bad_restarts_are_pipeline_errors(tiny_root, bad):
    with pytest.raises(PipelineError, match="restarts must be an integer >= 1"):
        train(tiny_root, TINY.name, None, activities=["tea"], epochs=1, restarts=bad)


def test_restarts_with_resume_is_an_error(tiny_root, tmp_path):
    with pytest.raises(PipelineError, match="restarts cannot be combined with resume"):
        train(tiny_root, TINY.name, tmp_path / "run", activities=["tea"], epochs=1, restarts=2, resume=True)


def test_cli_restarts_flag(tiny_root, tmp_path):
    runner = CliRunner()
    base = ["train", "--data", str(tiny_root), "--dataset", TINY.name, "--epochs", "1", "--activity", "tea", "--no-progress",
            "--no-figures", "--no-report", "--no-baseline"]  # fmt: skip
    r = runner.invoke(app, [*base, "--out", str(tmp_path / "bad"), "--restarts", "0"])
    assert r.exit_code == 2 and "--restarts must be >= 1" in r.output and len(r.output.strip().splitlines()) == 1
    r = runner.invoke(app, [*base, "--out", str(tmp_path / "run"), "--restarts", "2"])
    assert r.exit_code == 0, r.output
    assert "restarts (most in agreement)" in r.output
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["chosen"]["tea"]["restarts"]["seeds"] == [0, 1]


def test_an_interrupted_restart_leaves_no_partial_models(tiny_root, tmp_path, monkeypatch):
    import asot.training.pipeline as pipeline
    from asot.training.pipeline import TrainingInterrupted

    fit = pipeline.fit_activity
    calls = []

    def interrupting(videos, preset, **kwargs):
        calls.append(preset.seed)
        if preset.seed == 1:  # the second restart (seed 0 may train twice: the order-prior retraining)
            raise KeyboardInterrupt
        return fit(videos, preset, **kwargs)

    monkeypatch.setattr(pipeline, "fit_activity", interrupting)
    run = tmp_path / "run"
    with pytest.raises(TrainingInterrupted) as info:
        train(tiny_root, TINY.name, run, activities=["tea"], epochs=1, figures=False, baseline=False, report=False, restarts=3)
    assert calls[-1] == 1 and set(calls) == {0, 1} and info.value.activity == "tea" and info.value.checkpoint is None
    assert not (run / RESTARTS_DIR).exists() and not (run / "metrics.json").exists()
    assert not (run / "checkpoints" / "tea").exists()
