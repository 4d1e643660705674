"""Fused CPU kernel for the mirror-descent iterations (spec section 2), compiled with numba.

One pass over the frames does everything an iteration needs: the structure product
``Cv (T Ca)`` by a sliding window (float64 running sums, O(NK) whatever ``w``), the gradient
``G``, the objective's sums, the multiplicative step and the row projection; one compiled
reduction per pass gives the objective and the column sums. The iterations themselves (count,
automatic step, trace, early stop) are :func:`asot.ot.iteration.iterate`'s, which calls
:meth:`KernelIterations.sweep` once per iteration. Each pass is split over a persistent thread
pool (the kernels release the GIL) with the calling thread taking one share, so Python does a
handful of calls per iteration and nothing per chunk.
(Threads, not numba's OpenMP ``prange``: its spinning workers collide with torch's own OpenMP
pool on a busy 2-core machine and were up to 10x slower there.) The plain torch path in
:mod:`asot.ot.solver` computes the same thing with ~30 tensor passes per iteration; this kernel
covers the row-constrained variants (unbalanced actions -- the paper's method -- and
``alpha = 0``) on CPU without autograd. Everything else uses the torch path.

With rows constrained, ``rowsum(T) = p`` and ``T Ca = p 1^T - T``, so for frame ``i`` with
window ``[lo, hi]`` (``cnt = hi - lo + 1`` frames)::

    Cv(T Ca)_ij = ((cnt - 1) * p - sum_{k=lo}^{hi} T_kj + T_ij) / r

Work split: a long video is cut into about one chunk per thread (each chunk starts its window
sum afresh, O(wK)); short videos are whole chunks, and the chunks are dealt out to the threads
in contiguous groups of about equal frame counts, so a batch of 64 small videos costs one
task per thread and pass, not 64. Within a chunk, frames go in blocks of ``BLOCK`` rows so
the element-wise work vectorises (see ``_chunk_pass``).

The caller should not run torch's own parallel operations just before: torch's OpenMP workers
spin for a few milliseconds after each, and on a 2-core machine that takes a core from these
threads (``OMP_WAIT_POLICY=PASSIVE`` in the environment stops the spinning).
"""

from __future__ import annotations

import math
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from asot.ot.iteration import automatic_step, objective_value

_POOL_LOCK = threading.Lock()
_POOLS: dict = {}


def _forget_pools_after_fork() -> None:  # pragma: no cover - runs in forked children
    """A forked child has none of the parent's threads: a pool inherited from the parent would
    queue work that nobody runs (a hang), so the child starts its own pools."""
    global _POOL_LOCK
    _POOL_LOCK = threading.Lock()
    _POOLS.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pools_after_fork)

try:  # numba is optional at import time: without it the torch path is used
    from numba import njit

    AVAILABLE = True
except ImportError:  # pragma: no cover - exercised only where numba is missing
    AVAILABLE = False

__all__ = ["AVAILABLE", "KernelIterations"]


def _pool(n_workers: int) -> ThreadPoolExecutor:
    """A process-wide pool of ``n_workers`` helper threads (the calling thread does one share too)."""
    with _POOL_LOCK:
        pool = _POOLS.get(n_workers)
        if pool is None:
            pool = _POOLS[n_workers] = ThreadPoolExecutor(n_workers, thread_name_prefix="asot-kernel")
        return pool


#: a long video is split into chunks of at least this many frames and at least 4 window widths
MIN_CHUNK = 512

#: a pass over fewer values (frames x actions, whole batch) runs on the calling thread alone: handing
#: a share to the pool and collecting it costs ~25 us per pass on a 2-core machine, about the
#: compute of 10-20k values (chosen conservatively low, so only clearly small passes stay serial)
MIN_PARALLEL_WORK = 4096

#: frames per block of the sweep (the element-wise work runs over BLOCK * K contiguous values)
BLOCK = 32

#: exp(x) for x below this is flushed to zero (2^-1022 is the smallest normal float64)
EXP_FLOOR = -708.0
_LOG2E = 1.4426950408889634
_LN2_HI = 0.6931471803691238
_LN2_LO = 1.9082149292705877e-10
_TINY64 = float(np.finfo(np.float64).tiny)


if AVAILABLE:

    @njit(cache=True, nogil=True, fastmath=True, inline="always")
    def _exp_block(x, out, bits, m):  # pragma: no cover - compiled
        """``out[:m] = exp(x[:m])`` for ``x <= 0``, vectorised (libm's exp is not; this is ~4x faster).

        Range reduction ``v = n ln2 + r`` with ``|r| <= ln2 / 2``, a degree-9 Taylor polynomial
        for ``e^r`` (relative error < 3e-12) and ``2^n`` written directly into the exponent bits.
        """
        for q in range(m):
            v = max(x[q], EXP_FLOOR)
            n = np.floor(v * _LOG2E + 0.5)
            r = (v - n * _LN2_HI) - n * _LN2_LO
            out[q] = 1.0 + r * (1.0 + r * (0.5 + r * (1.0 / 6 + r * (1.0 / 24 + r * (1.0 / 120 + r * (
                1.0 / 720 + r * (1.0 / 5040 + r * (1.0 / 40320 + r * (1.0 / 362880)))))))))
            bits[q] = (np.int64(n) + 1023) << 52
        scale = bits.view(np.float64)
        for q in range(m):
            out[q] *= scale[q]

    @njit(cache=True, nogil=True, fastmath=True, inline="always")
    def _chunk_pass(c, t_old, lt_old, t_new, lt_new, cost, lengths, widths, chunk_video, chunk_start, chunk_stop,
                    col_term, alpha, inv_r, eps, step, do_step, frozen, part_col, part_obj,
                    acc, window, x, expo, bits, col_tile, row_shift, row_scale):  # pragma: no cover - compiled
        """Chunk ``c`` of one sweep: objective sums of ``t_old`` and (if ``do_step``) the next iterate.

        ``part_obj[c] = (sum C T, sum S T, sum T (1 - log T), max G)``;
        ``part_col[c]`` receives the column sums of the new iterate over the chunk. A ``frozen``
        (converged) video takes no step: ``KernelIterations.keep`` copied its iterate into the other buffer
        when it converged, so both buffers hold it, and its column sums are not used.

        Frames go in blocks of ``BLOCK`` rows: the rows of a block are contiguous, so the
        element-wise work (gradient, objective sums, exp) runs as flat loops of ``BLOCK * K``
        that vectorise, where rows of K = 10..25 alone do not; only the window sums and the
        row reductions (max, sum, log) go row by row.
        """
        n_actions = cost.shape[2]
        b = chunk_video[c]
        i0 = chunk_start[c]
        i1 = chunk_stop[c]
        n = lengths[b]
        w = widths[b]
        p = 1.0 / n
        log_p = -math.log(n)
        s = step[b]
        band = inv_r[b]
        beta = 1.0 - alpha
        t_flat = t_old[b].ravel()
        lt_flat = lt_old[b].ravel()
        c_flat = cost[b].ravel()
        new_flat = t_new[b].ravel()
        lt_new_flat = lt_new[b].ravel()
        frozen_video = do_step and frozen[b]
        acc[:] = 0.0
        for k in range(max(i0 - w, 0), min(i0 + w, n - 1) + 1):
            for j in range(n_actions):
                acc[j] += t_flat[k * n_actions + j]
        for q in range(col_tile.shape[0]):
            col_tile[q] = col_term[b, q % n_actions]
        s_ct = 0.0
        s_st = 0.0
        s_h = 0.0
        g_max = -np.inf
        col = part_col[c]
        col[:] = 0.0
        for first in range(i0, i1, BLOCK):
            rows = min(BLOCK, i1 - first)
            m = rows * n_actions
            off = first * n_actions
            for r in range(rows):  # window[i, j] = (cnt_i - 1) p - sum_{k in window(i)} T_kj
                i = first + r
                if i > i0:
                    if i + w <= n - 1:
                        o = (i + w) * n_actions
                        for j in range(n_actions):
                            acc[j] += t_flat[o + j]
                    if i - w - 1 >= 0:
                        o = (i - w - 1) * n_actions
                        for j in range(n_actions):
                            acc[j] -= t_flat[o + j]
                base = (min(i + w, n - 1) - max(i - w, 0)) * p
                for j in range(n_actions):
                    window[r * n_actions + j] = base - acc[j]
            for q in range(m):  # x = G (evaluation pass) or log T - s G (stepping pass)
                t = t_flat[off + q]
                lt = lt_flat[off + q]
                cq = c_flat[off + q]
                struct = (window[q] + t) * band
                g = alpha * struct + beta * cq + eps * lt + col_tile[q]
                s_ct += cq * t
                s_st += struct * t
                s_h += t * (1.0 - lt)
                x[q] = (lt - s * g) if do_step else g
            if not do_step:
                for q in range(m):
                    g_max = max(g_max, x[q])
                continue
            if frozen_video:  # both buffers already hold its iterate (copied once when it converged)
                continue
            for r in range(rows):  # shift each row by its max before exp
                row_max = -np.inf
                for j in range(n_actions):
                    row_max = max(row_max, x[r * n_actions + j])
                for j in range(n_actions):
                    x[r * n_actions + j] -= row_max
            _exp_block(x, expo, bits, m)
            for r in range(rows):  # row projection: rows of the new iterate sum to p
                z = 0.0
                for j in range(n_actions):
                    z += expo[r * n_actions + j]
                row_shift[r] = log_p - math.log(z)
                row_scale[r] = p / z
            for r in range(rows):
                shift = row_shift[r]
                scale = row_scale[r]
                for j in range(n_actions):
                    q = r * n_actions + j
                    lt_new_flat[off + q] = x[q] + shift
                    t = expo[q] * scale
                    new_flat[off + q] = t
                    col[j] += t
        part_obj[c, 0] = s_ct
        part_obj[c, 1] = s_st
        part_obj[c, 2] = s_h
        part_obj[c, 3] = g_max

    @njit(cache=True, nogil=True, fastmath=True)
    def _sweep(first, last, t_old, lt_old, t_new, lt_new, cost, lengths, widths, chunk_video, chunk_start, chunk_stop,
               col_term, alpha, inv_r, eps, step, do_step, frozen, part_col, part_obj):  # pragma: no cover - compiled
        """Chunks ``first .. last - 1`` of one pass (one thread's share)."""
        n_actions = cost.shape[2]
        acc = np.empty(n_actions)
        size = BLOCK * n_actions
        window = np.empty(size)
        x = np.empty(size)
        expo = np.empty(size)
        bits = np.empty(size, dtype=np.int64)
        col_tile = np.empty(size)
        row_shift = np.empty(BLOCK)
        row_scale = np.empty(BLOCK)
        for c in range(first, last):
            _chunk_pass(c, t_old, lt_old, t_new, lt_new, cost, lengths, widths, chunk_video, chunk_start, chunk_stop,
                        col_term, alpha, inv_r, eps, step, do_step, frozen, part_col, part_obj,
                        acc, window, x, expo, bits, col_tile, row_shift, row_scale)

    #: the objective's one formula (asot.ot.iteration.objective_value), compiled for the reductions
    _objective_value = njit(cache=True, nogil=True)(objective_value)

    @njit(cache=True, nogil=True)
    def _col_term(col, col_term, lambda_actions):  # pragma: no cover - compiled
        """``lambda (log(colsum T / q) + 1)`` per video and action."""
        log_q = -math.log(col.shape[1])
        for b in range(col.shape[0]):
            for j in range(col.shape[1]):
                col_term[b, j] = lambda_actions * (math.log(max(col[b, j], _TINY64)) - log_q + 1.0)

    @njit(cache=True, nogil=True)
    def _gradient_max(chunk_video, part_obj, g_max):  # pragma: no cover - compiled
        """``max G`` per video from an evaluation pass's chunk maxima."""
        g_max[:] = -np.inf
        for c in range(chunk_video.shape[0]):
            b = chunk_video[c]
            g_max[b] = max(g_max[b], part_obj[c, 3])

    @njit(cache=True, nogil=True)
    def _reduce(chunk_video, part_obj, part_col, col, next_col, next_term, frozen, alpha, eps, lambda_actions,
                objective, do_step):  # pragma: no cover - compiled
        """``F`` of the current iterate into ``objective``, from the chunk sums and ``col`` (its
        column sums); with ``do_step`` also the column sums and column term of the next iterate
        (videos not ``frozen``) into ``next_col`` and ``next_term``.

        The KL of the column marginal is written ``sum_j c_j log(c_j / q) - (sum_j c_j - 1)``: the
        same value (rows sum to ``p``, so ``sum_j c_j = 1``), but the rounding of the masses enters
        only to second order (``lambda * 1e-7`` otherwise, visible at large ``lambda``).
        """
        batch, n_actions = col.shape
        log_q = -math.log(n_actions)
        n_chunks = chunk_video.shape[0]
        sums = np.zeros((batch, 3))
        for c in range(n_chunks):
            b = chunk_video[c]
            for m in range(3):
                sums[b, m] += part_obj[c, m]
        for b in range(batch):
            kl = 0.0
            mass = 0.0
            for j in range(n_actions):
                kl += col[b, j] * (math.log(max(col[b, j], _TINY64)) - log_q)
                mass += col[b, j]
            objective[b] = _objective_value(alpha, eps, lambda_actions, 0.0, sums[b, 0], sums[b, 1], sums[b, 2],
                                            kl - (mass - 1.0), 0.0)
        if not do_step:
            return
        for b in range(batch):
            if not frozen[b]:
                next_col[b] = 0.0
        for c in range(n_chunks):
            b = chunk_video[c]
            if not frozen[b]:  # a frozen video's column sums stay those of its iterate
                for j in range(n_actions):
                    next_col[b, j] += part_col[c, j]
        _col_term(next_col, next_term, lambda_actions)

    @njit(cache=True, nogil=True)
    def _sweep_and_reduce(t_old, lt_old, t_new, lt_new, cost, lengths, widths, chunk_video, chunk_start, chunk_stop,
                          col_term, alpha, inv_r, eps, step, do_step, frozen, part_col, part_obj, col, next_col,
                          next_term, lambda_actions, objective):  # pragma: no cover - compiled
        """A whole pass on the calling thread and its reduction, in one call (one task)."""
        _sweep(0, chunk_video.shape[0], t_old, lt_old, t_new, lt_new, cost, lengths, widths, chunk_video, chunk_start,
               chunk_stop, col_term, alpha, inv_r, eps, step, do_step, frozen, part_col, part_obj)
        _reduce(chunk_video, part_obj, part_col, col, next_col, next_term, frozen, alpha, eps, lambda_actions,
                objective, do_step)

    @njit(cache=True, nogil=True)
    def _scale_and_label(t, lengths, labels):  # pragma: no cover - compiled
        """``T *= N_b`` (rows then sum to 1) and ``labels = argmax_j T_ij`` in place; -1 on padding."""
        for b in range(t.shape[0]):
            n = lengths[b]
            for i in range(t.shape[1]):
                if i >= n:
                    labels[b, i] = -1
                    continue
                row = t[b, i]
                best = 0
                for j in range(row.shape[0]):
                    row[j] *= n
                    if row[j] > row[best]:
                        best = j
                labels[b, i] = best


def _chunks(lengths: np.ndarray, widths: np.ndarray, n_threads: int, n_actions: int):
    """Chunks ``(video, start, stop)`` and ``task_bounds``: chunk ranges of ~equal frames per thread.

    The chunks depend on ``n_threads`` only, so a result does not depend on whether the pool is
    used: a pass over fewer than ``MIN_PARALLEL_WORK`` values runs as one task on the calling thread.
    """
    video, start, stop = [], [], []
    total = int(lengths.sum())
    for b, (n, w) in enumerate(zip(lengths.tolist(), widths.tolist())):
        size = max(MIN_CHUNK, 4 * w)
        # a video holding more than a thread's share is cut into about one chunk per thread
        n_chunks = max(1, min(n // size, round(n_threads * n / total)))
        if n_chunks == 1:  # most videos of a batch: no cut to compute
            video.append(b)
            start.append(0)
            stop.append(n)
            continue
        bounds = np.linspace(0, n, n_chunks + 1).astype(np.int64).tolist()
        video.extend([b] * n_chunks)
        start.extend(bounds[:-1])
        stop.extend(bounds[1:])
    start_a = np.asarray(start, np.int64)
    stop_a = np.asarray(stop, np.int64)
    n_tasks = max(1, min(n_threads, len(video)))
    if n_tasks == 1 or total * n_actions < MIN_PARALLEL_WORK:
        return np.asarray(video, np.int64), start_a, stop_a, np.array([0, len(video)], np.int64)
    work = np.concatenate([[0], np.cumsum(stop_a - start_a)])
    cuts = np.searchsorted(work, np.linspace(0, work[-1], n_tasks + 1)[1:-1])
    task_bounds = np.unique(np.concatenate([[0], cuts, [len(video)]])).astype(np.int64)
    return np.asarray(video, np.int64), start_a, stop_a, task_bounds


class KernelIterations:
    """The fused kernel as a backend of :func:`asot.ot.iteration.iterate` (rows constrained,
    unbalanced actions; ``alpha = 0`` included).

    ``cost`` is ``(B, N, K)`` float32/float64 and C-contiguous with zero padding rows. Each
    :meth:`sweep` is one pass over the frames (split over ``n_threads`` threads) and one compiled
    reduction; the iterate is double-buffered (``log T`` too when ``keep_iterates``, i.e. with
    ``tol``: without, it is updated in place, as each pass reads a row's ``log T`` before
    writing it).
    """

    def __init__(self, cost: np.ndarray, lengths: np.ndarray, widths: np.ndarray, radii: np.ndarray, *, alpha: float,
                 eps: float, lambda_actions: float, curvature: float, n_iters: int, keep_iterates: bool, n_threads: int):
        batch, n_frames, n_actions = cost.shape
        self.cost = cost
        self.lengths = lengths = np.ascontiguousarray(lengths, dtype=np.int64)
        self.widths = widths = np.ascontiguousarray(widths, dtype=np.int64)
        chunks = _chunks(lengths, widths, max(1, int(n_threads)), n_actions)
        self.chunk_video, self.chunk_start, self.chunk_stop, self.task_bounds = chunks
        p = 1.0 / lengths.astype(np.float64)
        valid = np.arange(n_frames)[None, :] < lengths[:, None]
        t_init = np.where(valid, p[:, None] / n_actions, 0.0)
        t_a = np.empty_like(cost)
        t_a[...] = t_init[:, :, None]
        lt_a = np.empty_like(cost)
        lt_a[...] = np.log(np.where(valid, t_init, 1.0))[:, :, None]
        self.t = (t_a, np.zeros_like(cost))
        self.lt = (lt_a, np.zeros_like(cost) if keep_iterates else lt_a)
        col = np.full((batch, n_actions), 1.0 / n_actions)
        self.col = (col, col.copy())
        self.term = (np.zeros((batch, n_actions)), np.zeros((batch, n_actions)))
        _col_term(self.col[0], self.term[0], float(lambda_actions))
        self.current = 0
        n_chunks = len(self.chunk_video)
        self.part_col = np.zeros((n_chunks, n_actions))
        self.part_obj = np.zeros((n_chunks, 4))
        self.inv_r = 1.0 / np.asarray(radii, dtype=np.float64)  # band value 1/r_b per video
        self.alpha, self.eps, self.lambda_actions = float(alpha), float(eps), float(lambda_actions)
        self.curvature = float(curvature)
        self.frozen = np.zeros(batch, dtype=np.bool_)
        self._no_step = np.zeros(batch)
        self.trace = np.zeros((n_iters + 1, batch))  # F per iterate (row) and video
        self.sweeps = 0
        self.n_tasks = len(self.task_bounds) - 1
        self.pool = _pool(self.n_tasks - 1) if self.n_tasks > 1 else None
        # the arguments of a pass, per current buffer (built once: a sweep is called every iteration)
        self._pass_args = [(self.t[now], self.lt[now], self.t[1 - now], self.lt[1 - now], cost, lengths, widths,
                            self.chunk_video, self.chunk_start, self.chunk_stop, self.term[now], self.alpha, self.inv_r,
                            self.eps) for now in (0, 1)]
        self._columns = [(self.col[now], self.col[1 - now], self.term[1 - now]) for now in (0, 1)]

    # -- the backend interface of asot.ot.iteration.iterate --------------------------------
    def full_step(self, value: float) -> np.ndarray:
        return np.full(self.cost.shape[0], float(value))

    def sweep(self, step, do_step: bool):
        """``F`` of the current iterate (a row of the trace) and, with ``do_step``, the next
        iterate; ``step=None``: the automatic step from an evaluation pass first."""
        if step is None and do_step:
            self._pass(self._no_step, False)  # an evaluation pass reads no step
            g_max = np.empty(self.cost.shape[0])
            _gradient_max(self.chunk_video, self.part_obj, g_max)
            step = automatic_step(g_max, self.curvature)
        # step None and no step to take (n_iters = 0): the objective only; the pass reads no step
        read = self._no_step if step is None else step
        now = self.current
        objective = self.trace[self.sweeps]
        self.sweeps += 1
        if self.pool is None:  # one task: the pass and its reduction in one compiled call
            _sweep_and_reduce(*self._pass_args[now], read, do_step, self.frozen, self.part_col, self.part_obj,
                              *self._columns[now], self.lambda_actions, objective)
            return objective, step
        self._pass(read, do_step)
        _reduce(self.chunk_video, self.part_obj, self.part_col, *self._columns[now], self.frozen, self.alpha,
                self.eps, self.lambda_actions, objective, do_step)
        return objective, step

    def keep(self, newly: np.ndarray, converged: np.ndarray) -> None:
        """Newly converged videos keep the current iterate: copied once into the spare buffers,
        so both hold it and the sweeps skip the video from now on."""
        now, spare = self.current, 1 - self.current
        for b in np.flatnonzero(newly).tolist():
            self.t[spare][b] = self.t[now][b]
            self.lt[spare][b] = self.lt[now][b]
            self.col[spare][b] = self.col[now][b]
            self.term[spare][b] = self.term[now][b]
        self.frozen[:] = converged

    def advance(self) -> None:
        self.current = 1 - self.current

    def halve_step(self, step: np.ndarray, rise: np.ndarray) -> np.ndarray:
        return np.where(rise, 0.5 * step, step)

    # -- work ---------------------------------------------------------------------------
    def _pass(self, step, do_step: bool) -> None:
        """One pass over every chunk, split over the threads (the calling thread takes one share)."""
        args = (*self._pass_args[self.current], step, do_step, self.frozen, self.part_col, self.part_obj)
        bounds = self.task_bounds
        if self.pool is None:
            _sweep(bounds[0], bounds[1], *args)
            return
        futures = [self.pool.submit(_sweep, bounds[k], bounds[k + 1], *args) for k in range(1, self.n_tasks)]
        _sweep(bounds[0], bounds[1], *args)
        for future in futures:
            future.result()

    def coupling_and_labels(self) -> tuple[np.ndarray, np.ndarray]:
        """The current iterate rescaled by ``N_b`` (valid rows sum to 1, as
        ``ASOTResult.coupling``) and its row-wise argmax (-1 on padding), in place."""
        coupling = self.t[self.current]
        labels = np.empty(coupling.shape[:2], dtype=np.int64)
        _scale_and_label(coupling, self.lengths, labels)
        return coupling, labels
