r"""Run-length encoding of frame labels: the one implementation of "segments" in asot.

A label sequence :math:`y_0 \dots y_{N-1}` is a list of runs (maximal stretches of one label)
:math:`(\ell_i, s_i, e_i)` with :math:`s_0 = 0`, :math:`e_i = s_{i+1}`, :math:`e_{M-1} = N`
(end exclusive) and :math:`\ell_i \ne \ell_{i+1}`; :func:`run_length_decode` inverts
:func:`run_length_encode` exactly. The metrics (segment F1, edit, F1@k), the figures, the
segment counts (:func:`count_runs`) and the segment tables all read runs from here.
:func:`min_run` is a flicker filter on labels (runs shorter than a fraction of the video merged
into a neighbour); the ``default`` preset applies it to its final segmentation at half a
structure radius (``min_run_radii``; ``docs/defaults.md``, ``benchmarks/min_run.py``).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from asot._arrays import to_numpy

__all__ = ["Runs", "count_runs", "run_starts", "run_length_encode", "run_length_decode", "min_run", "min_run_length"]


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


def min_run_length(n_frames: int, fraction: float) -> int:
    r"""The shortest run :func:`min_run` keeps: :math:`L = \max(1, \lfloor f N + 1/2 \rfloor)`."""
    if not (isinstance(fraction, (int, float, np.integer, np.floating)) and not isinstance(fraction, bool)
            and 0.0 <= float(fraction) < 1.0):  # fmt: skip
        raise ValueError(f"min-run fraction: expected a number in [0, 1), got {fraction!r}")
    return max(1, int(np.floor(float(fraction) * int(n_frames) + 0.5)))


def min_run(labels: Any, fraction: float, cost: Any = None) -> np.ndarray:
    r"""Labels without runs shorter than :math:`L` = :func:`min_run_length` ``(N, fraction)`` frames.

    Repeatedly the shortest run (the earliest among equals) with :math:`e - s < L` is relabelled
    as one of its neighbours, which then joins it (and the run beyond, when that has the same
    label): the neighbour :math:`\ell` with the lower cost :math:`\sum_{t=s}^{e-1} C_{t\ell}` of
    those frames when ``cost`` ``(N, K)`` is given, else (and on a tie) the longer one, else the
    earlier one. The result has only labels of the input, no run shorter than ``L`` unless it is
    one run (``N < L``), and ``min_run`` of it changes nothing. ``fraction`` 0: unchanged (a copy).
    """
    import heapq

    arr = _as_1d(labels)
    n = arr.size
    length = min_run_length(n, fraction)
    runs = run_length_encode(arr)
    if length <= 1 or runs.labels.size <= 1:
        return arr.copy()
    sums = None
    if cost is not None:
        c = np.asarray(to_numpy(cost), dtype=np.float64)
        if c.ndim != 2 or c.shape[0] != n:
            raise ValueError(f"cost: expected shape ({n}, K) for {n} frames, got {c.shape}")
        if arr.min() < 0 or arr.max() >= c.shape[1]:
            raise ValueError(f"labels: expected ids in [0, {c.shape[1]}) to index the cost's {c.shape[1]} columns")
        sums = np.vstack([np.zeros((1, c.shape[1])), np.cumsum(c, axis=0)])  # sums[t, k] = sum_{u<t} C[u, k]
    lab, start, end = runs.labels.tolist(), runs.starts.tolist(), runs.ends.tolist()
    m = len(lab)
    prev, nxt = list(range(-1, m - 1)), list(range(1, m + 1))
    nxt[-1] = -1
    alive = [True] * m
    heap = [(e - s, s, i) for i, (s, e) in enumerate(zip(start, end)) if e - s < length]
    heapq.heapify(heap)
    while heap:
        size, s, i = heapq.heappop(heap)
        if not alive[i] or end[i] - start[i] != size or start[i] != s:
            continue  # stale entry: the run grew or was absorbed
        left, right = prev[i], nxt[i]
        if left < 0 and right < 0:
            break  # one run left: the whole video
        if left < 0 or right < 0:
            into = right if left < 0 else left
        else:
            into = None
            if sums is not None:
                cl = sums[end[i], lab[left]] - sums[s, lab[left]]
                cr = sums[end[i], lab[right]] - sums[s, lab[right]]
                into = left if cl < cr else right if cr < cl else None
            if into is None:
                into = right if end[right] - start[right] > end[left] - start[left] else left
        # run i takes the neighbour's label: fold i (and the run beyond it, if equal) into `into`
        alive[i] = False
        first, last = (into, i) if into == left else (i, into)
        start[into], end[into] = start[first], end[last]
        prev[into], nxt[into] = prev[first], nxt[last]
        other = nxt[into] if into == left else prev[into]
        if other >= 0 and lab[other] == lab[into]:  # A x A -> one run
            alive[other] = False
            if into == left:
                end[into], nxt[into] = end[other], nxt[other]
            else:
                start[into], prev[into] = start[other], prev[other]
        if prev[into] >= 0:
            nxt[prev[into]] = into
        if nxt[into] >= 0:
            prev[nxt[into]] = into
        if end[into] - start[into] < length:
            heapq.heappush(heap, (end[into] - start[into], start[into], into))
    keep = [j for j in range(m) if alive[j]]
    kept = np.asarray([lab[j] for j in keep], dtype=arr.dtype)
    return run_length_decode(kept, [start[j] for j in keep], [end[j] for j in keep], n)
