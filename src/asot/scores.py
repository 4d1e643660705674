"""Turning a model's per-frame outputs into an ASOT cost matrix (the problem definition).

ASOT (and every decoder in :mod:`asot.decoders`) minimises a frame-to-class cost ``C`` (N x K).
What a model emits varies, so this module converts each *kind* of output to a cost and checks
it on the way:

==============  ==========================================================================
kind            cost
==============  ==========================================================================
``prob``        per-frame class probabilities (rows on the simplex):
                ``1 - p`` (``prob_cost="one-minus"``, the default) or ``-log p``
                (``prob_cost="neg-log"``, floored at ``p >= PROB_FLOOR``)
``logit``       unnormalised scores: ``softmax`` along the class axis, then as ``prob``
``affinity``    frame-to-class similarities, e.g. cosine in ``[-1, 1]``: ``1 - a``
``cost``        used as it is
==============  ==========================================================================

Why ``1 - p`` by default: it lies in ``[0, 1]`` like ``1 - cos`` (the cost ASOT's
hyperparameters were tuned on), so ``eps``, ``alpha`` and ``lambda`` keep their meaning and the
automatic step ``4 / max G`` stays well scaled. ``-log p`` is the HMM/Viterbi emission cost; it is
unbounded (confident wrong frames dominate), which is sometimes what one wants.

The input is one video ``(N, K)`` (frames x classes). Models in the MS-TCN family write
``(K, N)``; pass ``transpose=True``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from asot._arrays import to_numpy

__all__ = [
    "KINDS",
    "PROB_COSTS",
    "DEFAULT_PROB_COST",
    "PROB_FLOOR",
    "PROB_SUM_TOL",
    "to_cost",
    "softmax",
    "check_scores",
    "check_orientation",
    "check_cost_range",
    "COST_LIMIT_FRACTION",
]

#: the kinds of model output :func:`to_cost` understands
KINDS = ("prob", "logit", "affinity", "cost")
#: how probabilities become costs
PROB_COSTS = ("one-minus", "neg-log")
#: ``1 - p``: bounded in [0, 1], on the scale ASOT's hyperparameters were tuned for
DEFAULT_PROB_COST = "one-minus"
#: smallest probability used by ``-log p`` (so the cost stays finite: ``-log 1e-8 = 18.4``)
PROB_FLOOR = 1e-8
#: absolute tolerance on a probability row summing to 1 (also the slack on ``0 <= p <= 1``)
PROB_SUM_TOL = 1e-3
#: costs must stay below this fraction of the dtype's largest value (the iterations multiply
#: them by the step and would overflow to NaN)
COST_LIMIT_FRACTION = 1e-4
#: "looks transposed": more than this many classes per frame, and at least MIN_SUSPECT_CLASSES
#: classes (an action-segmentation model has tens of classes and hundreds of frames)
SUSPECT_CLASSES_PER_FRAME = 2
MIN_SUSPECT_CLASSES = 16


def _label(name: str | None) -> str:
    return name if name else "input"


def softmax(logits: np.ndarray, axis: int = -1) -> np.ndarray:
    """Numerically stable softmax (``exp(x - max x)``) along ``axis``; keeps float32/float64."""
    shifted = logits - np.max(logits, axis=axis, keepdims=True)
    np.exp(shifted, out=shifted)
    shifted /= np.sum(shifted, axis=axis, keepdims=True)
    return shifted


def _as_float_array(scores: Any, name: str) -> np.ndarray:
    try:
        array = to_numpy(scores)
    except Exception as exc:  # pragma: no cover - exotic inputs
        raise TypeError(f"{name}: expected a numeric array, got {type(scores).__name__}") from exc
    if array.dtype == np.bool_ or not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)):
        raise TypeError(f"{name}: expected a numeric (float or integer) array, got dtype {array.dtype}")
    if array.dtype not in (np.float32, np.float64):
        array = array.astype(np.float64)
    return array


def check_orientation(shape: tuple[int, ...], transpose: bool, name: str | None = None) -> None:
    """Refuse a ``(frames, classes)`` shape (after ``transpose``) with far more classes than
    frames: a classes x frames array read the wrong way round (e.g. 500 "classes" of 10 "frames")."""
    if len(shape) != 2:
        return
    n_frames, n_classes = shape
    if n_classes >= MIN_SUSPECT_CLASSES and n_classes > SUSPECT_CLASSES_PER_FRAME * n_frames:
        given = (n_classes, n_frames) if transpose else (n_frames, n_classes)
        fix = ("drop --transpose (transpose=False): it is frames x classes already" if transpose
               else "pass --transpose (transpose=True) if it is classes x frames")  # fmt: skip
        raise ValueError(f"{_label(name)}: shape {given} reads as {n_frames} frame(s) x {n_classes} classes, far more classes "
                         f"than frames: the array looks transposed; {fix}")  # fmt: skip


def check_cost_range(cost: np.ndarray, name: str | None = None) -> None:
    """Costs must be finite and below :data:`COST_LIMIT_FRACTION` of their dtype's largest value."""
    if cost.size == 0:
        return
    top = max(abs(float(cost.min())), abs(float(cost.max())))  # no |cost| temporary of the input's size
    limit = float(np.finfo(cost.dtype).max) * COST_LIMIT_FRACTION
    if top > limit:
        raise ValueError(f"{_label(name)}: cost values reach {top:.3g}, beyond {limit:.3g} for {cost.dtype}; the solver's "
                         "iterations would overflow: rescale the values (or give float64)")  # fmt: skip


def check_scores(scores: Any, kind: str, *, name: str | None = None, transpose: bool = False) -> np.ndarray:
    """Validate one video's model output and return it as a float ``(N, K)`` array.

    Checks: a known ``kind``; rank 2 (``(N, K)``; ``(K, N)`` with ``transpose``); at least one
    frame and one class; no NaN or Inf (logits may be ``-inf``, a masked class, but not all of a
    frame's); for ``prob`` no negative values, none above 1 and every row summing to 1 within
    :data:`PROB_SUM_TOL`.

    Raises:
        ValueError / TypeError whose message starts with ``name`` (e.g. the file it came from)
        and says what was expected, what arrived and how to fix it.
    """
    label = _label(name)
    if kind not in KINDS:
        raise ValueError(f"{label}: unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
    array = _as_float_array(scores, label)
    if array.ndim != 2:
        layout = "(classes, frames)" if transpose else "(frames, classes)"
        hint = ""
        if array.ndim == 3 and array.shape[0] == 1:
            hint = "; drop the leading batch dimension (e.g. x[0])"
        elif array.ndim == 1:
            hint = "; a 1-D array looks like labels, not scores"
        raise ValueError(
            f"{label}: expected a 2-D array {layout} for one video, got {array.ndim} dimension(s) "
            f"with shape {array.shape}{hint}"
        )
    if transpose:
        array = np.ascontiguousarray(array.T)
    n_frames, n_classes = array.shape
    if n_frames < 1 or n_classes < 1:
        raise ValueError(f"{label}: expected at least one frame and one class, got shape (frames, classes) = {array.shape}")
    check_orientation(array.shape, transpose, name)
    finite = np.isfinite(array)
    if kind == "logit":  # -inf is a masked class (probability 0), as softmax treats it
        masked = np.isneginf(array)
        finite |= masked
        masked_rows = np.flatnonzero(masked.all(axis=1))
        if masked_rows.size:
            raise ValueError(f"{label}: every logit of frame {int(masked_rows[0])} is -inf ({masked_rows.size} such "
                             "frame(s)); at least one class per frame must be possible")
    if not finite.all():
        bad = np.argwhere(~finite)[0]
        what = "NaN" if np.isnan(array).any() else "Inf"
        raise ValueError(
            f"{label}: contains {what} ({int((~finite).sum())} value(s), first at frame {int(bad[0])}, "
            f"class {int(bad[1])}); clean the model output first"
        )
    if kind == "prob":
        low = float(array.min())
        if low < 0.0:
            bad = np.argwhere(array < 0.0)[0]
            raise ValueError(
                f"{label}: probabilities must be non-negative, got {low:.4g} at frame {int(bad[0])}, class "
                f"{int(bad[1])}; if these are logits or log-probabilities use --kind logit"
            )
        high = float(array.max())
        if high > 1.0 + PROB_SUM_TOL:
            raise ValueError(
                f"{label}: probabilities must be <= 1, got {high:.4g}; if these are logits use --kind logit"
            )
        sums = array.sum(axis=1, dtype=np.float64)
        off = np.abs(sums - 1.0) > PROB_SUM_TOL
        if off.any():
            first = int(np.argmax(off))
            columns_sum_to_one = np.allclose(array.sum(axis=0), 1.0, atol=PROB_SUM_TOL)
            if columns_sum_to_one and not transpose:
                hint = " (the columns sum to 1: the array looks transposed, classes x frames; pass --transpose)"
            elif columns_sum_to_one:
                hint = " (before --transpose its rows sum to 1: it is frames x classes already; drop --transpose)"
            else:
                hint = "; if these are unnormalised scores use --kind logit"
            raise ValueError(
                f"{label}: each frame's probabilities must sum to 1 (within {PROB_SUM_TOL}), but "
                f"{int(off.sum())} of {n_frames} rows do not (frame {first} sums to {sums[first]:.4g}){hint}"
            )
    return array


def to_cost(
    scores: Any,
    kind: str,
    *,
    prob_cost: str = DEFAULT_PROB_COST,
    transpose: bool = False,
    name: str | None = None,
    copy: bool = True,
) -> np.ndarray:
    """The cost matrix ``(N, K)`` for one video's model output (see the module table).

    Args:
        scores: ``(N, K)`` array (``(K, N)`` with ``transpose``), numpy or torch.
        kind: ``"prob"``, ``"logit"``, ``"affinity"`` or ``"cost"``.
        prob_cost: ``"one-minus"`` (``1 - p``, default) or ``"neg-log"`` (``-log p``) for
            ``prob`` and ``logit``.
        transpose: the input is classes x frames (MS-TCN convention).
        name: what to call the input in error messages (a file name, an npz key).
        copy: ``kind="cost"`` returns a copy of the input; ``False``: the input itself when it
            is a C-contiguous float array already (the caller owns it and will not change it).

    Returns:
        float32 when the input is float32, else float64, C-contiguous ``(N, K)``.

    Example:
        >>> import numpy as np
        >>> to_cost(np.array([[0.9, 0.1], [0.2, 0.8]]), "prob")
        array([[0.1, 0.9],
               [0.8, 0.2]])
    """
    if prob_cost not in PROB_COSTS:
        raise ValueError(f"prob_cost: expected one of {', '.join(PROB_COSTS)}, got {prob_cost!r}")
    array = check_scores(scores, kind, name=name, transpose=transpose)
    if kind == "cost":
        check_cost_range(array, name)
        return np.array(array, copy=True, order="C") if copy else np.ascontiguousarray(array)
    if kind == "affinity":
        cost = np.ascontiguousarray(1.0 - array).astype(array.dtype, copy=False)
        check_cost_range(cost, name)
        return cost
    if kind == "logit":
        if prob_cost == "neg-log":  # -log softmax(x) = logsumexp(x) - x, exact for any logit
            top = np.max(array, axis=1, keepdims=True)
            lse = top + np.log(np.sum(np.exp(array - top), axis=1, keepdims=True))
            cost = np.where(np.isneginf(array), -np.log(PROB_FLOOR), lse - array)  # a masked class: p = PROB_FLOOR
            return np.ascontiguousarray(cost).astype(array.dtype, copy=False)
        prob = softmax(np.array(array, copy=True))
    else:
        prob = np.clip(array, 0.0, 1.0)
    if prob_cost == "one-minus":
        cost = 1.0 - prob
    else:
        cost = -np.log(np.maximum(prob, PROB_FLOOR))
    return np.ascontiguousarray(cost).astype(array.dtype, copy=False)
