"""Hungarian matching of predicted clusters to ground-truth classes (spec ``ASOT.md`` section 5).

Unsupervised segmentations label frames with cluster ids that carry no meaning of their own, so
before any score is computed each cluster is assigned to at most one ground-truth class and
each class to at most one cluster, maximising the number of frames on which they agree:

.. math::

    \\pi^\\star = \\arg\\max_{\\pi} \\sum_{k} C_{k, \\pi(k)}, \\qquad
    C_{kc} = \\#\\{t : \\hat y_t = k,\\ y_t = c\\}

where ``C`` (``n_clusters x n_classes``) is the overlap (confusion) matrix over the frames that
remain after excluding labels (e.g. YouTube Instructions' background ``-1``), and ``pi`` is a
partial one-to-one map (solved with :func:`scipy.optimize.linear_sum_assignment`). With more
clusters than classes the surplus clusters stay unmatched; with fewer, some classes do. Frames
of an unmatched cluster, or of a class that no cluster matched, count as wrong.

Two protocols (section 5):

* **full** -- one matching over all frames of a set of videos (:func:`match_full`);
* **per video** -- one matching per video (:func:`match_per_video`), metrics averaged over
  videos by the callers in :mod:`asot.metrics.functional`.

Only classes and clusters that actually occur (after exclusion) take part: this is the
convention of the reference implementation, and it is what reproduces the published per-video
MoF numbers of ``../shared/reference``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

from asot._arrays import is_tensor, to_numpy

__all__ = [
    "Matching",
    "as_label_array",
    "as_videos",
    "confusion_matrix",
    "exclude_frames",
    "hungarian_match",
    "match_full",
    "match_per_video",
]


def as_label_array(x: Any, *, name: str = "labels") -> np.ndarray:
    """One video's frame labels as a 1-D ``int64`` numpy array.

    Accepts numpy arrays, torch tensors (any device; detached and copied to the CPU), and
    sequences of integers. Floating-point input is accepted only when every value is integral.
    """
    arr = to_numpy(x)  # torch tensors too, without importing torch
    if arr.ndim != 1:
        raise ValueError(f"expected {name} of shape (n_frames,), got shape {arr.shape}")
    if arr.size == 0:
        return arr.astype(np.int64)
    if arr.dtype == np.bool_ or not np.issubdtype(arr.dtype, np.number):
        raise ValueError(f"expected integer {name}, got dtype {arr.dtype}")
    if not np.issubdtype(arr.dtype, np.integer):
        if not np.all(np.isfinite(arr)) or not np.all(arr == np.round(arr)):
            raise ValueError(f"expected integer {name}, got non-integral values of dtype {arr.dtype}")
    return arr.astype(np.int64, copy=False)


def _is_video_sequence(x: Any) -> bool:
    if isinstance(x, (list, tuple)):
        return len(x) > 0 and all(np.ndim(v) >= 1 or is_tensor(v) for v in x)
    return False


def as_videos(x: Any, *, name: str = "labels") -> list[np.ndarray]:
    """Normalise label input to a list of 1-D ``int64`` arrays, one per video.

    * a 1-D array / tensor / list of ints: one video;
    * a 2-D array / tensor ``(B, N)``: ``B`` videos of ``N`` frames;
    * a list or tuple of 1-D arrays / tensors / lists: one video each (lengths may differ).
    """
    if _is_video_sequence(x):
        return [as_label_array(v, name=f"{name}[{i}]") for i, v in enumerate(x)]
    arr = to_numpy(x)
    if arr.ndim == 2:
        return [as_label_array(row, name=f"{name}[{i}]") for i, row in enumerate(arr)]
    return [as_label_array(arr, name=name)]


def _paired_videos(pred: Any, gt: Any) -> tuple[list[np.ndarray], list[np.ndarray]]:
    preds = as_videos(pred, name="pred")
    gts = as_videos(gt, name="gt")
    if len(preds) != len(gts):
        raise ValueError(f"expected as many predicted as ground-truth videos, got {len(preds)} and {len(gts)}")
    for i, (p, g) in enumerate(zip(preds, gts)):
        if p.shape != g.shape:
            raise ValueError(
                f"expected pred and gt of the same length, got {p.shape[0]} and {g.shape[0]} frames"
                + (f" (video {i})" if len(preds) > 1 else "")
            )
    return preds, gts


def _exclusion_array(exclude: Iterable[int] | int | None) -> np.ndarray:
    if exclude is None:
        return np.zeros(0, dtype=np.int64)
    if hasattr(exclude, "tolist"):  # numpy / torch scalars and arrays
        exclude = exclude.tolist()
    values = exclude if isinstance(exclude, Iterable) and not isinstance(exclude, (str, bytes)) else [exclude]
    labels = set(values)
    bad = [e for e in labels if isinstance(e, (bool, np.bool_)) or not isinstance(e, (int, np.integer))]
    if bad:
        raise TypeError(f"exclude: expected integer label ids, got {sorted(map(repr, bad))}")
    return np.array(sorted(int(e) for e in labels), dtype=np.int64)


def exclude_frames(
    pred: np.ndarray, gt: np.ndarray, exclude: Iterable[int] | int | None = ()
) -> tuple[np.ndarray, np.ndarray]:
    """Drop the frames whose ground-truth label is in ``exclude``; returns ``(pred, gt)``."""
    pred = as_label_array(pred, name="pred")
    gt = as_label_array(gt, name="gt")
    if pred.shape != gt.shape:
        raise ValueError(f"expected pred and gt of the same length, got {pred.shape[0]} and {gt.shape[0]} frames")
    excl = _exclusion_array(exclude)
    if excl.size == 0:
        return pred, gt
    keep = ~np.isin(gt, excl)
    return pred[keep], gt[keep]


def confusion_matrix(pred: Any, gt: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Overlap counts ``C[k, c] = #{t : pred_t = clusters[k], gt_t = classes[c]}``.

    Returns ``(C, clusters, classes)``: ``C`` is ``int64`` of shape
    ``(n_clusters, n_classes)``, ``clusters`` and ``classes`` are the sorted ids that occur.
    """
    pred = as_label_array(pred, name="pred")
    gt = as_label_array(gt, name="gt")
    if pred.shape != gt.shape:
        raise ValueError(f"expected pred and gt of the same length, got {pred.shape[0]} and {gt.shape[0]} frames")
    return _confusion([pred], [gt])


def _confusion(preds: list[np.ndarray], gts: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`confusion_matrix` of the frames of paired ``int64`` videos taken together (as if
    concatenated, but never concatenated when the ids are in small ranges).

    Ids in small ranges (the usual ``0 .. K-1``: a table of every id pair no larger than the
    frames) are counted a video at a time into that table, with one index array of the video's
    size as the only temporary; other ids go through ``np.unique`` on the concatenation
    (sorting both sequences: about seven arrays of the frames' size at once, 20 MB for
    Breakfast's 400k frames). Both give the same matrix.
    """
    sized = [(p, g) for p, g in zip(preds, gts) if p.size]
    if sized:
        lo_p, lo_g = min(p.min() for p, _ in sized), min(g.min() for _, g in sized)
        span_p = int(max(p.max() for p, _ in sized)) - int(lo_p) + 1
        span_g = int(max(g.max() for _, g in sized)) - int(lo_g) + 1
        if span_p * span_g <= max(sum(p.size for p, _ in sized), 1 << 16):
            table = np.zeros(span_p * span_g, dtype=np.int64)
            for p, g in sized:
                index = p - lo_p  # (p - lo_p) * span_g + (g - lo_g); int64 wraps, the result is in range
                index *= span_g
                index += g
                index -= lo_g
                table += np.bincount(index, minlength=table.size)
            table = table.reshape(span_p, span_g)
            rows, cols = np.flatnonzero(table.any(axis=1)), np.flatnonzero(table.any(axis=0))
            return table[np.ix_(rows, cols)], rows + lo_p, cols + lo_g
    pred, gt = (preds[0], gts[0]) if len(preds) == 1 else (np.concatenate(preds), np.concatenate(gts))
    clusters, p_idx = np.unique(pred, return_inverse=True)
    classes, g_idx = np.unique(gt, return_inverse=True)
    flat = np.bincount(p_idx * len(classes) + g_idx, minlength=len(clusters) * len(classes))
    return flat.reshape(len(clusters), len(classes)).astype(np.int64), clusters, classes


@dataclass(frozen=True)
class Matching:
    """A one-to-one assignment of predicted clusters to ground-truth classes.

    Attributes:
        clusters: ``(M,)`` matched cluster ids.
        classes: ``(M,)`` the class each of ``clusters`` is matched to.
        confusion: ``(n_clusters, n_classes)`` overlap counts the matching was solved on.
        all_clusters: ``(n_clusters,)`` sorted cluster ids that occurred.
        all_classes: ``(n_classes,)`` sorted class ids that occurred (after exclusion).
        exclude: the excluded class ids.
    """

    clusters: np.ndarray
    classes: np.ndarray
    confusion: np.ndarray = field(repr=False)
    all_clusters: np.ndarray = field(repr=False)
    all_classes: np.ndarray = field(repr=False)
    exclude: tuple[int, ...] = ()

    @property
    def mapping(self) -> dict[int, int]:
        """``{cluster: class}`` for the matched pairs."""
        return {int(k): int(c) for k, c in zip(self.clusters, self.classes)}

    @property
    def n_matched_frames(self) -> int:
        """Frames on which the matched cluster and class agree (the maximised objective)."""
        rows = np.searchsorted(self.all_clusters, self.clusters)
        cols = np.searchsorted(self.all_classes, self.classes)
        return int(self.confusion[rows, cols].sum())

    @property
    def n_frames(self) -> int:
        """Frames the matching was solved on (after exclusion)."""
        return int(self.confusion.sum())

    def apply(self, pred: Any, fill: int | None = None) -> np.ndarray:
        """Map cluster ids to their matched classes.

        Unmatched clusters (including ids never seen when matching) become ``fill`` when it is
        given; by default each gets its own id below every class and cluster id involved
        (``base - r`` for the ``r``-th unmatched id in sorted order, ``base`` = min of all of
        them and 0, minus 1), so the mapping stays injective and never creates a false hit:
        segment boundaries of the mapped prediction are those of the raw prediction.
        """
        pred = as_label_array(pred, name="pred")
        if pred.size == 0:
            return pred.copy()
        uniq, inv = np.unique(pred, return_inverse=True)
        lookup = self.mapping
        unmatched = [int(u) for u in uniq if int(u) not in lookup]
        if fill is None:
            candidates = [0, *uniq.tolist(), *self.all_classes.tolist(), *self.all_clusters.tolist()]
            base = min(candidates) - 1
            extra = {u: base - r for r, u in enumerate(unmatched)}
        else:
            extra = {u: int(fill) for u in unmatched}
        values = np.array([lookup.get(int(u), extra.get(int(u), 0)) for u in uniq], dtype=np.int64)
        return values[inv]


def hungarian_match(pred: Any, gt: Any, *, exclude: Iterable[int] | int | None = ()) -> Matching:
    """Match the clusters of one label sequence to its ground-truth classes.

    Args:
        pred: ``(N,)`` predicted cluster ids (numpy, torch or a list).
        gt: ``(N,)`` ground-truth class ids.
        exclude: class ids whose frames are dropped before matching (e.g. ``-1``).

    Returns:
        The :class:`Matching` maximising the matched frames (ties broken by scipy's solver,
        deterministically for a given confusion matrix).
    """
    pred, gt = exclude_frames(pred, gt, exclude)
    return _matching(*confusion_matrix(pred, gt), exclude)


def _matching(conf: np.ndarray, clusters: np.ndarray, classes: np.ndarray, exclude: Any) -> Matching:
    if conf.size:
        rows, cols = linear_sum_assignment(conf, maximize=True)
    else:
        rows = cols = np.zeros(0, dtype=np.int64)
    return Matching(
        clusters=clusters[rows],
        classes=classes[cols],
        confusion=conf,
        all_clusters=clusters,
        all_classes=classes,
        exclude=tuple(int(e) for e in _exclusion_array(exclude)),
    )


def match_full(pred: Any, gt: Any, *, exclude: Iterable[int] | int | None = ()) -> Matching:
    """One matching over all frames of all videos (the "full" protocol): the
    :func:`hungarian_match` of their concatenation, counted a video at a time (see
    :func:`confusion_matrix`) instead of concatenating them.

    ``pred`` / ``gt``: one video ``(N,)``, a batch ``(B, N)``, or lists of ``(N_b,)`` arrays.
    """
    preds, gts = _paired_videos(pred, gt)
    kept = [exclude_frames(p, g, exclude) for p, g in zip(preds, gts)]
    return _matching(*_confusion([p for p, _ in kept], [g for _, g in kept]), exclude)


def match_per_video(pred: Any, gt: Any, *, exclude: Iterable[int] | int | None = ()) -> list[Matching]:
    """A separate matching for each video (the "per video" protocol); one per video."""
    preds, gts = _paired_videos(pred, gt)
    return [hungarian_match(p, g, exclude=exclude) for p, g in zip(preds, gts)]

