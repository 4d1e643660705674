r"""Training-free baselines scored beside every trained model (same protocol, same matchings).

Per activity, with ``K`` the activity's number of clusters:

* ``k-means + argmax`` -- k-means (scikit-learn, seeded) on the input features of all frames
  (evenly subsampled to at most ``BASELINE_MAX_FRAMES`` for the fit), every frame labelled with its
  nearest centroid;
* ``k-means + ASOT`` -- the same centroids, no training: the evaluation solver (``eval_solver`` of
  the run, its radius policy included) on the cost

  .. math:: C_{ij} = 1 - \cos(x_i, c_j) + \rho R_{ij},

  the cost the trained model segments with (``1 - X A^T + rho R``) with the encoder replaced by
  the identity and the action embeddings by the k-means centroids;
* ``equal split`` -- each video cut into ``K`` equal consecutive parts labelled ``0 .. K-1``.

Each method's predictions are matched to the ground truth exactly as the trained model's (per
activity for ``full``, per video for ``per_video``), so the numbers are directly comparable.
:func:`advice` names what to try when a baseline beats the trained model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from asot.models.kmeans import KMEANS_MAX_FRAMES

__all__ = ["BASELINE_MAX_FRAMES", "METHODS", "advice", "equal_split", "fit_activity_kmeans", "fit_kmeans", "kmeans_argmax", "kmeans_asot",
           "score_baselines"]

#: most frames given to the k-means fit: the one limit of :mod:`asot.models.kmeans` (earlier name kept)
BASELINE_MAX_FRAMES = KMEANS_MAX_FRAMES
METHODS = ("k-means + argmax", "k-means + ASOT", "equal split")


def fit_kmeans(videos: Sequence[Any], n_clusters: int, *, seed: int = 0):
    """scikit-learn ``KMeans`` on the frames of ``videos`` (:func:`asot.models.kmeans.fit_kmeans`)."""
    from asot.models.kmeans import fit_kmeans as fit

    return fit([v.features for v in videos], n_clusters, seed=seed)


def fit_activity_kmeans(groups: Mapping[str, Sequence[Any]], n_clusters: Mapping[str, int], *, seed: int = 0) -> dict[str, Any]:
    """``{activity: KMeans}`` (:func:`fit_kmeans` with the activity's ``K``) for every activity in
    ``n_clusters``: the centroids of both k-means baselines. They depend on the input features
    only, so :func:`asot.train` fits them before training, where the resident set is smallest
    (at Breakfast scale the fit adds ~100 MB for a moment: its float64 rows and scikit-learn's
    tolerance; after training it would add them to the ~80 MB the trained model, the solver's
    compiled kernels and the predictions hold), and hands them to :func:`score_baselines`."""
    from asot._memory import release_free_memory

    fits = {}
    for act, k in n_clusters.items():
        fits[act] = fit_kmeans(list(groups[act]), k, seed=seed)
        release_free_memory()  # the fit's rows and scikit-learn's buffers, before training
    return fits


def kmeans_argmax(videos: Sequence[Any], km) -> dict[str, np.ndarray]:
    """Every frame labelled with its nearest centroid: ``{video: (N,) ids}``."""
    return {v.name: km.predict(v.features.astype(np.float64)).astype(np.int64) for v in videos}


def kmeans_cost(features: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """``1 - cos(x_i, c_j)``, ``(N, K)`` float32, in ``[0, 2]``."""
    x = features.astype(np.float64)
    x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    c = centres / np.maximum(np.linalg.norm(centres, axis=1, keepdims=True), 1e-12)
    return (1.0 - x @ c.T).astype(np.float32)


def kmeans_asot(videos: Sequence[Any], km, eval_solver, rho: float = 0.0, *, centred: bool = False) -> dict[str, np.ndarray]:
    """ASOT decoding (``eval_solver``) of the k-means cost plus ``rho R`` (``centred``: as in
    :func:`asot.temporal_prior`): ``{video: (N,) ids}``."""
    from asot.ot.solver import solve
    from asot.ot.structure import temporal_prior

    out = {}
    centres = np.asarray(km.cluster_centers_, dtype=np.float64)
    for v in videos:
        cost = kmeans_cost(v.features, centres)
        if rho > 0:
            cost = cost + temporal_prior(cost.shape[0], cost.shape[1], float(rho), centred=centred).numpy()
        out[v.name] = solve(cost, config=eval_solver).labels.numpy().astype(np.int64)
    return out


def equal_split(videos: Sequence[Any], n_clusters: int) -> dict[str, np.ndarray]:
    """Each video in ``K`` equal consecutive parts: frame ``i`` of ``N`` gets ``floor(i K / N)``."""
    return {v.name: (np.arange(v.n_frames) * int(n_clusters) // v.n_frames).astype(np.int64) for v in videos}


def predict_baselines(videos: Sequence[Any], n_clusters: int, eval_solver, *, rho: float = 0.0, centred: bool = False, seed: int = 0,
                      methods: Sequence[str] = METHODS, km: Any = None) -> dict[str, dict[str, np.ndarray]]:  # fmt: skip
    """``{method: {video: (N,) cluster ids}}`` of one activity's videos (``km``: their k-means
    fit when already made, :func:`fit_activity_kmeans`; else fitted here)."""
    unknown = sorted(set(methods) - set(METHODS))
    if unknown:
        raise ValueError(f"baselines: unknown method(s) {unknown}; known: {list(METHODS)}")
    out: dict[str, dict[str, np.ndarray]] = {}
    if km is None and {"k-means + argmax", "k-means + ASOT"} & set(methods):
        km = fit_kmeans(videos, n_clusters, seed=seed)
    if "k-means + argmax" in methods:
        out["k-means + argmax"] = kmeans_argmax(videos, km)
    if "k-means + ASOT" in methods:
        out["k-means + ASOT"] = kmeans_asot(videos, km, eval_solver, rho, centred=centred)
    if "equal split" in methods:
        out["equal split"] = equal_split(videos, n_clusters)
    return out


def score_baselines(groups: Mapping[str, Sequence[Any]], results: Mapping[str, Any], preset, *,
                    methods: Sequence[str] = METHODS,
                    kmeans: Mapping[str, Any] | None = None) -> tuple[dict[str, Any], dict[str, dict[str, np.ndarray]]]:  # fmt: skip
    """Every baseline on every activity of a run, aggregated like the trained model.

    Args:
        groups: ``{activity: videos}``.
        results: ``{activity: ActivityResult}`` of the trained models (their ``n_clusters``,
            ``ground_truth`` and the prior weight actually used are reused).
        preset: the run's :class:`~asot.presets.Preset` (``eval_solver``, ``seed``, ``exclude_labels``).
        kmeans: ``{activity: KMeans}`` fitted beforehand (:func:`fit_activity_kmeans`, with the
            same ``K`` and seed); an activity without one is fitted here.
    Returns:
        ``(metrics, predictions)``: ``metrics[method]`` is ``{"full": ..., "per_video": ...,
        ["activities": ...]}`` in percent; ``predictions[method]`` is ``{video: ids}``.
    """
    from asot._memory import release_free_memory
    from asot.metrics.protocol import aggregate_activities, evaluate_protocols

    per_method: dict[str, dict[str, Any]] = {m: {} for m in methods}
    preds: dict[str, dict[str, np.ndarray]] = {m: {} for m in methods}
    for act, r in results.items():
        rho = _rho_used(r, preset)
        found = predict_baselines(list(groups[act]), r.n_clusters, preset.eval_solver, rho=rho, centred=preset.prior_centred,
                                  seed=preset.seed, methods=methods,
                                  km=(kmeans or {}).get(act))  # fmt: skip
        for method, p in found.items():
            preds[method].update(p)
            per_method[method][act] = (p, r.ground_truth, evaluate_protocols(p, r.ground_truth, preset.exclude_labels))
        release_free_memory()  # the per-video float64 copies, solver buffers and matchings' temporaries (asot._memory)
    metrics: dict[str, Any] = {}
    for method, per_act in per_method.items():
        metrics[method] = aggregate_activities(per_act, preset.exclude_labels)
        if len(per_act) > 1:
            metrics[method]["activities"] = {a: m for a, (_, _, m) in per_act.items()}
    return metrics, preds


def _rho_used(result: Any, preset) -> float:
    module = getattr(result, "module", None)
    if module is not None and hasattr(module, "rho_used"):
        return float(module.rho_used)
    return float(preset.rho)


def advice(model: Mapping[str, float], baselines: Mapping[str, Mapping[str, Any]], margin: float = 0.0) -> str | None:
    """One line when a baseline's full MoF beats the trained model's, naming what to try."""
    best = max(baselines, key=lambda m: baselines[m]["full"]["mof"], default=None)
    if best is None or baselines[best]["full"]["mof"] <= model["mof"] + margin:
        return None
    tips = {
        "k-means + ASOT": "the features already separate the actions: try fewer epochs or a lower learning rate, or use "
                          "ASOT on the k-means cost directly (asot.training.baselines.kmeans_asot)",
        "k-means + argmax": "the temporal model hurts: actions may recur or vary in order; try --rho 0 (or --rho auto) and "
                            "--train-radius auto --eval-radius auto",
        "equal split": "the videos follow a fixed order of similar-length actions that the features do not separate: try "
                       "a stronger temporal prior (--rho), a larger radius, or more epochs",
    }  # fmt: skip
    return (f"note: {best} ({baselines[best]['full']['mof']:.1f} MoF) beats the trained model ({model['mof']:.1f}); "
            f"{tips[best]}")
