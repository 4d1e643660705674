"""Library pipeline: training, aggregation, checkpoint resume, atomic run folders, predict."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import asot
from asot.data.synthetic import TINY
from asot.training import pipeline as P
from asot.training.pipeline import PipelineError, aggregate_activities, predict, train


def _weights(path):
    state = torch.load(path, map_location="cpu", weights_only=False)["state_dict"]
    return {k: v for k, v in state.items()}


def test_train_writes_complete_run_folder(tiny_root, tmp_path):
    run = tmp_path / "run"
    res = train(tiny_root, TINY.name, run, epochs=1)
    metrics = json.loads((run / "metrics.json").read_text())
    assert set(metrics["full"]) == {"mof", "f1", "miou"} and set(metrics["per_video"]) == {"mof", "f1", "miou"}
    assert set(metrics["activities"]) == {"tea", "salad"} and "baseline" in metrics
    assert all(0 <= v <= 100 for v in metrics["full"].values())
    names = sorted(p.name for p in (run / "predictions").iterdir())
    assert len(names) == 6 and not [p for p in run.iterdir() if p.name.startswith(".")]
    lines = (run / "predictions" / names[0]).read_text().split()
    assert all(s.lstrip("-").isdigit() for s in lines)
    assert (run / "config.json").exists() and (run / "checkpoints" / "tea" / "last.ckpt").exists()
    config = json.loads((run / "config.json").read_text())
    assert config["layer_sizes"]["tea"][0] == res.activities["tea"].module.encoder.input_dim  # the data's dimension
    assert (run / "logs" / "tea" / "version_0" / "metrics.csv").exists()
    assert list((run / "logs" / "tea" / "tb").glob("events.out.tfevents.*"))  # TensorBoard (in the test extras)
    figs = {p.name for p in (run / "figures").iterdir()}
    assert any(f.startswith("segmentation_") for f in figs) and "loss_tea.png" in figs
    assert res.metrics == metrics


def test_aggregation_pools_frames_for_mof_and_averages_f1_miou():
    gts = {"a": {"x": np.array([0, 0, 1, 1])}, "b": {"y": np.array([2, 2, 2, 3, 3, 3, 3, 3])}}
    preds = {"a": {"x": np.array([5, 5, 5, 6])}, "b": {"y": np.array([1, 1, 1, 0, 0, 0, 0, 0])}}
    per = {a: (preds[a], gts[a], P.evaluate_predictions(preds[a], gts[a])) for a in gts}
    agg = aggregate_activities(per)
    assert agg["full"]["mof"] == pytest.approx(100 * (3 + 8) / 12)
    assert agg["full"]["f1"] == pytest.approx((per["a"][2]["full"]["f1"] + per["b"][2]["full"]["f1"]) / 2)
    assert agg["full"]["miou"] == pytest.approx((per["a"][2]["full"]["miou"] + 100) / 2)


@pytest.mark.parametrize("auto", [False, True], ids=["preset", "auto-radius-and-rho"])
def test_resume_gives_same_weights_as_uninterrupted(tiny_root, tmp_path, auto):
    kw = dict(activities=["salad"], baseline=False, figures=False, overrides={"val_every": 1})
    if auto:  # the measured radii and rho come back from the checkpoint, not from a new measurement
        auto_config = asot.get_preset("default").train_solver.replace(radius="auto")
        kw.update(train_solver=auto_config, eval_solver=asot.get_preset("default").eval_solver.replace(radius="auto"),
                  overrides={"val_every": 1, "rho_auto": True})
    train(tiny_root, TINY.name, tmp_path / "full", epochs=2, **kw)
    train(tiny_root, TINY.name, tmp_path / "part", epochs=1, **kw)
    train(tiny_root, TINY.name, tmp_path / "part", epochs=2, resume=True, **kw)
    a = _weights(tmp_path / "full" / "checkpoints" / "salad" / "last.ckpt")
    b = _weights(tmp_path / "part" / "checkpoints" / "salad" / "last.ckpt")
    one = _weights(tmp_path / "full" / "checkpoints" / "salad" / "epoch000.ckpt")
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=0, atol=0)
    assert not torch.equal(a["encoder.net.0.weight"], one["encoder.net.0.weight"])  # epoch 2 actually trained


def test_failure_while_writing_predictions_leaves_no_partial_outputs(tiny_root, tmp_path, monkeypatch):
    run = tmp_path / "run"
    real, calls = P.write_label_file, []

    def flaky(path, labels, mapping=None):
        calls.append(path)
        if len(calls) == 3:
            raise OSError("disk full (simulated)")
        return real(path, labels, mapping)

    monkeypatch.setattr(P, "write_label_file", flaky)
    with pytest.raises(OSError, match="simulated"):
        train(tiny_root, TINY.name, run, epochs=1, figures=False, baseline=False)
    assert not (run / "metrics.json").exists() and not (run / "predictions").exists()
    assert not [p for p in run.iterdir() if p.name.startswith(".")]


def test_failure_during_a_replacing_run_keeps_the_previous_run(tiny_root, tmp_path, monkeypatch):
    run = tmp_path / "run"
    train(tiny_root, TINY.name, run, epochs=1, activities=["tea"], figures=False, baseline=False)
    before = {p: p.read_bytes() for p in run.rglob("*") if p.is_file() and "logs" not in p.parts}
    with pytest.raises(PipelineError, match="overwrite"):  # a finished run is replaced only on request
        train(tiny_root, TINY.name, run, epochs=1, activities=["tea"], figures=False, baseline=False)
    from asot.models.lit_module import ASOTModule

    def boom(self, batch, batch_idx):
        raise KeyboardInterrupt("killed (simulated)")

    monkeypatch.setattr(ASOTModule, "training_step", boom)
    with pytest.raises(KeyboardInterrupt, match="previous run"):
        train(tiny_root, TINY.name, run, epochs=1, activities=["tea"], figures=False, baseline=False, overwrite=True)
    assert {p: p.read_bytes() for p in run.rglob("*") if p.is_file() and "logs" not in p.parts} == before


@pytest.mark.parametrize("auto", [False, True], ids=["preset", "auto-radius"])
def test_predict_from_run_folder_matches_training_predictions(tiny_root, tmp_path, auto):
    run = tmp_path / "run"
    solver = {}
    if auto:  # training videos keep the radius measured at the start of training
        preset = asot.get_preset("default")
        solver = dict(train_solver=preset.train_solver.replace(radius="auto"),
                      eval_solver=preset.eval_solver.replace(radius="auto"))
    res = train(tiny_root, TINY.name, run, epochs=1, figures=False, baseline=False, **solver)
    preds = predict(run, tiny_root, TINY.name, tmp_path / "pred")
    assert preds.keys() == res.predictions.keys()
    for name in preds:
        np.testing.assert_array_equal(preds[name], res.predictions[name])
    assert sorted(p.name for p in (tmp_path / "pred").iterdir()) == sorted([*preds, "segments.csv", "segments.json"])


def test_ddp_trains_on_every_rank_and_rank_zero_segments_every_video(tiny_root, tmp_path):
    """Two CPU processes (``ddp_spawn``, gloo): the test set is not sharded, so every video is
    segmented and scored once; the checkpoint is the model that produced the predictions."""
    run = tmp_path / "run"
    res = train(tiny_root, TINY.name, run, activities=["salad"], epochs=2, figures=False, baseline=False,
                accelerator="cpu", devices=2, strategy="ddp_spawn")
    assert res.is_global_zero
    written = sorted(p.name for p in (run / "predictions").iterdir())
    assert written == sorted(res.predictions) and len(written) == 3  # the activity's 3 videos, not one rank's share
    gts = res.activities["salad"].ground_truth
    assert json.loads((run / "metrics.json").read_text()) == res.metrics
    assert res.metrics["full"] == pytest.approx(P.evaluate_predictions(res.predictions, gts)["full"])
    again = predict(run, tiny_root, TINY.name, activities=["salad"])
    for name in written:
        np.testing.assert_array_equal(again[name], res.predictions[name])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(data="/nonexistent/x"), "does not exist"),
        (dict(preset="nope"), "unknown preset"),
        (dict(n_clusters=0), "K must be"),
        (dict(activities=["nothere"]), "unknown activit"),
    ],
)
def test_user_errors(tiny_root, tmp_path, kwargs, match):
    data = kwargs.pop("data", tiny_root)
    with pytest.raises(PipelineError, match=match):
        train(data, TINY.name, tmp_path / "run", **kwargs)


def test_a_new_run_in_an_old_run_folder_replaces_its_checkpoints(tiny_root, tmp_path):
    run = tmp_path / "run"
    kw = dict(activities=["tea"], baseline=False, figures=False, epochs=1)
    train(tiny_root, TINY.name, run, seed=0, **kw)
    second = train(tiny_root, TINY.name, run, seed=7, overwrite=True, **kw)
    assert [p.name for p in (run / "checkpoints" / "tea").iterdir() if p.name.startswith("last")] == ["last.ckpt"]  # no last-v1
    saved = torch.load(run / "checkpoints" / "tea" / "last.ckpt", map_location="cpu", weights_only=False)
    assert saved["hyper_parameters"]["seed"] == 7
    again = predict(run, tiny_root, TINY.name, activities=["tea"])
    for name, labels in second.predictions.items():
        np.testing.assert_array_equal(again[name], labels)  # predict uses this run's model


def test_interrupted_training_raises_keyboard_interrupt_with_a_resume_hint(tiny_root, tmp_path, monkeypatch):
    from asot.models.lit_module import ASOTModule

    def stop_in_second_epoch(self):
        if self.current_epoch == 1:
            raise KeyboardInterrupt

    monkeypatch.setattr(ASOTModule, "on_train_epoch_start", stop_in_second_epoch, raising=False)
    with pytest.raises(KeyboardInterrupt, match="resume"):
        train(tiny_root, TINY.name, tmp_path / "run", activities=["tea"], epochs=3, baseline=False, figures=False,
              overrides={"val_every": 1})
    assert (tmp_path / "run" / "checkpoints" / "tea" / "last.ckpt").exists()
    assert not (tmp_path / "run" / "metrics.json").exists()


def test_resume_keeps_the_logs_of_the_epochs_already_trained(tiny_root, tmp_path):
    import csv

    run = tmp_path / "run"
    kw = dict(activities=["tea"], baseline=False, figures=True, overrides={"val_every": 1})
    train(tiny_root, TINY.name, run, epochs=1, **kw)
    train(tiny_root, TINY.name, run, epochs=3, resume=True, **kw)
    epochs = set()
    for metrics_csv in (run / "logs" / "tea").glob("version_*/metrics.csv"):
        with open(metrics_csv, newline="") as fh:
            epochs |= {int(row["epoch"]) for row in csv.DictReader(fh) if row.get("train/loss_epoch")}
    assert epochs == {0, 1, 2}
    assert P._loss_curve(run / "logs" / "tea", "tea") is not None and (run / "figures" / "loss_tea.png").exists()
