"""Fused CPU kernel for the mirror-descent iterations (spec section 2), compiled with numba.

One pass over the frames does everything an iteration needs: the structure product
``Cv (T Ca)`` by a sliding window (float64 running sums, O(NK) whatever ``w``), the gradient
``G``, the objective's sums, the multiplicative step and the row projection. The reductions
between passes (objective trace, column sums, automatic step, early stop) are compiled too:
on one thread the whole iteration loop is a single compiled call; on several, each pass is
split over a persistent thread pool (the kernels release the GIL) with the calling thread
taking one share, so Python does a handful of calls per iteration and nothing per chunk.
(Threads, not numba's OpenMP ``prange``: its spinning workers collide with torch's own OpenMP
pool on a busy 2-core machine and were up to 10x slower there.) The plain torch path in
:mod:`asot.solver` computes the same thing with ~30 tensor passes per iteration; this kernel
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

__all__ = ["AVAILABLE", "solve_rows_constrained"]


def _pool(n_workers: int) -> ThreadPoolExecutor:
    """A process-wide pool of ``n_workers`` helper threads (the calling thread does one share too)."""
    with _POOL_LOCK:
        pool = _POOLS.get(n_workers)
        if pool is None:
            pool = _POOLS[n_workers] = ThreadPoolExecutor(n_workers, thread_name_prefix="asot-kernel")
        return pool


#: a long video is split into chunks of at least this many frames and at least 4 window widths
MIN_CHUNK = 512

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
        (converged) video takes no step: ``_after_pass`` copied its iterate into the other buffer
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

    @njit(cache=True, nogil=True)
    def _col_term(col, col_term, lambda_actions, unbalanced):  # pragma: no cover - compiled
        """``lambda (log(colsum T / q) + 1)`` per video and action (zero when actions are balanced)."""
        log_q = -math.log(col.shape[1])
        for b in range(col.shape[0]):
            for j in range(col.shape[1]):
                col_term[b, j] = lambda_actions * (math.log(max(col[b, j], _TINY64)) - log_q + 1.0) if unbalanced else 0.0

    @njit(cache=True, nogil=True)
    def _auto_step(chunk_video, part_obj, step, floor):  # pragma: no cover - compiled
        """``s = 4 / max(max G, floor)`` per video (``floor = 4 eps``, i.e. ``s <= 1/eps``);
        the same rule as ``ASOTSolver._automatic_step``."""
        batch = step.shape[0]
        g_max = np.full(batch, -np.inf)
        for c in range(chunk_video.shape[0]):
            b = chunk_video[c]
            g_max[b] = max(g_max[b], part_obj[c, 3])
        for b in range(batch):
            step[b] = 4.0 / max(g_max[b], floor)

    @njit(cache=True, nogil=True)
    def _after_pass(it, last, chunk_video, part_obj, part_col, col, col_term, alpha, eps, lambda_actions,
                    unbalanced, tol, trace, converged, t_old, lt_old, t_new, lt_new):  # pragma: no cover - compiled
        """Objective of iteration ``it`` into ``trace``; returns True to stop (all converged, or ``last``).

        A video that converges now keeps iterate ``it`` (copied over the next one) and stays
        frozen while the rest of the batch goes on, so its result does not depend on the batch.
        Otherwise the column sums of the new iterate go into ``col`` and ``col_term`` is updated.
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
            value = (1.0 - alpha) * sums[b, 0] + 0.5 * alpha * sums[b, 1] - eps * sums[b, 2]
            if unbalanced:
                kl = 0.0
                for j in range(n_actions):
                    kl += col[b, j] * (math.log(max(col[b, j], _TINY64)) - log_q)
                value += lambda_actions * kl
            trace[b, it] = value
        if last:
            return True
        if it > 0 and tol >= 0.0:
            done = True
            for b in range(batch):
                prev = trace[b, it - 1]
                newly = not converged[b] and abs(trace[b, it] - prev) <= tol * max(abs(prev), _TINY64)
                if newly:  # keep iterate ``it`` (t_old): the pass just computed the next one into t_new
                    converged[b] = True
                    t_new[b] = t_old[b]
                    lt_new[b] = lt_old[b]
                done = done and converged[b]
            if done:
                return True  # t_old (the iterate the converged objective belongs to) is returned
        for b in range(batch):
            if not converged[b]:
                col[b] = 0.0
        for c in range(n_chunks):
            b = chunk_video[c]
            if not converged[b]:  # a frozen video's column sums stay those of its iterate
                for j in range(n_actions):
                    col[b, j] += part_col[c, j]
        _col_term(col, col_term, lambda_actions, unbalanced)
        return False

    @njit(cache=True, nogil=True)
    def _iterate(t_a, t_b, lt_a, lt_b, cost, lengths, widths, chunk_video, chunk_start, chunk_stop,
                 alpha, inv_r, eps, lambda_actions, unbalanced, n_iters, step, auto_step, tol, floor,
                 col, col_term, part_col, part_obj, trace, converged):  # pragma: no cover - compiled
        """All iterations on one thread; returns ``(n_run, final)``: last iterate in ``t_a`` (0) or ``t_b`` (1)."""
        n_chunks = chunk_video.shape[0]
        final = 0
        n_run = 0
        for it in range(n_iters + 1):
            t_old, lt_old = (t_a, lt_a) if final == 0 else (t_b, lt_b)
            t_new, lt_new = (t_b, lt_b) if final == 0 else (t_a, lt_a)
            last = it == n_iters
            if it == 0 and auto_step and not last:
                _sweep(0, n_chunks, t_old, lt_old, t_new, lt_new, cost, lengths, widths, chunk_video, chunk_start,
                       chunk_stop, col_term, alpha, inv_r, eps, step, False, converged, part_col, part_obj)
                _auto_step(chunk_video, part_obj, step, floor)
            _sweep(0, n_chunks, t_old, lt_old, t_new, lt_new, cost, lengths, widths, chunk_video, chunk_start,
                   chunk_stop, col_term, alpha, inv_r, eps, step, not last, converged, part_col, part_obj)
            if _after_pass(it, last, chunk_video, part_obj, part_col, col, col_term, alpha, eps, lambda_actions,
                           unbalanced, tol, trace, converged, t_old, lt_old, t_new, lt_new):
                break
            n_run += 1
            final = 1 - final
        return n_run, final

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


def _chunks(lengths: np.ndarray, widths: np.ndarray, n_threads: int):
    """Chunks ``(video, start, stop)`` and ``task_bounds``: chunk ranges of ~equal frames per thread."""
    video, start, stop = [], [], []
    total = int(lengths.sum())
    for b, (n, w) in enumerate(zip(lengths.tolist(), widths.tolist())):
        size = max(MIN_CHUNK, 4 * w)
        # a video holding more than a thread's share is cut into about one chunk per thread
        n_chunks = max(1, min(n // size, round(n_threads * n / total)))
        bounds = np.linspace(0, n, n_chunks + 1).astype(np.int64)
        for c in range(n_chunks):
            video.append(b)
            start.append(bounds[c])
            stop.append(bounds[c + 1])
    start_a = np.asarray(start, np.int64)
    stop_a = np.asarray(stop, np.int64)
    work = np.concatenate([[0], np.cumsum(stop_a - start_a)])
    n_tasks = max(1, min(n_threads, len(video)))
    cuts = np.searchsorted(work, np.linspace(0, work[-1], n_tasks + 1)[1:-1])
    task_bounds = np.unique(np.concatenate([[0], cuts, [len(video)]])).astype(np.int64)
    return np.asarray(video, np.int64), start_a, stop_a, task_bounds


def solve_rows_constrained(cost: np.ndarray, lengths: np.ndarray, widths: np.ndarray, *, alpha: float,
                           radii: np.ndarray,
                           eps: float, lambda_actions: float, unbalanced_actions: bool, n_iters: int,
                           step_size: float | None, tol: float | None, n_threads: int):
    """Run the iterations; returns ``(T, labels, objective (B, n+1), n_run, converged, step)``.

    ``cost`` is ``(B, N, K)`` float32/float64 and C-contiguous with zero padding rows.
    The returned ``T`` is rescaled by ``N_b`` (valid rows sum to 1, as ``ASOTResult.coupling``);
    ``labels`` is its row-wise argmax, -1 on padding frames.
    """
    batch, n_frames, n_actions = cost.shape
    dtype = cost.dtype
    lengths = np.ascontiguousarray(lengths, dtype=np.int64)
    widths = np.ascontiguousarray(widths, dtype=np.int64)
    n_threads = max(1, int(n_threads))
    chunk_video, chunk_start, chunk_stop, task_bounds = _chunks(lengths, widths, n_threads)
    p = 1.0 / lengths.astype(np.float64)
    valid = np.arange(n_frames)[None, :] < lengths[:, None]

    t_init = np.where(valid, p[:, None] / n_actions, 0.0)
    t_a = np.empty_like(cost)
    t_a[...] = t_init[:, :, None]
    lt_a = np.empty_like(cost)
    lt_a[...] = np.log(np.where(valid, t_init, 1.0))[:, :, None]
    # with tol, log T is double-buffered like T so that a converging video can keep its iterate;
    # without, it is updated in place (each pass reads a row's log T before writing it)
    lt_b = lt_a if tol is None else np.zeros_like(cost)
    t_b = np.zeros_like(cost)
    auto = step_size is None
    step = np.zeros(batch) if auto else np.full(batch, float(step_size))
    trace = np.zeros((batch, n_iters + 1))
    converged = np.zeros(batch, dtype=np.bool_)
    floor = 4.0 * eps  # the automatic step never exceeds 1/eps (see ASOTSolver._automatic_step)

    col = np.full((batch, n_actions), 1.0 / n_actions)
    col_term = np.zeros((batch, n_actions))
    n_chunks = len(chunk_video)
    part_col = np.zeros((n_chunks, n_actions))
    part_obj = np.zeros((n_chunks, 4))
    inv_r = 1.0 / np.asarray(radii, dtype=np.float64)  # band value 1/r_b per video
    alpha, eps, lam = float(alpha), float(eps), float(lambda_actions)
    unbalanced, tol_value = bool(unbalanced_actions), -1.0 if tol is None else float(tol)
    _col_term(col, col_term, lam, unbalanced)
    n_tasks = len(task_bounds) - 1
    if n_tasks == 1:  # the whole loop in one compiled call
        n_run, final = _iterate(t_a, t_b, lt_a, lt_b, cost, lengths, widths, chunk_video, chunk_start, chunk_stop,
                                alpha, inv_r, eps, lam, unbalanced, int(n_iters), step, auto, tol_value, floor,
                                col, col_term, part_col, part_obj, trace, converged)
    else:  # one pass per iteration split over threads (numba releases the GIL); reductions compiled
        chunks = (lengths, widths, chunk_video, chunk_start, chunk_stop)
        pool = _pool(n_tasks - 1)

        def sweep(old, new, do_step):
            args = (*old, *new, cost, *chunks, col_term, alpha, inv_r, eps, step, do_step, converged, part_col, part_obj)
            futures = [pool.submit(_sweep, task_bounds[k], task_bounds[k + 1], *args) for k in range(1, n_tasks)]
            _sweep(task_bounds[0], task_bounds[1], *args)
            for future in futures:
                future.result()

        final, n_run = 0, 0
        buffers = ((t_a, lt_a), (t_b, lt_b))
        for it in range(n_iters + 1):
            old, new = buffers[final], buffers[1 - final]
            last = it == n_iters
            if it == 0 and auto and not last:
                sweep(old, new, False)
                _auto_step(chunk_video, part_obj, step, floor)
            sweep(old, new, not last)
            if _after_pass(it, last, chunk_video, part_obj, part_col, col, col_term, alpha, eps, lam, unbalanced,
                           tol_value, trace, converged, *old, *new):
                break
            n_run += 1
            final = 1 - final
    coupling = t_a if final == 0 else t_b
    labels = np.empty((batch, n_frames), dtype=np.int64)
    _scale_and_label(coupling, lengths, labels)
    return coupling, labels, trace[:, :n_run + 1], int(n_run), converged, step
