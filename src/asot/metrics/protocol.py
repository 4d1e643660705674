r"""The evaluation protocols of the unsupervised pipeline: ``full``, ``per_video`` and the
aggregation over activities (Breakfast / YTI protocol), in percent.

* :func:`evaluate_protocols` -- one activity's cluster predictions scored twice: ``full``
  (one Hungarian matching over all its videos) and ``per_video`` (one matching per video,
  metrics averaged over videos); MoF, segment F1 and mIoU (:mod:`asot.metrics.functional`).
* :func:`aggregate_activities` -- every activity has its own model and its own matching.
  ``full``: MoF pools the frames of all activities,

  .. math:: \mathrm{MoF} = \frac{\sum_a \mathrm{MoF}_a\, n_a}{\sum_a n_a},

  with :math:`n_a` the frames of activity :math:`a` not excluded; F1 and mIoU are the
  unweighted means of the per-activity values (as the paper's per-activity tables are
  averaged). ``per_video``: each video has its own matching, so the metrics are averaged
  over all videos of all activities.

Only videos present in both the predictions and the ground truth are scored.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np

from asot.metrics import functional as MF

__all__ = ["PROTOCOLS", "PROTOCOL_METRICS", "aggregate_activities", "evaluate_protocols", "labelled_pairs"]

#: the two matchings (one over all videos of an activity, one per video)
PROTOCOLS = ("full", "per_video")
#: the metrics of each protocol (percent)
PROTOCOL_METRICS = ("mof", "f1", "miou")


def labelled_pairs(preds: Mapping[str, np.ndarray], gts: Mapping[str, np.ndarray]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """``(predictions, ground truths)`` of the videos that have both, in the predictions' order."""
    names = [n for n in preds if n in gts]
    return [np.asarray(preds[n]) for n in names], [np.asarray(gts[n]) for n in names]


def _scores(p: list[np.ndarray], g: list[np.ndarray], exclude: tuple[int, ...], per_video: bool) -> dict[str, float]:
    return {
        "mof": 100.0 * MF.mof(p, g, exclude=exclude, per_video=per_video),
        "f1": 100.0 * MF.segment_f1(p, g, exclude=exclude, per_video=per_video),
        "miou": 100.0 * MF.miou(p, g, exclude=exclude, per_video=per_video),
    }


def evaluate_protocols(preds: Mapping[str, np.ndarray], gts: Mapping[str, np.ndarray],
                       exclude: Iterable[int] = ()) -> dict[str, dict[str, float]]:  # fmt: skip
    """Full and per-video MoF / F1 / mIoU (percent) of one activity's cluster predictions."""
    p, g = labelled_pairs(preds, gts)
    exclude = tuple(exclude)
    return {protocol: _scores(p, g, exclude, protocol == "per_video") for protocol in PROTOCOLS}


def aggregate_activities(
    per_activity: Mapping[str, tuple[Mapping[str, np.ndarray], Mapping[str, np.ndarray], Mapping[str, Mapping[str, float]] | None]],
    exclude: Iterable[int] = (),
) -> dict[str, dict[str, float]]:
    """Aggregate ``{activity: (preds, gts, metrics)}`` as the paper does (see the module doc);
    activities whose ``metrics`` is ``None`` (no labels) are left out; ``{}`` when none is left."""
    exclude = tuple(exclude)
    per_activity = {a: v for a, v in per_activity.items() if v[2] is not None}
    if not per_activity:
        return {}
    if len(per_activity) == 1:
        ((_, _, metrics),) = per_activity.values()
        return {k: dict(v) for k, v in metrics.items()}
    frames, matched, f1s, mious = 0, 0.0, [], []
    all_p: list[np.ndarray] = []
    all_g: list[np.ndarray] = []
    for preds, gts, metrics in per_activity.values():
        p, g = labelled_pairs(preds, gts)
        n = int(sum((~np.isin(x, exclude)).sum() for x in g))
        frames += n
        matched += metrics["full"]["mof"] * n
        f1s.append(metrics["full"]["f1"])
        mious.append(metrics["full"]["miou"])
        all_p += p
        all_g += g
    full = {"mof": matched / max(frames, 1), "f1": float(np.mean(f1s)), "miou": float(np.mean(mious))}
    return {"full": full, "per_video": _scores(all_p, all_g, exclude, True)}
