r"""Label-free scores of a trained model, for choosing among restarts (seeds) of one activity.

For a trained :class:`~asot.models.ASOTModule` and the activity's whole videos (``N_b`` frames each,
cost :math:`C = 1 - XA^\top + \rho R`, coupling :math:`T` of the solver, labels
:math:`\hat y_i = \arg\max_j T_{ij}`), pooled over all frames of the activity:

* ``loss`` -- the final pseudo-label loss :math:`-\frac1N\sum_i\sum_j T^{train}_{ij}\log
  \operatorname{softmax}(x_i A^\top/\tau)_j` (training solver on the whole video);
* ``objective`` -- the evaluation solver's final objective :math:`F(T)`, frame-weighted mean over
  videos;
* ``fit`` -- the mean cosine distance of a frame to its decoded action, :math:`\frac1N\sum_i
  (1 - x_i^\top a_{\hat y_i})`;
* ``agreement`` -- (across restarts) the mean normalised mutual information of one restart's
  labels with every other restart's (:func:`agreement`).

Lower is better for ``loss``, ``objective`` and ``fit``; higher for ``agreement``.
``benchmarks/restarts.py`` measures how each ranks the seeds against MoF.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from asot.io.runfolder import SIDE_RUNS, move_activity, rebased

__all__ = ["CRITERIA", "RESTARTS_DIR", "agreement", "fit_restarts", "model_scores", "pairwise_nmi"]

#: every label-free criterion and whether a higher value is better
CRITERIA = {"loss": False, "objective": False, "fit": False, "agreement": True}


def model_scores(module: Any, videos: Sequence[Any]) -> dict[str, float]:
    """``{"loss", "objective", "fit"}`` of a trained module on whole videos (see the module doc)."""
    import torch
    from torch.nn import functional as F

    from asot.ot.solver import solve

    totals = {"loss": 0.0, "objective": 0.0, "fit": 0.0}
    frames = 0
    module = module.eval()
    with torch.no_grad():
        for v in videos:
            x = torch.from_numpy(np.asarray(v.features, dtype=np.float32))[None].to(module.device)
            mask = torch.ones(x.shape[:2], dtype=torch.bool, device=x.device)
            sim = module.similarity(x)
            cost = module.asot_cost(sim, mask)
            ev = solve(cost, mask, module.eval_solver, radii=module.radii(module.eval_solver, x, mask))
            tr = solve(cost, mask, module.train_solver, radii=module.radii(module.train_solver, x, mask))
            log_p = F.log_softmax(sim / module.hparams.temperature, dim=-1)
            n = x.shape[1]
            labels = ev.labels[0].to(sim.device)
            totals["loss"] += float(-(tr.coupling[0].to(sim.device) * log_p[0]).sum())
            totals["objective"] += float(ev.objective[0, -1]) * n
            totals["fit"] += float((1.0 - sim[0, torch.arange(n, device=sim.device), labels]).sum())
            frames += n
    return {k: v / max(frames, 1) for k, v in totals.items()}


def pairwise_nmi(predictions: Sequence[Mapping[str, np.ndarray]]) -> np.ndarray:
    """``(R, R)`` normalised mutual information (scikit-learn, arithmetic mean) of the restarts'
    labels, all videos concatenated (1 on the diagonal)."""
    from sklearn.metrics import normalized_mutual_info_score

    names = sorted(predictions[0])
    flat = [np.concatenate([np.asarray(p[n]) for n in names]) for p in predictions]
    r = len(flat)
    nmi = np.ones((r, r))
    for i in range(r):
        for j in range(i + 1, r):
            nmi[i, j] = nmi[j, i] = normalized_mutual_info_score(flat[i], flat[j])
    return nmi


def agreement(predictions: Sequence[Mapping[str, np.ndarray]]) -> list[float]:
    """For each restart, the mean NMI (:func:`pairwise_nmi`) of its labels with each other
    restart's; ``[1.0]`` for a single restart."""
    if len(predictions) < 2:
        return [1.0] * len(predictions)
    nmi = pairwise_nmi(predictions)
    return [float((row.sum() - 1.0) / (len(row) - 1)) for row in nmi]


#: where the restarts of an activity train inside the run folder before the kept one is moved into place
RESTARTS_DIR = SIDE_RUNS[0]


def fit_restarts(fit: Any, videos: Sequence[Any], preset: Any, restarts: int, *, activity: str,
                 out: Path | None = None, **kwargs: Any) -> Any:  # fmt: skip
    """Train ``restarts`` models of one activity (seeds ``preset.seed + i``) with ``fit``
    (:func:`asot.training.pipeline.fit_activity`) and keep the one whose segmentation agrees
    most with the others' (:func:`agreement`: mean NMI of its labels, all videos of the activity,
    with every other restart's; ties: the lowest seed). No label is read.

    With ``out``, each restart trains in ``out/.asot-restarts/seed-<s>``; the kept model's
    ``checkpoints/<activity>`` and ``logs/<activity>`` are then moved to ``out`` and the rest
    removed (also when interrupted: an interrupted activity keeps nothing, as restarts do not
    resume). The kept :class:`~asot.training.pipeline.ActivityResult` gets ``restarts``:
    ``{"criterion", "seeds", "agreement", "chosen_seed"}``. ``None`` on the other ranks of a
    distributed run (as ``fit``).
    """
    import shutil

    seeds = [int(preset.seed) + i for i in range(int(restarts))]
    work = None if out is None else Path(out) / RESTARTS_DIR
    if work is not None and work.exists():
        shutil.rmtree(work)
    try:
        results = [fit(videos, preset.replace(seed=s), activity=activity, out=None if work is None else work / f"seed-{s}",
                       **kwargs) for s in seeds]  # fmt: skip
    except KeyboardInterrupt:  # nothing of an interrupted activity is kept (restarts do not resume)
        if work is not None:
            shutil.rmtree(work, ignore_errors=True)
        from asot.training.pipeline import TrainingInterrupted

        raise TrainingInterrupted(activity) from None
    if any(r is None for r in results):
        return None
    scores = agreement([r.predictions for r in results])
    best = int(np.argmax(scores))
    kept = results[best]
    if work is not None:
        source = work / f"seed-{seeds[best]}"
        move_activity(source, Path(out), activity)
        kept.checkpoint = rebased(kept.checkpoint, source, Path(out))
        kept.log_dir = rebased(kept.log_dir, source, Path(out))
        shutil.rmtree(work, ignore_errors=True)
    kept.restarts = {"criterion": "agreement", "seeds": seeds, "agreement": [round(s, 4) for s in scores],
                     "chosen_seed": seeds[best]}  # fmt: skip
    return kept
