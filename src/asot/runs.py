r"""Run-length encoding of frame labels: the one implementation of "segments" in asot.

A label sequence :math:`y_0 \dots y_{N-1}` is a list of runs (maximal stretches of one label)
:math:`(\ell_i, s_i, e_i)` with :math:`s_0 = 0`, :math:`e_i = s_{i+1}`, :math:`e_{M-1} = N`
(end exclusive) and :math:`\ell_i \ne \ell_{i+1}`; :func:`run_length_decode` inverts
:func:`run_length_encode` exactly. The metrics (segment F1, edit, F1@k), the figures, the
segment counts (:func:`count_runs`) and the segment tables all read runs from here.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from asot._arrays import to_numpy

__all__ = ["Runs", "count_runs", "run_starts", "run_length_encode", "run_length_decode"]


class Runs(NamedTuple):
    """Runs of constant label: ``labels[i]`` spans frames ``starts[i] <= t < ends[i]``."""

    labels: np.ndarray
    starts: np.ndarray
    ends: np.ndarray

    @property
    def lengths(self) -> np.ndarray:
        """Frames per run, ``ends - starts``."""
        return self.ends - self.starts


def _as_1d(labels: Any) -> np.ndarray:
    arr = to_numpy(labels)
    if arr.ndim != 1:
        raise ValueError(f"expected a 1-D label sequence (n_frames,), got shape {arr.shape}")
    return arr


def run_starts(labels: Any) -> np.ndarray:
    """Indices where a new run begins (``[0, ...]``; empty for no frames), int64."""
    arr = _as_1d(labels)
    if arr.size == 0:
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(np.concatenate(([True], arr[1:] != arr[:-1]))).astype(np.int64)


def run_length_encode(labels: Any) -> Runs:
    """The runs of a ``(N,)`` label sequence (numpy, torch or list), in time order."""
    arr = _as_1d(labels)
    starts = run_starts(arr)
    ends = np.append(starts[1:], arr.size).astype(np.int64) if arr.size else np.zeros(0, dtype=np.int64)
    return Runs(arr[starts], starts, ends)


def count_runs(labels: Any, min_length: int = 1) -> int:
    """Number of runs of at least ``min_length`` frames (0 for no frames): the one run count
    (segment counts of ``compare``, the automatic radius and segment scale)."""
    lengths = np.diff(np.append(run_starts(labels), _as_1d(labels).size))
    return int(np.count_nonzero(lengths >= min_length))


def run_length_decode(labels: Any, starts: Any, ends: Any, n_frames: int | None = None) -> np.ndarray:
    """Per-frame labels from runs: ``out[starts[i]:ends[i]] = labels[i]``.

    The runs must tile ``[0, N)`` in order without gaps or overlaps (``N = ends[-1]``, or
    ``n_frames`` when given, which must then equal it); ``ValueError`` says which run breaks it.
    """
    lab = np.asarray(labels)
    s = np.asarray(starts, dtype=np.int64).reshape(-1)
    e = np.asarray(ends, dtype=np.int64).reshape(-1)
    if not (lab.shape[0] == s.size == e.size):
        raise ValueError(f"runs: {lab.shape[0]} labels, {s.size} starts and {e.size} ends")
    n = int(e[-1]) if e.size else 0
    if n_frames is not None and n != n_frames:
        raise ValueError(f"runs cover {n} frames, expected {n_frames}")
    if s.size:
        if s[0] != 0:
            raise ValueError(f"run 0 starts at frame {s[0]}, expected 0")
        bad = np.flatnonzero(e <= s)
        if bad.size:
            raise ValueError(f"run {bad[0]} is empty or reversed (start {s[bad[0]]}, end {e[bad[0]]})")
        gap = np.flatnonzero(s[1:] != e[:-1])
        if gap.size:
            i = int(gap[0]) + 1
            raise ValueError(f"run {i} starts at frame {s[i]} but run {i - 1} ends at {e[i - 1]} (runs must tile the video)")
    return np.repeat(lab, e - s)
