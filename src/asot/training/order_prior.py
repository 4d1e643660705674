r"""The temporal prior's weight from the data: a stronger prior where the videos share one order.

ASOT's prior :math:`\rho R_{ij}` (:func:`asot.temporal_prior`) asks every video to take the
actions in one order. How strong it should be depends on the data: on the quality benchmark's
families with one order of actions, training with a stronger prior than the paper's 0.15 gained
up to 18 MoF points, and lost 12 where the order varies (``docs/defaults.md``). The order is not visible
before training (the k-means-initialised labels are too noisy to rank), but it is in a trained
model's segmentation. So the data-driven default (``rho_auto``) trains with the preset's weight,
measures the **order consistency** of that model's predictions,

.. math:: \tau = \operatorname{mean}_{b < b'} \operatorname{Kendall}\big(c_b, c_{b'}\big),
   \qquad c_{bk} = \operatorname{mean}\{\, i / (N_b - 1) : \hat y_{bi} = k \,\},

the rank agreement between two videos of the mean positions of the actions both use (each
with at least :data:`MIN_ACTION_FRACTION` of the video, at least :data:`MIN_SHARED_ACTIONS`
shared), and where :math:`\tau \ge` :data:`ORDER_THRESHOLD` trains the activity again with
:data:`ORDERED_RHO` and keeps that model. Nothing changes where the actions recur (the prior is
off there), where a weight was given, or in a distributed run (the ranks would have to agree on
the decision; it is recorded as not applied).
"""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from asot.io.runfolder import SIDE_RUNS, move_activity, rebased

__all__ = ["MIN_ACTION_FRACTION", "MIN_SHARED_ACTIONS", "ORDERED_RHO", "ORDER_DIR", "ORDER_THRESHOLD", "action_positions",
           "fit_with_order_prior", "order_consistency"]

#: retrain with the stronger prior when the order consistency is at least this
ORDER_THRESHOLD = 0.9
#: the prior weight of the retraining (with the centred prior of the ``default`` preset; chosen by
#: ``benchmarks/prior_anchor.py``: 0.6 was the choice with the paper's prior)
ORDERED_RHO = 0.3
#: an action counts in a video when it takes at least this fraction of its frames
MIN_ACTION_FRACTION = 0.02
#: two videos are compared when they share at least this many actions
MIN_SHARED_ACTIONS = 3
#: the side run folder of the retraining, inside the run folder (removed once it is adopted)
ORDER_DIR = SIDE_RUNS[1]


def action_positions(labels: Any, min_fraction: float = MIN_ACTION_FRACTION) -> dict[int, float]:
    """``{action: mean position in [0, 1]}`` of the actions taking at least ``min_fraction`` of
    one video's ``(N,)`` labels (negative ids, padding, are ignored)."""
    lab = np.asarray(labels).reshape(-1)
    n = lab.size
    if n == 0:
        return {}
    valid = lab >= 0
    positions = (np.arange(n, dtype=np.float64) / max(n - 1, 1))[valid]
    ids, inverse, counts = np.unique(lab[valid], return_inverse=True, return_counts=True)
    sums = np.bincount(inverse.reshape(-1), weights=positions, minlength=ids.size)
    return {int(k): float(s / c) for k, s, c in zip(ids, sums, counts) if c >= max(1.0, min_fraction * n)}


def order_consistency(labels_per_video: Sequence[Any]) -> float | None:
    """Mean Kendall tau over pairs of videos of their shared actions' mean positions (see the
    module doc); ``None`` when no pair shares :data:`MIN_SHARED_ACTIONS` actions."""
    from scipy.stats import kendalltau

    positions = [action_positions(lab) for lab in labels_per_video]
    taus = []
    for a, b in itertools.combinations(positions, 2):
        shared = sorted(set(a) & set(b))
        if len(shared) >= MIN_SHARED_ACTIONS:
            tau = kendalltau([a[k] for k in shared], [b[k] for k in shared]).statistic
            if np.isfinite(tau):
                taus.append(float(tau))
    return float(np.mean(taus)) if taus else None


def _single_process(devices: Any, num_nodes: Any, strategy: Any) -> bool:
    one_device = devices in (1, "1") or (isinstance(devices, (list, tuple)) and len(devices) == 1)
    return one_device and int(num_nodes) == 1 and "ddp" not in str(strategy)


def fit_with_order_prior(fit: Any, videos: Sequence[Any], preset: Any, *, activity: str, out: Path | None = None,
                         resume: bool = False, **kwargs: Any) -> Any:  # fmt: skip
    """Train one activity with ``fit`` (:func:`asot.training.pipeline.fit_activity`); where the
    rule applies and the model's order consistency reaches :data:`ORDER_THRESHOLD`, train it
    again with :data:`ORDERED_RHO` and keep that model (see the module doc).

    The retraining runs in ``out/.asot-order`` and its checkpoints and logs then replace the
    first model's in ``out``. Resumed, the first training continues from its checkpoint; a
    checkpoint that is already the retrained model (its prior is :data:`ORDERED_RHO`) is kept as
    it is, and an interrupted retraining starts again. The kept
    :class:`~asot.training.pipeline.ActivityResult` gets ``order_prior``:
    ``{"consistency", "threshold", "rho", "retrained"}`` (and ``"applied": False`` with the reason
    where the rule does not apply).
    """
    first = fit(videos, preset, activity=activity, out=out, resume=resume, **kwargs)
    if first is None:  # another rank of a distributed run
        return None
    used = float(first.module.rho_used)
    if not preset.rho_auto or used == 0.0:  # a given weight, or recurring actions: the prior stays as it is
        return first
    if not _single_process(kwargs.get("devices", 1), kwargs.get("num_nodes", 1), kwargs.get("strategy", "auto")):
        first.order_prior = {"applied": False, "reason": "distributed run", "rho": used}
        return first
    tau = order_consistency(list(first.predictions.values()))
    decision = {"consistency": None if tau is None else round(tau, 3), "threshold": ORDER_THRESHOLD}
    if preset.rho < ORDERED_RHO <= used:  # resumed after the retraining: this is the kept model
        first.order_prior = {**decision, "rho": used, "retrained": True}
        return first
    if tau is None or tau < ORDER_THRESHOLD or preset.rho >= ORDERED_RHO:
        first.order_prior = {**decision, "rho": used, "retrained": False}
        return first
    work = None if out is None else Path(out) / ORDER_DIR
    if work is not None and work.exists():  # an interrupted retraining starts again
        shutil.rmtree(work)
    from asot.training.pipeline import TrainingInterrupted

    try:
        second = fit(videos, preset.replace(rho=ORDERED_RHO), activity=activity, out=work, resume=False, **kwargs)
    except TrainingInterrupted:  # the first model's checkpoint stays; a resumed run retrains again
        if work is not None:
            shutil.rmtree(work, ignore_errors=True)
        raise TrainingInterrupted(activity, first.checkpoint) from None
    except BaseException:
        if work is not None:
            shutil.rmtree(work, ignore_errors=True)
        raise
    if work is not None:
        move_activity(work, Path(out), activity)
        second.checkpoint = rebased(second.checkpoint, work, Path(out))
        second.log_dir = rebased(second.log_dir, work, Path(out))
        shutil.rmtree(work, ignore_errors=True)
    second.order_prior = {**decision, "rho": float(second.module.rho_used), "retrained": True}
    return second
