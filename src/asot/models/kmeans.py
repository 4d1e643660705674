"""The one k-means fit of the pipeline: the action-embedding initialisation
(:meth:`asot.models.ASOTModule.initialise_actions`, on encoder outputs) and the training-free
baselines (:mod:`asot.training.baselines`, on input features) both call :func:`fit_kmeans`.

scikit-learn's ``KMeans`` (3 inits, ``random_state=seed``) in float64 on at most
:data:`KMEANS_MAX_FRAMES` frames, evenly subsampled: frame indices
``round(linspace(0, n - 1, KMEANS_MAX_FRAMES))`` when there are more. The frames may be given
as one array or as a list of per-video arrays (taken in order, as if concatenated): only the
kept rows are gathered and converted to float64, straight into one array that scikit-learn then
centres in place, so the fit never holds a float64 copy of every frame nor a second copy of the
kept ones (at Breakfast scale, 400k x 64 frames: 51 MB instead of 105 MB concatenated + 210 MB
float64; scikit-learn's tolerance, ``np.var`` of the rows, adds one more transient 51 MB).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["KMEANS_MAX_FRAMES", "EvenSubsample", "fit_kmeans", "subsample_evenly", "subsample_rows"]

#: most frames given to a k-means fit (evenly subsampled; every frame is labelled afterwards)
KMEANS_MAX_FRAMES = 100_000


def subsample_evenly(frames: np.ndarray, max_frames: int = KMEANS_MAX_FRAMES) -> np.ndarray:
    """``frames`` itself when it has at most ``max_frames`` rows, else ``max_frames`` rows at
    evenly spaced indices (first and last included)."""
    if len(frames) <= max_frames:
        return frames
    return subsample_rows([frames], max_frames, frames.dtype)


class EvenSubsample:
    """The rows :func:`subsample_evenly` keeps of ``total`` frames given a chunk at a time
    (videos in order): :meth:`add` copies a chunk's selected rows (as ``dtype``) into one array
    allocated for all of them, which :meth:`rows` returns. Holds only the kept rows, once: never
    every frame, never a list of parts and their concatenation; the rows are its own array
    (never a chunk given), so :func:`fit_kmeans` may centre them in place."""

    def __init__(self, total: int, max_frames: int = KMEANS_MAX_FRAMES, dtype: Any = np.float64) -> None:
        self.total, self.dtype, self.seen = int(total), dtype, 0
        self.index = None if self.total <= max_frames else np.linspace(0, self.total - 1, max_frames).round().astype(np.int64)
        self.kept = self.total if self.index is None else len(self.index)
        self._rows: np.ndarray | None = None
        self._filled = 0

    def add(self, chunk: Any) -> None:
        chunk = np.asarray(chunk)
        lo, hi = self.seen, self.seen + len(chunk)
        if hi > self.total:
            raise ValueError(f"EvenSubsample: more than the {self.total} frames announced")
        if self.index is None:
            picked = chunk
        else:
            a, b = np.searchsorted(self.index, [lo, hi])
            picked = chunk[self.index[a:b] - lo]
        if len(picked):
            if self._rows is None:
                self._rows = np.empty((self.kept, *chunk.shape[1:]), dtype=self.dtype)
            self._rows[self._filled : self._filled + len(picked)] = picked
            self._filled += len(picked)
        self.seen = hi

    def rows(self) -> np.ndarray:
        if self.seen != self.total:
            raise ValueError(f"EvenSubsample: {self.seen} frames given, {self.total} announced")
        if self._rows is None:
            raise ValueError("EvenSubsample: no frames")
        return self._rows


def subsample_rows(chunks: Sequence[np.ndarray], max_frames: int = KMEANS_MAX_FRAMES, dtype: Any = np.float64) -> np.ndarray:
    """``subsample_evenly(np.concatenate(chunks)).astype(dtype)``, gathering only the kept rows
    (always a new array, :class:`EvenSubsample`'s)."""
    chunks = [np.asarray(c) for c in chunks]
    picker = EvenSubsample(sum(len(c) for c in chunks), max_frames, dtype)
    for chunk in chunks:
        picker.add(chunk)
    return picker.rows()


def fit_kmeans(frames: Any, n_clusters: int, *, seed: int = 0, what: str = "k-means: {n} frames") -> Any:
    """A fitted scikit-learn ``KMeans`` on the rows of ``frames``: an array, a list of per-video
    arrays (see the module doc), or an :class:`EvenSubsample` that has been given every frame.

    The rows fitted are always the subsample's own array, so scikit-learn centres them in place
    (``copy_x=False``) instead of copying them; the arrays given are never modified.
    ``what``: the start of the error when there are fewer frames than clusters (``{n}``: the
    frame count), e.g. ``"k-means init: {n} training frames"``."""
    from sklearn.cluster import KMeans

    if isinstance(frames, EvenSubsample):
        data = frames.rows()
    else:
        data = subsample_rows(list(frames) if isinstance(frames, (list, tuple)) else [frames])
    if len(data) < n_clusters:
        raise ValueError(f"{what.format(n=len(data))} for K = {n_clusters} clusters")
    return KMeans(n_clusters=int(n_clusters), n_init=3, random_state=int(seed), copy_x=False).fit(data)
