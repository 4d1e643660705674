"""train(preset, overrides, run=, trainer=) and the earlier flat keywords mapping onto it."""

import pytest

from asot.data.synthetic import TINY
from asot.training.options import RunOptions, TrainerOptions, split_keywords
from asot.training.pipeline import PipelineError, train


def test_flat_keywords_land_in_their_groups():
    changes, run, trainer = split_keywords({"lr": 0.1}, None, None,
                                           {"epochs": 3, "n_clusters": 4, "overwrite": True, "figures": 0,
                                            "accelerator": "cpu", "devices": 2, "progress": True})
    assert changes == {"lr": 0.1, "epochs": 3, "n_clusters": 4}
    assert run == RunOptions(overwrite=True, figures=0)
    assert trainer == TrainerOptions(devices=2, progress=True)


def test_keywords_refine_given_groups_and_unknown_ones_fail():
    _, run, _ = split_keywords(None, RunOptions(baseline=False), None, {"report": False})
    assert run == RunOptions(baseline=False, report=False)
    with pytest.raises(TypeError, match="'epoch'"):
        split_keywords(None, None, None, {"epoch": 1})
    with pytest.raises(ValueError, match="epochs given twice"):
        split_keywords({"epochs": 2}, None, None, {"epochs": 3})


def test_new_and_old_forms_train_the_same(tiny_root):
    old = train(tiny_root, TINY.name, activities=["tea"], epochs=1, seed=3, baseline=False, figures=False, report=False)
    new = train(tiny_root, TINY.name, preset="default", overrides={"epochs": 1, "seed": 3}, activities=["tea"],
                run=RunOptions(baseline=False, figures=False, report=False), trainer=TrainerOptions(accelerator="cpu"))
    assert new.preset == old.preset and new.preset.epochs == 1
    assert new.metrics.keys() == old.metrics.keys()
    for protocol in ("full", "per_video"):
        assert new.metrics[protocol] == pytest.approx(old.metrics[protocol])
    with pytest.raises(PipelineError, match="given twice"):
        train(tiny_root, TINY.name, overrides={"epochs": 2}, epochs=1)
