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
from typing import Any

import numpy as np

__all__ = ["CRITERIA", "agreement", "model_scores"]

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


def agreement(predictions: Sequence[Mapping[str, np.ndarray]]) -> list[float]:
    """For each restart, the mean NMI (scikit-learn, arithmetic) of its labels, all videos
    concatenated, with each other restart's; ``[1.0]`` for a single restart."""
    from sklearn.metrics import normalized_mutual_info_score

    if len(predictions) < 2:
        return [1.0] * len(predictions)
    names = sorted(predictions[0])
    flat = [np.concatenate([np.asarray(p[n]) for n in names]) for p in predictions]
    r = len(flat)
    nmi = np.ones((r, r))
    for i in range(r):
        for j in range(i + 1, r):
            nmi[i, j] = nmi[j, i] = normalized_mutual_info_score(flat[i], flat[j])
    return [float((nmi[i].sum() - 1.0) / (r - 1)) for i in range(r)]
