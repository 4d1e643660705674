"""The settings a run chose from the data are recorded per activity / video and printed."""

from __future__ import annotations

import json

import pytest

import asot
from asot.data.synthetic import TINY
from asot.training.chosen import summary_lines
from asot.training.pipeline import train


def test_default_preset_records_its_data_driven_choices(tiny_root, tmp_path):
    run = tmp_path / "run"
    res = train(tiny_root, TINY.name, run, activities=["tea"], epochs=1, figures=False, baseline=False)
    metrics = json.loads((run / "metrics.json").read_text())
    config = json.loads((run / "config.json").read_text())
    chosen = metrics["chosen"]["tea"]
    assert config["chosen"] == metrics["chosen"]
    module = res.activities["tea"].module
    assert chosen["rho"] == float(module.rho_used) and chosen["rho_auto"] is True
    assert chosen["recurring"] == bool(module.recurring)
    if chosen["recurring"]:
        assert chosen["rho"] == 0.0 and "order_prior" not in chosen
    else:  # 0.15, or retrained with the stronger prior where the trained model's order is consistent
        from asot.training.order_prior import ORDER_THRESHOLD, ORDERED_RHO

        order = chosen["order_prior"]
        assert order["retrained"] == (order["consistency"] is not None and order["consistency"] >= ORDER_THRESHOLD)
        assert chosen["rho"] == order["rho"] == (ORDERED_RHO if order["retrained"] else 0.15)
        assert not (run / ".asot-order").exists()
        assert sorted(p.name for p in (run / "checkpoints" / "tea").iterdir())  # the kept model's checkpoints
    assert chosen["train_radius"] == chosen["eval_radius"] == "auto"
    videos = asot.load_dataset(tiny_root, TINY.name, activities=["tea"])
    assert list(chosen["radius_per_video"]) == [v.name for v in videos]
    assert list(chosen["radius_per_video"].values()) == pytest.approx(module.training_radii, rel=1e-5)
    (line,) = summary_lines(metrics["chosen"])
    assert line.startswith("chosen for tea: K ") and "radius auto r " in line and "eval eps 0.04" in line
    assert chosen["prior"] == "centred" and module.prior_centred  # the default preset's anchor
    assert (" centred" in line) == (chosen["rho"] > 0)
    assert chosen["min_run_radii"] == module.min_run_radii == 0.5 and "runs >= 0.5 radii" in line


def test_paper_values_are_recorded_unchanged(tiny_root):
    res = train(tiny_root, TINY.name, None, activities=["tea"], epochs=1, figures=False, baseline=False,
                overrides={"train_radius": 0.04, "eval_radius": 0.04, "rho_auto": False})  # fmt: skip
    chosen = res.metrics["chosen"]["tea"]
    assert chosen["rho"] == 0.15 and chosen["eval_radius"] == 0.04 and "radius_per_video" not in chosen
    assert chosen["prior"] == "centred"  # the default preset's, unless --prior-paper


def test_prior_paper_trains_with_the_papers_prior(tiny_root):
    """--prior-paper (prior_centred=False) reaches the model: its cost uses |i/N - j/K|."""
    import torch

    from asot.ot.structure import batched_temporal_prior

    res = train(tiny_root, TINY.name, None, activities=["tea"], epochs=1, figures=False, baseline=False,
                overrides={"prior_centred": False, "rho_auto": False})  # fmt: skip
    module = res.activities["tea"].module
    assert res.metrics["chosen"]["tea"]["prior"] == "paper" and not module.prior_centred
    mask = torch.ones(1, 20, dtype=torch.bool)
    sim = torch.zeros(1, 20, module.n_clusters)
    torch.testing.assert_close(module.asot_cost(sim, mask) - 1.0, batched_temporal_prior(mask, module.n_clusters, 0.15))
