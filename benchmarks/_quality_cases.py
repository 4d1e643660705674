"""Datasets and one training run for ``benchmarks/quality.py`` and ``benchmarks/defaults_lodo.py``.

Real data: the Breakfast sample (5 coffee videos, K = 7) and ActRecTut (2 recordings, K = 6)
from ``../shared/data``. Synthetic families (``asot.SyntheticConfig``, one activity, 10 videos
each, generated once into a temporary folder):

* ``syn-fixed``: every action once, in a fixed order;
* ``syn-reordered``: actions skipped and adjacent ones swapped often (the generator has no full
  shuffle: ``p_swap = 0.5``, ``p_skip = 0.2``);
* ``syn-recurring``: short segments, every action returns after the next (``p_repeat = 1``);
* ``syn-long``: long videos (3,000-6,000 frames) with few (4) actions;
* ``syn-noisy``: the fixed order with 2.5x the white noise and 1.7x the latent noise.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
SHARED = HERE.parent.parent / "shared"


@dataclasses.dataclass(frozen=True)
class Case:
    name: str
    root: Path
    dataset: str
    paper_preset: str | None  # the paper preset of this dataset, if the paper has one
    k: int | None  # K given to asot train (None: the classes in the data)


def synthetic_configs():
    from asot.data import SyntheticConfig

    base = dict(n_activities=1, activity_names=("task",), n_videos=10, n_frames=(400, 900), n_actions=(6,), background=(0.0,),
                duration_spread=(0.4,), feature_dim=32, latent_dim=12, hidden_dim=48, p_skip=0.0, p_swap=0.0, p_repeat=0.0)  # fmt: skip
    return {
        "syn-fixed": SyntheticConfig(name="SynFixed", seed=11, **base),
        "syn-reordered": SyntheticConfig(name="SynReordered", seed=12, **{**base, "p_swap": 0.5, "p_skip": 0.2}),
        "syn-recurring": SyntheticConfig(name="SynRecurring", seed=13, **{**base, "p_repeat": 1.0, "min_segment": 3,
                                                                           "n_frames": (300, 600)}),
        "syn-long": SyntheticConfig(name="SynLong", seed=14, **{**base, "n_actions": (4,), "n_frames": (3000, 6000), "n_videos": 6}),
        "syn-noisy": SyntheticConfig(name="SynNoisy", seed=15, **{**base, "white_noise": 2.5, "ar_noise": 2.5}),
    }


def cases(synthetic_root: Path = Path("/tmp/asot-quality-synthetic"), real: bool = True) -> list[Case]:
    from asot.data import generate_dataset

    out = []
    if real:
        out += [Case("breakfast", SHARED / "data/breakfast_coffee", "Breakfast", "breakfast", 7),
                Case("actrectut", SHARED / "data/actrectut", "ActRecTut", None, 6)]  # fmt: skip
    for name, cfg in synthetic_configs().items():
        if not (synthetic_root / cfg.name).is_dir():
            generate_dataset(synthetic_root, cfg)
        out.append(Case(name, synthetic_root, cfg.name, None, None))
    return out


#: generator seeds of the fresh draws of each synthetic family (:func:`fresh_draws`)
FRESH_SEEDS = {"syn-fixed": (101, 102, 103, 104, 105, 106), "syn-reordered": (401, 402), "syn-recurring": (501, 502),
               "syn-long": (201, 202, 203, 204), "syn-noisy": (301, 302, 303, 304)}  # fmt: skip


def fresh_draws(root: Path = Path("/tmp/asot-quality-fresh")) -> list[Case]:
    """The synthetic families again with other generator seeds (``"syn-fixed@101"`` ...): new
    per-action durations, prototypes and noise, nothing tuned on them. A family's seed draws its
    actions' mean durations, so one draw can favour one prior anchor by chance (``docs/defaults.md``)."""
    from asot.data import generate_dataset

    out = []
    for name, cfg in synthetic_configs().items():
        for seed in FRESH_SEEDS[name]:
            draw = dataclasses.replace(cfg, name=f"{cfg.name}G{seed}", seed=seed)
            if not (root / draw.name).is_dir():
                generate_dataset(root, draw)
            out.append(Case(f"{name}@{seed}", root, draw.name, None, None))
    return out


@contextlib.contextmanager
def rule_constants(**constants: float):
    """Temporarily set constants of the data-driven rule: :mod:`asot.ot.radius`
    (``SEGMENT_RADIUS_PER_SEGMENT`` ...) or :mod:`asot.training.order_prior` (``ORDER_THRESHOLD``,
    ``ORDERED_RHO``), whichever defines the name."""
    import asot.ot.radius as R
    import asot.training.order_prior as O

    owner = {k: (R if hasattr(R, k) else O) for k in constants}
    old = {k: getattr(owner[k], k) for k in constants}
    try:
        for k, v in constants.items():
            setattr(owner[k], k, v)
        yield
    finally:
        for k, v in old.items():
            setattr(owner[k], k, v)


def eval_key(eps: float, lambda_actions: float) -> str:
    """The key of a re-scored evaluation setting in a run's ``"eval"``."""
    return f"eps {eps:g} lambda {lambda_actions:g}"


def run(case: Case, preset: str, seed: int, overrides: dict[str, Any] | None = None,
        eval_settings: tuple[tuple[float, float], ...] = (), constants: dict[str, float] | None = None,
        baselines: bool = False, n_clusters: Any = None, restarts: int = 1) -> dict[str, Any]:  # fmt: skip
    """Train ``preset`` (+ overrides) on a case; full / per-video metrics, the baselines, and the
    trained models re-scored with other evaluation ``(eps, lambda)`` (``eval_settings``: the
    evaluation solver does not change training)."""
    import torch

    from asot.training.pipeline import aggregate_activities, evaluate_predictions, train

    t0 = time.perf_counter()
    with rule_constants(**(constants or {})):
        res = train(case.root, case.dataset, None, preset=preset, n_clusters=n_clusters or case.k, seed=seed,
                    overrides=overrides or {}, figures=False, baseline=baselines, restarts=restarts)  # fmt: skip
        out: dict[str, Any] = {"full": res.metrics["full"], "per_video": res.metrics["per_video"],
                               "seconds": round(time.perf_counter() - t0, 2)}  # fmt: skip
        if baselines:
            out["baselines"] = {m: {"full": v["full"], "per_video": v["per_video"]} for m, v in res.metrics["baselines"].items()}
        out["chosen"] = res.metrics.get("chosen")
        out["n_clusters"] = {a: r.n_clusters for a, r in res.activities.items()}
        out["eval"] = {}
        for eps, lam in eval_settings:
            per_act = {}
            for act, r in res.activities.items():
                module = r.module
                base = module.eval_solver
                module.eval_solver = base.replace(eps=float(eps), lambda_actions=float(lam))
                try:
                    from asot.data import load_dataset

                    vids = load_dataset(case.root, case.dataset, activities=[act], standardise=res.preset.standardise,
                                        mapping=res.preset.mapping)  # fmt: skip
                    preds = {v.name: module.segment(torch.from_numpy(v.features)[None])[0].numpy() for v in vids}
                finally:
                    module.eval_solver = base
                per_act[act] = (preds, r.ground_truth, evaluate_predictions(preds, r.ground_truth, res.preset.exclude_labels))
            out["eval"][eval_key(eps, lam)] = aggregate_activities(per_act, res.preset.exclude_labels)
    return out


def seeds_parser(doc: str, json_name: str):
    """The command line of a benchmark that trains the datasets and the fresh draws:
    ``--seeds`` (the seven datasets), ``--fresh-seeds`` (:func:`fresh_draws`) and ``--json``."""
    import argparse

    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--fresh-seeds", type=int, default=2)
    parser.add_argument("--json", type=Path, default=HERE / "results" / json_name)
    return parser


def open_results(path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """A benchmark's JSON (``{}`` when new) and its ``"runs"`` cache, with warnings and library
    logging silenced for the runs (an interrupted benchmark resumes from the cache)."""
    import json
    import logging
    import warnings

    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)
    out = json.loads(path.read_text()) if path.exists() else {}
    return out, out.setdefault("runs", {})


def mean_std(values) -> tuple[float, float]:
    v = np.asarray(list(values), dtype=np.float64)
    return float(v.mean()), float(v.std(ddof=0))
