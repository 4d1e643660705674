"""Presets: the paper's per-dataset settings (spec section 3), one source of defaults."""

from __future__ import annotations

import json

import pytest

from asot.ot.config import SolverConfig
from asot.presets import PRESETS, Preset, get_preset, preset_names

# (K, epochs, rho, lambda train, r, alpha train, alpha eval, MLP) from spec section 3
PAPER = {
    "yti": ({"changing_tire": 11, "coffee": 10, "cpr": 7, "jump_car": 12, "repot": 8}, 10, 0.15, 0.12, 0.04, 0.3, 0.6, (3000, 32, 32)),
    "50salads-eval": (12, 30, 0.15, 0.11, 0.04, 0.3, 0.6, (64, 128, 40)),
    "50salads-mid": (19, 30, 0.15, 0.15, 0.04, 0.3, 0.6, (64, 128, 40)),
    "desktop-assembly": (22, 30, 0.25, 0.16, 0.02, 0.3, 0.6, (512, 128, 40)),
    "breakfast": ({"pancake": 14, "salat": 8, "friedegg": 9, "scrambledegg": 12, "sandwich": 9, "juice": 8,
                   "milk": 5, "tea": 7, "cereals": 5, "coffee": 7}, 15, 0.2, 0.10, 0.04, 0.4, 0.7, (64, 128, 40)),
}  # fmt: skip


@pytest.mark.parametrize("name", list(PAPER))
def test_paper_settings(name):
    k, epochs, rho, lam, r, a_train, a_eval, layers = PAPER[name]
    p = get_preset(name)
    assert p.n_clusters == k and p.epochs == epochs and p.rho == rho and p.layer_sizes == layers
    t, e = p.train_solver, p.eval_solver
    assert (t.lambda_actions, t.radius, t.alpha, t.eps) == (lam, r, a_train, 0.07)
    assert (e.lambda_actions, e.radius, e.alpha, e.eps) == (0.01, r, a_eval, 0.04)
    assert t.unbalanced_actions and e.unbalanced_actions and not t.unbalanced_frames
    assert t.n_iters == e.n_iters == 25
    # shared settings
    assert (p.lr, p.weight_decay, p.n_frames, p.batch_size, p.temperature, p.val_every) == (1e-3, 1e-4, 256, 2, 0.1, 5)


def test_dataset_specific_flags():
    assert get_preset("breakfast").standardise is True
    assert get_preset("yti").exclude_labels == (-1,)
    assert get_preset("50salads-eval").mapping == "mappingeval.txt"
    assert get_preset("50salads-mid").mapping == "mapping.txt"
    assert get_preset("breakfast").dataset == "Breakfast" and get_preset("desktop-assembly").dataset == "desktop_assembly"
    assert set(preset_names()) == {"breakfast", "yti", "50salads-mid", "50salads-eval", "desktop-assembly", "default"}
    assert set(PRESETS) == set(preset_names())


def test_names_are_forgiving_and_unknown_names_list_valid_ones():
    assert get_preset("Breakfast") is PRESETS["breakfast"]
    assert get_preset("desktop_assembly").name == "desktop-assembly"
    assert get_preset("FSeval").name == "50salads-eval"
    assert get_preset("synthetic").name == "default"
    with pytest.raises(ValueError, match=r"unknown preset 'salads'; valid presets: breakfast, yti, 50salads-eval"):
        get_preset("salads")
    with pytest.raises(TypeError):
        get_preset(3)


def test_n_clusters_lookup():
    bf = get_preset("breakfast")
    assert bf.n_clusters_for("coffee") == 7 and bf.n_clusters_for("pancake") == 14
    assert set(bf.activities) == set(PAPER["breakfast"][0])
    with pytest.raises(KeyError, match="no K for activity 'bogus'"):
        bf.n_clusters_for("bogus")
    assert bf.n_clusters_for("bogus", default=4) == 4
    assert get_preset("desktop-assembly").n_clusters_for("anything") == 22
    default = get_preset("default")
    assert default.n_clusters is None and default.n_clusters_for("x", default=9) == 9
    with pytest.raises(ValueError, match="n_clusters is None"):
        default.n_clusters_for("x")
    assert bf.replace(n_clusters=3).n_clusters_for("coffee") == 3
    assert bf.layer_sizes_for(48) == (48, 128, 40)


def test_overrides_are_validated():
    p = get_preset("breakfast", epochs=3, train_eps=0.05, eval_alpha=0.5, rho=0.0)
    assert p.epochs == 3 and p.rho == 0.0
    assert p.train_solver.eps == 0.05 and p.train_solver.alpha == 0.4  # other fields kept
    assert p.eval_solver.alpha == 0.5 and p.eval_solver.eps == 0.04
    assert PRESETS["breakfast"].epochs == 15  # the registry is untouched
    q = get_preset("yti", eval_solver={"lambda_actions": 0.05}, train_solver=SolverConfig(eps=0.1))
    assert q.eval_solver.lambda_actions == 0.05 and q.eval_solver.alpha == 0.6 and q.train_solver.eps == 0.1
    assert get_preset("default", layer_sizes=[16, 8, 4]).layer_sizes == (16, 8, 4)
    bad = [
        ({"epoch": 3}, r"unknown setting\(s\) \['epoch'\]"),
        ({"train_foo": 1}, r"unknown setting\(s\) \['train_foo'\]"),
        ({"epochs": 0}, "epochs: expected an integer >= 1"),
        ({"epochs": 2.5}, "epochs: expected an integer >= 1"),
        ({"lr": -1.0}, "lr: expected a positive number"),
        ({"temperature": float("nan")}, "temperature"),
        ({"rho": -0.1}, "rho: expected a non-negative number"),
        ({"n_clusters": 0}, "n_clusters"),
        ({"n_clusters": {"coffee": 0}}, "n_clusters"),
        ({"layer_sizes": (64,)}, "layer_sizes"),
        ({"standardise": "yes"}, "standardise: expected a bool"),
        ({"exclude_labels": ("bg",)}, "exclude_labels"),
        ({"train_eps": -1.0}, r"train_solver: SolverConfig\.eps"),
        ({"eval_solver": 3}, "eval_solver: expected a SolverConfig"),
        ({"seed": -1}, "seed"),
        ({"batch_size": True}, "batch_size"),
    ]
    for kwargs, message in bad:
        with pytest.raises(ValueError, match=message):
            get_preset("breakfast", **kwargs)


def test_round_trip_through_json():
    for name in preset_names():
        p = get_preset(name, epochs=7)
        data = json.loads(json.dumps(p.to_dict()))
        assert Preset.from_dict(data) == p
        assert hash(Preset.from_dict(data)) == hash(p)
    with pytest.raises(ValueError, match="unknown setting"):
        Preset.from_dict({"bogus": 1})


def test_frozen():
    p = get_preset("default")
    with pytest.raises(AttributeError):
        p.epochs = 3  # type: ignore[misc]
