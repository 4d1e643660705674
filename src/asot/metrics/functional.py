"""Segmentation metrics as pure functions (spec ``ASOT.md`` section 5).

Inputs are frame labels: one video as an ``(N,)`` array, a batch as ``(B, N)``, or a list of
``(N_b,)`` arrays of different lengths; numpy arrays, torch tensors (any device) or lists of
ints. ``pred`` and ``gt`` must have the same structure. Everything is computed with numpy and
is deterministic (the legacy sampled F1 uses an explicitly seeded generator).

**Scales.** As the field reports them: the unsupervised metrics (:func:`mof`, :func:`miou`,
:func:`segment_f1`, :func:`f1_legacy_sampled`) return fractions in ``[0, 1]``; the supervised
ones (:func:`frame_accuracy`, :func:`edit_score`, :func:`f1_at_overlap`) return percentages in
``[0, 100]`` as MS-TCN's ``eval.py`` does. :func:`segmentation_report` puts everything in
percent, with the keys of the ``asot evaluate --json`` contract (spec section 7).

**Unsupervised metrics** first match clusters to classes with the Hungarian algorithm
(:mod:`asot.metrics.matching`), after dropping frames whose ground truth is in ``exclude``:

* ``per_video=False`` ("full"): one matching over all frames of all videos; the metric is
  computed from counts pooled over the videos;
* ``per_video=True``: one matching per video, the metric computed per video and averaged over
  videos (a video left with no frames after exclusion is skipped).

**Supervised metrics** compare labels as given (no matching), exactly as MS-TCN's ``eval.py``
(Farha & Gall, CVPR 2019): frame accuracy pooled over all frames, edit score averaged over
videos, F1@k from true/false positive and false negative counts summed over videos.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

import numpy as np

from asot.metrics.matching import (
    Matching,
    _exclusion_array,
    _paired_videos,
    as_label_array,
    exclude_frames,
    hungarian_match,
    match_full,
)
from asot.runs import Runs, run_length_encode, run_starts

__all__ = [
    "METRIC_KEYS",
    "OVERLAPS",
    "SegmentF1Result",
    "Segments",
    "edit_score",
    "f1_at_overlap",
    "f1_legacy_sampled",
    "f1_legacy_sampled_details",
    "f_score_counts",
    "frame_accuracy",
    "levenshtein",
    "miou",
    "mof",
    "segment_f1",
    "segment_f1_details",
    "segmentation_report",
    "segments",
]

#: Keys of :func:`segmentation_report` and of ``asot evaluate --json`` (spec section 7).
METRIC_KEYS = ("mof", "f1", "miou", "edit", "f1@10", "f1@25", "f1@50", "accuracy")
#: IoU thresholds of F1@{10,25,50}.
OVERLAPS = (0.10, 0.25, 0.50)
#: Legacy sampled F1: frames drawn per ground-truth segment, and repetitions.
LEGACY_N_SAMPLES = 15
LEGACY_N_REPEATS = 50

class SegmentF1Result(NamedTuple):
    """Segment-level F1 with its precision and recall, all in ``[0, 1]``."""

    f1: float
    precision: float
    recall: float


#: Runs of constant label: ``labels[i]`` spans frames ``starts[i] <= t < ends[i]`` (:class:`asot.runs.Runs`).
Segments = Runs


# --------------------------------------------------------------------------------------------
# helpers


def _f1(precision: float, recall: float) -> float:
    """Harmonic mean ``2PR / (P + R)``; 0 when both are 0."""
    total = precision + recall
    return 0.0 if total == 0 else 2.0 * precision * recall / total


def _units(
    pred: Any, gt: Any, exclude: Any, per_video: bool
) -> list[tuple[list[np.ndarray], list[np.ndarray], Matching]]:
    """Group videos into evaluation units, each with its matching.

    Full protocol: one unit holding every video (filtered), matched on all frames at once.
    Per-video protocol: one unit per video that keeps at least one frame after exclusion.
    Raises ``ValueError`` when no frame is left at all.
    """
    preds, gts = _paired_videos(pred, gt)
    filtered = [exclude_frames(p, g, exclude) for p, g in zip(preds, gts)]
    if not any(g.size for _, g in filtered):
        excl = _exclusion_array(exclude).tolist()
        raise ValueError("no frames to evaluate" + (f" after excluding labels {excl}" if excl else ""))
    if per_video:
        return [([p], [g], hungarian_match(p, g)) for p, g in filtered if g.size]
    fp = [p for p, _ in filtered]
    fg = [g for _, g in filtered]
    return [(fp, fg, match_full(fp, fg))]


def _unit_mof(matching: Matching) -> float:
    return matching.n_matched_frames / matching.n_frames


def _unit_miou(matching: Matching) -> float:
    conf = matching.confusion
    rows = np.searchsorted(matching.all_clusters, matching.clusters)
    cols = np.searchsorted(matching.all_classes, matching.classes)
    inter = conf[rows, cols].astype(np.float64)
    union = conf.sum(axis=1)[rows] + conf.sum(axis=0)[cols] - inter
    return float(np.sum(inter / union) / conf.shape[1])


def _unit_f1_counts(
    preds: Sequence[np.ndarray], gts: Sequence[np.ndarray], matching: Matching
) -> tuple[int, int, int, int]:
    """``(tp, tp_pred, n_gt_segments, n_pred_segments)`` summed over the unit's videos.

    ``tp``: ground-truth segments with more than half their frames correct after matching.
    ``tp_pred``: predicted segments credited with one of those, one-to-one (see
    :func:`segment_f1_details`).
    """
    tp = tp_pred = n_gt = n_pred = 0
    for p, g in zip(preds, gts):
        if g.size == 0:
            continue
        correct = matching.apply(p) == g
        starts = run_starts(g)
        lengths = np.diff(np.append(starts, g.size))
        hits = np.add.reduceat(correct.astype(np.int64), starts)
        detected = np.flatnonzero(2 * hits > lengths)
        tp += detected.size
        n_gt += starts.size
        # the matching is injective, so the runs of the mapped prediction are the raw runs
        run_id = np.cumsum(np.concatenate(([0], p[1:] != p[:-1])))
        n_pred += int(run_id[-1]) + 1
        # Greedy in time order: each detected segment takes the earliest predicted run of its
        # class inside it that is not taken yet. Candidate runs of successive segments are
        # ordered, so this is a maximum one-to-one assignment.
        last = -1
        for i in detected:
            s, e = starts[i], starts[i] + lengths[i]
            candidates = run_id[s:e][correct[s:e]]
            later = candidates[candidates > last]
            if later.size:
                last = int(later[0])
                tp_pred += 1
    return tp, tp_pred, n_gt, n_pred


def _mean(values: list[float]) -> float:
    return float(np.mean(values))


# --------------------------------------------------------------------------------------------
# unsupervised metrics (Hungarian matching)


def mof(pred: Any, gt: Any, *, exclude: Iterable[int] | int | None = (), per_video: bool = False) -> float:
    """Mean over frames: the fraction of frames whose matched prediction is correct.

    .. math:: \\mathrm{MoF} = \\frac{1}{N} \\sum_t [\\pi^\\star(\\hat y_t) = y_t]

    over the ``N`` frames left after exclusion (full protocol), or averaged over videos with a
    matching per video (``per_video=True``). Spec ``ASOT.md`` section 5.

    Args:
        pred: predicted cluster ids, ``(N,)``, ``(B, N)`` or a list of ``(N_b,)``.
        gt: ground-truth class ids, same structure.
        exclude: class ids whose frames are removed before matching (e.g. ``-1``).
        per_video: match and score each video separately, then average.

    Returns:
        MoF in ``[0, 1]``.
    """
    return _mean([_unit_mof(m) for _, _, m in _units(pred, gt, exclude, per_video)])


def miou(pred: Any, gt: Any, *, exclude: Iterable[int] | int | None = (), per_video: bool = False) -> float:
    """Mean IoU of the matched pairs over the ground-truth classes present.

    .. math::

        \\mathrm{mIoU} = \\frac{1}{|\\mathcal C|} \\sum_{(k, c) \\in \\pi^\\star}
        \\frac{|\\{\\hat y = k\\} \\cap \\{y = c\\}|}{|\\{\\hat y = k\\} \\cup \\{y = c\\}|}

    where ``C`` is the set of classes present after exclusion: an unmatched class contributes
    0, and surplus clusters are not penalised beyond the frames they take from matched pairs.
    Full protocol: frame counts pooled over videos; ``per_video=True``: averaged over videos.
    Spec section 5. Returns a value in ``[0, 1]``.
    """
    return _mean([_unit_miou(m) for _, _, m in _units(pred, gt, exclude, per_video)])


def segment_f1_details(
    pred: Any, gt: Any, *, exclude: Iterable[int] | int | None = (), per_video: bool = False
) -> SegmentF1Result:
    """Exact segment-level F1 with precision over the predicted segments.

    A ground-truth segment (a maximal run of one class) of class ``c`` and length ``L`` is a
    true positive when more than ``L / 2`` of its frames are predicted as ``c`` after the
    matching (spec section 5). Then

    .. math::

        R = \\frac{TP}{\\#\\text{GT segments}}, \\quad
        P = \\frac{TP}{\\#\\text{predicted segments}}, \\quad
        F_1 = \\frac{2PR}{P + R}\\ (0 \\text{ when } P = R = 0).

    Predicted segments are the runs of the prediction after mapping cluster ids through the
    matching; unmatched clusters keep distinct ids, so these are exactly the runs of the raw
    prediction. Both kinds of segment are taken on the frames that remain after exclusion (the
    remaining frames of a video are concatenated, as the reference code does), so a predicted
    run lying only on excluded frames is not counted against precision -- those frames are
    not evaluated at all.

    ``TP`` in the precision is counted on the predicted side, one-to-one: each detected
    ground-truth segment is credited to a distinct predicted segment of its matched cluster
    lying (partly) inside it -- a maximum such assignment, found greedily in time order. This
    equals the number of detected ground-truth segments except when one predicted segment
    spans several ground-truth segments of its class (``c c d c c`` predicted ``k k k k k``
    detects both ``c`` segments with one predicted segment), where counting it twice would give
    ``P > 1``. Hence ``0 <= P, R, F1 <= 1``.

    This differs from the published estimator (:func:`f1_legacy_sampled`), whose precision
    divides by ``n_videos * n_gt_classes``: that under-counts precision whenever fewer
    segments than classes are predicted, and can exceed 1 when classes recur.

    Full protocol: counts summed over videos under one matching; ``per_video=True``: ``F1``,
    ``P`` and ``R`` computed per video and each averaged over videos.
    """
    results = []
    for preds, gts, matching in _units(pred, gt, exclude, per_video):
        tp, tp_pred, n_gt, n_pred = _unit_f1_counts(preds, gts, matching)
        precision = tp_pred / n_pred if n_pred else 0.0
        recall = tp / n_gt if n_gt else 0.0
        results.append((_f1(precision, recall), precision, recall))
    f1, precision, recall = (float(v) for v in np.mean(np.array(results), axis=0))
    return SegmentF1Result(f1, precision, recall)


def segment_f1(pred: Any, gt: Any, *, exclude: Iterable[int] | int | None = (), per_video: bool = False) -> float:
    """Exact segment F1 in ``[0, 1]``; see :func:`segment_f1_details`."""
    return segment_f1_details(pred, gt, exclude=exclude, per_video=per_video).f1


def f1_legacy_sampled_details(
    pred: Any,
    gt: Any,
    *,
    exclude: Iterable[int] | int | None = (),
    per_video: bool = False,
    n_samples: int = LEGACY_N_SAMPLES,
    n_repeats: int = LEGACY_N_REPEATS,
    seed: int | np.random.Generator | None = 0,
) -> SegmentF1Result:
    """The published sampled segment-F1 estimator, for comparison with published tables.

    For each of ``n_repeats`` repetitions and each ground-truth segment, ``n_samples`` frames
    are drawn uniformly with replacement inside the segment; the segment counts as a true
    positive when more than half of the drawn frames carry its matched class. With ``TP`` the
    hits summed over repetitions,

    .. math::

        P = \\frac{TP}{n_\\text{repeats}\\, n_\\text{videos}\\, n_\\text{classes}}, \\quad
        R = \\frac{TP}{n_\\text{repeats}\\, \\#\\text{GT segments}}, \\quad
        F_1 = \\frac{2PR}{P + R},

    ``n_classes`` being the ground-truth classes present (after exclusion) in the unit. This
    precision is the reported bug that :func:`segment_f1_details` fixes: it is not a fraction
    of predicted segments, it under-counts when fewer segments than classes are predicted and
    can exceed 1 when classes recur in a video, so this F1 is *not* bounded by 1.

    Deliberate fixes of the published code (which would not change its expectation on
    well-formed data): frames are drawn inside ``[start, end)`` (the published
    ``random_integers(lo, up)`` includes ``up``, the first frame of the next segment); the last
    segment of each video is counted (the published boundary list drops it); segments never
    run across video boundaries; no ``1e-8`` smoothing; and the generator is explicit and
    seeded instead of the global ``np.random``. Per-video protocol: ``n_videos = 1`` for each
    video and F1, P and R averaged over videos.

    Args:
        seed: an int seed or a :class:`numpy.random.Generator` (``None``: fresh entropy).
    """
    if n_samples < 1 or n_repeats < 1:
        raise ValueError(f"expected n_samples >= 1 and n_repeats >= 1, got {n_samples} and {n_repeats}")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    results = []
    for preds, gts, matching in _units(pred, gt, exclude, per_video):
        tp = n_gt = 0
        for p, g in zip(preds, gts):
            if g.size == 0:
                continue
            correct = matching.apply(p) == g
            starts = run_starts(g)
            ends = np.append(starts[1:], g.size)
            idx = rng.integers(starts[:, None], ends[:, None], size=(n_repeats, starts.size, n_samples))
            tp += int(np.count_nonzero(2 * correct[idx].sum(axis=-1) > n_samples))
            n_gt += starts.size
        n_videos = sum(1 for g in gts if g.size)
        precision = tp / (n_repeats * n_videos * matching.all_classes.size)
        recall = tp / (n_repeats * n_gt)
        results.append((_f1(precision, recall), precision, recall))
    f1, precision, recall = (float(v) for v in np.mean(np.array(results), axis=0))
    return SegmentF1Result(f1, precision, recall)


def f1_legacy_sampled(
    pred: Any,
    gt: Any,
    *,
    exclude: Iterable[int] | int | None = (),
    per_video: bool = False,
    n_samples: int = LEGACY_N_SAMPLES,
    n_repeats: int = LEGACY_N_REPEATS,
    seed: int | np.random.Generator | None = 0,
) -> float:
    """Legacy sampled segment F1 (not bounded by 1); see :func:`f1_legacy_sampled_details`."""
    return f1_legacy_sampled_details(
        pred, gt, exclude=exclude, per_video=per_video, n_samples=n_samples, n_repeats=n_repeats, seed=seed
    ).f1


# --------------------------------------------------------------------------------------------
# supervised metrics (MS-TCN eval.py)


def segments(labels: Any, background: Iterable[int] | int | None = ()) -> Segments:
    """Segments of one label sequence, as MS-TCN's ``get_labels_start_end_time``.

    Runs of constant label, in order; runs whose label is in ``background`` are dropped (the
    runs on either side stay separate segments).
    """
    runs = run_length_encode(as_label_array(labels))
    bg = _exclusion_array(background)
    if bg.size:
        keep = ~np.isin(runs.labels, bg)
        return Runs(runs.labels[keep], runs.starts[keep], runs.ends[keep])
    return runs


def levenshtein(p: Sequence[Any] | np.ndarray, y: Sequence[Any] | np.ndarray, normalize: bool = False) -> float:
    """Levenshtein distance between two sequences (unit insert, delete and substitute costs).

    With ``normalize=True`` returns MS-TCN's score ``(1 - D / max(|p|, |y|)) * 100``, and 100
    for two empty sequences (MS-TCN divides by zero there).

    Row-vectorised dynamic programme: with ``t_j = min(D[i-1, j] + 1, D[i-1, j-1] + [p_i != y_j])``
    the row is ``D[i, j] = j + min_{k <= j} (t_k - k)`` (a running minimum covers insertions).
    """
    p = np.asarray(list(p) if isinstance(p, str) else p)
    y = np.asarray(list(y) if isinstance(y, str) else y)
    if p.size < y.size:  # the distance is symmetric; loop over the shorter sequence
        p, y = y, p
    m, n = p.size, y.size
    cols = np.arange(n + 1, dtype=np.float64)
    row = cols.copy()
    for i in range(1, m + 1):
        t = np.empty(n + 1)
        t[0] = i
        t[1:] = np.minimum(row[1:] + 1, row[:-1] + (y != p[i - 1]))
        row = np.minimum.accumulate(t - cols) + cols
    dist = float(row[-1])
    if not normalize:
        return dist
    longest = max(m, n)
    return 100.0 if longest == 0 else (1.0 - dist / longest) * 100.0


def edit_score(pred: Any, gt: Any, *, background: Iterable[int] | int | None = ()) -> float:
    """Segmental edit score in ``[0, 100]``, averaged over videos (MS-TCN ``edit_score``).

    .. math::

        \\mathrm{Edit} = \\Bigl(1 - \\frac{\\mathrm{lev}(S_{\\hat y}, S_y)}
        {\\max(|S_{\\hat y}|, |S_y|)}\\Bigr) \\times 100

    where ``S`` is the sequence of segment labels (background segments dropped). Labels are
    compared as given: match clusters to classes first for unsupervised predictions.
    """
    preds, gts = _paired_videos(pred, gt)
    scores = [
        levenshtein(segments(p, background).labels, segments(g, background).labels, normalize=True)
        for p, g in zip(preds, gts)
    ]
    return _mean(scores)


def _check_overlap(overlap: float) -> float:
    if isinstance(overlap, (bool, np.bool_)) or not isinstance(overlap, (int, float, np.integer, np.floating)):
        raise TypeError(f"overlap: expected a number in (0, 1] (e.g. 0.1 for F1@10), got {overlap!r}")
    if not 0.0 < overlap <= 1.0:
        raise ValueError(f"expected an IoU overlap in (0, 1] (e.g. 0.1 for F1@10), got {overlap}")
    return float(overlap)


def f_score_counts(
    pred: Any, gt: Any, overlap: float, *, background: Iterable[int] | int | None = ()
) -> tuple[int, int, int]:
    """``(tp, fp, fn)`` of one video at an IoU threshold (MS-TCN ``f_score``).

    Predicted segments are visited in temporal order; each is matched to the ground-truth
    segment of the same label with the highest IoU (the first on ties). It is a true positive
    when that IoU is at least ``overlap`` and that ground-truth segment is not already used,
    otherwise a false positive. Unused ground-truth segments are false negatives.
    """
    overlap = _check_overlap(overlap)
    p = segments(pred, background)
    y = segments(gt, background)
    hits = np.zeros(y.labels.size, dtype=bool)
    tp = fp = 0
    for label, start, end in zip(p.labels, p.starts, p.ends):
        if y.labels.size == 0:
            fp += 1
            continue
        intersection = np.minimum(end, y.ends) - np.maximum(start, y.starts)
        union = np.maximum(end, y.ends) - np.minimum(start, y.starts)
        iou = intersection / union * (y.labels == label)
        idx = int(np.argmax(iou))
        if iou[idx] >= overlap and not hits[idx]:
            tp += 1
            hits[idx] = True
        else:
            fp += 1
    return tp, fp, int(y.labels.size - np.count_nonzero(hits))


def f1_at_overlap(pred: Any, gt: Any, overlap: float, *, background: Iterable[int] | int | None = ()) -> float:
    """F1@k in ``[0, 100]`` (MS-TCN): ``tp, fp, fn`` summed over videos, then

    .. math:: P = \\frac{tp}{tp + fp},\\ R = \\frac{tp}{tp + fn},\\ F_1 = 100 \\cdot \\frac{2PR}{P + R}

    (0 where undefined). ``overlap`` is the IoU threshold as a fraction: 0.1, 0.25, 0.5 for
    F1@{10,25,50}.
    """
    preds, gts = _paired_videos(pred, gt)
    tp = fp = fn = 0
    for p, g in zip(preds, gts):
        a, b, c = f_score_counts(p, g, overlap, background=background)
        tp, fp, fn = tp + a, fp + b, fn + c
    return _f1_from_counts(tp, fp, fn)


def _f1_from_counts(tp: int, fp: int, fn: int) -> float:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return 100.0 * _f1(precision, recall)


def _exclude_or_ignore(exclude: Iterable[int] | int | None, ignore: Iterable[int] | int | None) -> Any:
    """``exclude``, or the same setting under its earlier name ``ignore``; not both."""
    if ignore is None:
        return exclude
    if _exclusion_array(exclude).size:
        raise TypeError("give exclude= or its earlier name ignore=, not both")
    return ignore


def frame_accuracy(
    pred: Any, gt: Any, *, exclude: Iterable[int] | int | None = (), ignore: Iterable[int] | int | None = None
) -> float:
    """Frame accuracy in ``[0, 100]``: correct frames over all frames of all videos.

    Labels are compared as given (no matching). Frames whose ground truth is in ``exclude``
    are left out, as in :func:`mof` (MS-TCN counts every frame; that is the default).
    ``ignore`` is the earlier name of ``exclude``.
    """
    exclude = _exclude_or_ignore(exclude, ignore)
    preds, gts = _paired_videos(pred, gt)
    correct = total = 0
    for p, g in zip(preds, gts):
        p, g = exclude_frames(p, g, exclude)
        correct += int(np.count_nonzero(p == g))
        total += g.size
    if total == 0:
        raise ValueError("no frames to evaluate")
    return 100.0 * correct / total


# --------------------------------------------------------------------------------------------
# everything at once (asot evaluate)


def _supervised(preds: list[np.ndarray], gts: list[np.ndarray], background: Any) -> dict[str, float]:
    out = {"edit": edit_score(preds, gts, background=background)}
    for overlap in OVERLAPS:
        out[f"f1@{round(overlap * 100)}"] = f1_at_overlap(preds, gts, overlap, background=background)
    return out


def segmentation_report(
    pred: Any,
    gt: Any,
    *,
    per_video: bool = False,
    exclude: Iterable[int] | int | None = (),
    supervised_on: str = "raw",
    names: Sequence[str] | None = None,
    legacy_f1: bool = False,
    seed: int | None = 0,
) -> dict[str, Any]:
    """All metrics of ``asot evaluate`` in percent (spec sections 5 and 7).

    Returns a dict with the keys of :data:`METRIC_KEYS` (``mof``, ``f1``, ``miou`` under the
    chosen protocol; ``edit``, ``f1@10/25/50`` and ``accuracy`` as MS-TCN pools them), plus
    ``matching`` (``"full"`` or ``"per_video"``), ``n_videos``, ``n_frames`` (frames left after
    exclusion), ``f1_legacy`` when ``legacy_f1`` is set, and with ``per_video`` the same
    metrics for each video under ``"videos"`` (keyed by ``names``, default ``"0"``, ``"1"``...;
    a video with no frame left has ``None`` for its unsupervised metrics).

    ``supervised_on``:
        ``"raw"`` -- accuracy, edit and F1@k compare the predicted labels as given (supervised
        predictions, paper Table 3); excluded labels are ignored as MS-TCN ignores background
        (frames left out of accuracy, segments dropped from edit and F1@k).
        ``"matched"`` -- the predictions are first mapped through the same matching as MoF
        (per video or full) and excluded frames removed; for cluster-id predictions.
    """
    if supervised_on not in ("raw", "matched"):
        raise ValueError(f"expected supervised_on 'raw' or 'matched', got {supervised_on!r}")
    preds, gts = _paired_videos(pred, gt)
    if names is None:
        names = [str(i) for i in range(len(preds))]
    elif len(names) != len(preds):
        raise ValueError(f"expected {len(preds)} video names, got {len(names)}")

    def unsupervised(ps: list[np.ndarray], gs: list[np.ndarray], pv: bool) -> dict[str, Any]:
        units = _units(ps, gs, exclude, pv)
        out = {
            "mof": 100.0 * _mean([_unit_mof(m) for _, _, m in units]),
            "f1": 100.0 * segment_f1(ps, gs, exclude=exclude, per_video=pv),
            "miou": 100.0 * _mean([_unit_miou(m) for _, _, m in units]),
        }
        if legacy_f1:
            out["f1_legacy"] = 100.0 * f1_legacy_sampled(ps, gs, exclude=exclude, per_video=pv, seed=seed)
        return out

    def supervised(ps: list[np.ndarray], gs: list[np.ndarray], pv: bool) -> dict[str, float]:
        if supervised_on == "raw":
            out = _supervised(ps, gs, exclude)
            out["accuracy"] = frame_accuracy(ps, gs, exclude=exclude)
            return out
        kept = [exclude_frames(p, g, exclude) for p, g in zip(ps, gs)]
        kept = [(p, g) for p, g in kept if g.size]
        if pv:
            mapped = [hungarian_match(p, g).apply(p) for p, g in kept]
        else:
            matching = match_full([p for p, _ in kept], [g for _, g in kept])
            mapped = [matching.apply(p) for p, _ in kept]
        kg = [g for _, g in kept]
        out = _supervised(mapped, kg, ())
        out["accuracy"] = frame_accuracy(mapped, kg)
        return out

    report: dict[str, Any] = {}
    report.update(unsupervised(preds, gts, per_video))
    report.update(supervised(preds, gts, per_video))
    keys = (*METRIC_KEYS, *(("f1_legacy",) if legacy_f1 else ()))
    report = {key: report[key] for key in keys}
    report["matching"] = "per_video" if per_video else "full"
    report["n_videos"] = len(preds)
    report["n_frames"] = int(sum(exclude_frames(p, g, exclude)[1].size for p, g in zip(preds, gts)))
    if per_video:
        videos: dict[str, Any] = {}
        for name, p, g in zip(names, preds, gts):
            n_kept = exclude_frames(p, g, exclude)[1].size
            if n_kept:
                entry = unsupervised([p], [g], True)
                entry.update(supervised([p], [g], True))
                entry = {key: entry[key] for key in keys}
            else:  # nothing left to score in this video
                entry = dict.fromkeys(keys)
            entry["n_frames"] = int(n_kept)
            videos[name] = entry
        report["videos"] = videos
    return report
