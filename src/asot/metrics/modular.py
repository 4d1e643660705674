"""Accumulating metric objects for training and evaluation loops (spec ``ASOT.md`` section 5).

The torchmetrics contract, in plain numpy: ``update(pred, gt)`` adds videos, ``compute()``
(no arguments) returns the value over everything seen since the last ``reset()``, and
``compute()`` may be called any number of times. Each class wires a function of
:mod:`asot.metrics.functional`, which holds the definitions.

``update`` takes one video ``(N,)``, a batch ``(B, N)`` or a list of ``(N_b,)`` arrays (numpy or
torch, any device), with an optional boolean ``mask`` of the same shape marking valid frames
(padding is ``False``).

State: the supervised metrics and the per-video unsupervised ones keep sufficient statistics
(counts, or sums of per-video values); the full-protocol unsupervised metrics keep the labels,
since the matching is only known once every video is in.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from asot._arrays import is_tensor, to_numpy as _to_numpy

from asot.metrics import functional as F
from asot.metrics.matching import _exclusion_array, _paired_videos, exclude_frames

__all__ = [
    "EditScore",
    "F1AtOverlap",
    "FrameAccuracy",
    "MeanIoU",
    "Metric",
    "MoF",
    "SegmentF1",
    "SegmentF1Legacy",
    "SegmentationMetrics",
]


def _mask_videos(mask: Any) -> list[np.ndarray]:
    if isinstance(mask, (list, tuple)) and mask and (np.ndim(mask[0]) >= 1 or is_tensor(mask[0])):
        return [_to_numpy(m).astype(bool) for m in mask]
    arr = _to_numpy(mask).astype(bool)
    return list(arr) if arr.ndim == 2 else [arr]


def _videos(pred: Any, gt: Any, mask: Any = None) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Paired per-video label arrays, with padding (``mask`` False) removed; a row with no
    valid frame is a padding row of the batch, not a video, and is dropped."""
    preds, gts = _paired_videos(pred, gt)
    if mask is None:
        return preds, gts
    masks = _mask_videos(mask)
    if len(masks) != len(preds) or any(m.shape != p.shape for m, p in zip(masks, preds)):
        raise ValueError(
            f"expected a mask shaped like pred, got {[m.shape for m in masks]} for {[p.shape for p in preds]}"
        )
    kept = [(p[m], g[m]) for p, g, m in zip(preds, gts, masks) if m.any()]
    return [p for p, _ in kept], [g for _, g in kept]


class Metric:
    """Base class: ``update(pred, gt, mask=None)``, ``compute()``, ``reset()``."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget every video seen."""
        self._n_updates = 0
        self._reset_state()

    def update(self, pred: Any, gt: Any, mask: Any = None) -> None:
        """Add one video ``(N,)``, a batch ``(B, N)`` or a list of videos; ``mask`` marks
        valid frames."""
        preds, gts = _videos(pred, gt, mask)
        self._update(preds, gts)
        self._n_updates += 1

    def compute(self) -> Any:
        """The metric over every video seen since the last :meth:`reset`."""
        if self._n_updates == 0:
            raise RuntimeError(f"{type(self).__name__}.compute() called before update()")
        return self._compute()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self._params().items())})"

    # subclass hooks
    def _params(self) -> dict[str, Any]:
        return {}

    def _reset_state(self) -> None:
        raise NotImplementedError

    def _update(self, preds: list[np.ndarray], gts: list[np.ndarray]) -> None:
        raise NotImplementedError

    def _compute(self) -> Any:
        raise NotImplementedError


class _MatchedMetric(Metric):
    """Unsupervised metric behind a Hungarian matching; values in ``[0, 1]``."""

    def __init__(self, *, per_video: bool = False, exclude: Iterable[int] | int | None = ()) -> None:
        self.per_video = bool(per_video)
        self.exclude = tuple(int(e) for e in _exclusion_array(exclude))
        super().__init__()

    def _params(self) -> dict[str, Any]:
        return {"per_video": self.per_video, "exclude": self.exclude}

    def _score(self, preds: list[np.ndarray], gts: list[np.ndarray], per_video: bool) -> float:
        raise NotImplementedError

    def _reset_state(self) -> None:
        self._preds: list[np.ndarray] = []
        self._gts: list[np.ndarray] = []
        self._sum = 0.0
        self._count = 0

    def _update(self, preds: list[np.ndarray], gts: list[np.ndarray]) -> None:
        if not self.per_video:
            self._preds.extend(preds)
            self._gts.extend(gts)
            return
        for p, g in zip(preds, gts):
            if exclude_frames(p, g, self.exclude)[1].size == 0:
                continue  # nothing left to score in this video
            self._sum += self._score([p], [g], True)
            self._count += 1

    def _compute(self) -> float:
        if self.per_video:
            if self._count == 0:
                raise ValueError("no frames to evaluate")
            return self._sum / self._count
        return self._score(self._preds, self._gts, False)


class MoF(_MatchedMetric):
    """Mean over frames after Hungarian matching, in ``[0, 1]``; see :func:`~asot.metrics.functional.mof`."""

    def _score(self, preds, gts, per_video):  # type: ignore[no-untyped-def]
        return F.mof(preds, gts, exclude=self.exclude, per_video=per_video)


class MeanIoU(_MatchedMetric):
    """Mean IoU of matched pairs over the classes present; see :func:`~asot.metrics.functional.miou`."""

    def _score(self, preds, gts, per_video):  # type: ignore[no-untyped-def]
        return F.miou(preds, gts, exclude=self.exclude, per_video=per_video)


class SegmentF1(_MatchedMetric):
    """Exact segment F1 (precision over predicted segments); see
    :func:`~asot.metrics.functional.segment_f1_details`."""

    def _score(self, preds, gts, per_video):  # type: ignore[no-untyped-def]
        return F.segment_f1(preds, gts, exclude=self.exclude, per_video=per_video)


class SegmentF1Legacy(_MatchedMetric):
    """The published sampled F1 estimator (not bounded by 1); see
    :func:`~asot.metrics.functional.f1_legacy_sampled_details`.

    Full protocol: each ``compute()`` draws with a fresh generator seeded with ``seed``, so it
    is repeatable. Per-video protocol: one generator, seeded at ``reset()``, is consumed video
    by video as they arrive.
    """

    def __init__(
        self,
        *,
        per_video: bool = False,
        exclude: Iterable[int] | int | None = (),
        n_samples: int = F.LEGACY_N_SAMPLES,
        n_repeats: int = F.LEGACY_N_REPEATS,
        seed: int = 0,
    ) -> None:
        self.n_samples, self.n_repeats, self.seed = int(n_samples), int(n_repeats), seed
        super().__init__(per_video=per_video, exclude=exclude)

    def _params(self) -> dict[str, Any]:
        return {**super()._params(), "n_samples": self.n_samples, "n_repeats": self.n_repeats, "seed": self.seed}

    def _reset_state(self) -> None:
        super()._reset_state()
        self._rng = np.random.default_rng(self.seed)

    def _score(self, preds, gts, per_video):  # type: ignore[no-untyped-def]
        rng = self._rng if per_video else np.random.default_rng(self.seed)
        return F.f1_legacy_sampled(
            preds, gts, exclude=self.exclude, per_video=per_video,
            n_samples=self.n_samples, n_repeats=self.n_repeats, seed=rng,
        )


class FrameAccuracy(Metric):
    """Frame accuracy in percent, pooled over frames (no matching); ``exclude`` (earlier name
    ``ignore``): class ids whose frames are left out. See
    :func:`~asot.metrics.functional.frame_accuracy`."""

    def __init__(self, *, exclude: Iterable[int] | int | None = (), ignore: Iterable[int] | int | None = None) -> None:
        self.exclude = tuple(int(e) for e in _exclusion_array(F._exclude_or_ignore(exclude, ignore)))
        super().__init__()

    @property
    def ignore(self) -> tuple[int, ...]:
        """:attr:`exclude` under its earlier name."""
        return self.exclude

    def _params(self) -> dict[str, Any]:
        return {"exclude": self.exclude}

    def _reset_state(self) -> None:
        self.correct = 0
        self.total = 0

    def _update(self, preds, gts):  # type: ignore[no-untyped-def]
        for p, g in zip(preds, gts):
            p, g = exclude_frames(p, g, self.exclude)
            self.correct += int(np.count_nonzero(p == g))
            self.total += int(g.size)

    def _compute(self) -> float:
        if self.total == 0:
            raise ValueError("no frames to evaluate")
        return 100.0 * self.correct / self.total


class EditScore(Metric):
    """Segmental edit score in percent, averaged over videos (MS-TCN); see
    :func:`~asot.metrics.functional.edit_score`."""

    def __init__(self, *, background: Iterable[int] | int | None = ()) -> None:
        self.background = tuple(int(e) for e in _exclusion_array(background))
        super().__init__()

    def _params(self) -> dict[str, Any]:
        return {"background": self.background}

    def _reset_state(self) -> None:
        self.total = 0.0
        self.n_videos = 0

    def _update(self, preds, gts):  # type: ignore[no-untyped-def]
        for p, g in zip(preds, gts):
            self.total += F.edit_score(p, g, background=self.background)
            self.n_videos += 1

    def _compute(self) -> float:
        return self.total / self.n_videos


class F1AtOverlap(Metric):
    """F1@k in percent with ``tp/fp/fn`` summed over videos (MS-TCN); ``overlap`` is the IoU
    threshold as a fraction (0.1, 0.25, 0.5). See :func:`~asot.metrics.functional.f1_at_overlap`."""

    def __init__(self, overlap: float = 0.5, *, background: Iterable[int] | int | None = ()) -> None:
        self.overlap = F._check_overlap(overlap)
        self.background = tuple(int(e) for e in _exclusion_array(background))
        super().__init__()

    def _params(self) -> dict[str, Any]:
        return {"overlap": self.overlap, "background": self.background}

    def _reset_state(self) -> None:
        self.tp = self.fp = self.fn = 0

    def _update(self, preds, gts):  # type: ignore[no-untyped-def]
        for p, g in zip(preds, gts):
            tp, fp, fn = F.f_score_counts(p, g, self.overlap, background=self.background)
            self.tp += tp
            self.fp += fp
            self.fn += fn

    def _compute(self) -> float:
        return F._f1_from_counts(self.tp, self.fp, self.fn)


class SegmentationMetrics(Metric):
    """Every metric of ``asot evaluate`` at once; ``compute()`` returns
    :func:`~asot.metrics.functional.segmentation_report` (percent, keys
    :data:`~asot.metrics.functional.METRIC_KEYS`, plus ``"videos"`` with ``per_video``)."""

    def __init__(
        self,
        *,
        per_video: bool = False,
        exclude: Iterable[int] | int | None = (),
        supervised_on: str = "raw",
        legacy_f1: bool = False,
        seed: int = 0,
    ) -> None:
        if supervised_on not in ("raw", "matched"):
            raise ValueError(f"expected supervised_on 'raw' or 'matched', got {supervised_on!r}")
        self.per_video = bool(per_video)
        self.exclude = tuple(int(e) for e in _exclusion_array(exclude))
        self.supervised_on = supervised_on
        self.legacy_f1 = bool(legacy_f1)
        self.seed = seed
        super().__init__()

    def _params(self) -> dict[str, Any]:
        return {"per_video": self.per_video, "exclude": self.exclude, "supervised_on": self.supervised_on}

    def _reset_state(self) -> None:
        self._preds: list[np.ndarray] = []
        self._gts: list[np.ndarray] = []

    def _update(self, preds, gts):  # type: ignore[no-untyped-def]
        self._preds.extend(preds)
        self._gts.extend(gts)

    def _compute(self) -> dict[str, Any]:
        return F.segmentation_report(
            self._preds, self._gts, per_video=self.per_video, exclude=self.exclude,
            supervised_on=self.supervised_on, legacy_f1=self.legacy_f1, seed=self.seed,
        )
