"""Fused CPU kernel for the mirror-descent iterations (spec section 2), compiled with numba.

One pass over the frames does everything an iteration needs: the structure product
``Cv (T Ca)`` by a sliding window (float64 running sums, O(NK) whatever ``w``), the gradient
``G``, the objective's sums, the multiplicative step and the row projection. The plain torch
path in :mod:`asot.solver` computes the same thing with ~30 tensor passes per iteration; this
kernel covers the row-constrained variants (unbalanced actions -- the paper's method -- and
``alpha = 0``) on CPU without autograd. Everything else uses the torch path.

With rows constrained, ``rowsum(T) = p`` and ``T Ca = p 1^T - T``, so for frame ``i`` with
window ``[lo, hi]`` (``cnt = hi - lo + 1`` frames)::

    Cv(T Ca)_ij = ((cnt - 1) * p - sum_{k=lo}^{hi} T_kj + T_ij) / r
"""

from __future__ import annotations

import math

import numpy as np

try:  # numba is optional at import time: without it the torch path is used
    import numba
    from numba import njit, prange

    AVAILABLE = True
except ImportError:  # pragma: no cover - exercised only where numba is missing
    AVAILABLE = False

__all__ = ["AVAILABLE", "solve_rows_constrained"]

from concurrent.futures import ThreadPoolExecutor

#: chunks are at least this many frames and at least 4 window widths (window set-up is O(wK))
MIN_CHUNK = 512


#: exp(x) for x below this is flushed to zero (2^-1022 is the smallest normal float64)
EXP_FLOOR = -708.0
_LOG2E = 1.4426950408889634
_LN2_HI = 0.6931471803691238
_LN2_LO = 1.9082149292705877e-10


if AVAILABLE:

    @njit(cache=True, nogil=True, fastmath=True, inline="always")
    def _exp_nonpositive(x, out, bits):  # pragma: no cover - compiled
        """``out = exp(x)`` for ``x <= 0``, vectorisable (libm's exp is not; this is ~4x faster).

        Range reduction ``x = n ln2 + r`` with ``|r| <= ln2 / 2``, a degree-11 Taylor polynomial
        for ``e^r`` (relative error < 1e-15) and ``2^n`` written directly into the exponent bits.
        """
        scale = bits.view(np.float64)
        for j in range(x.shape[0]):
            v = max(x[j], EXP_FLOOR)
            n = np.floor(v * _LOG2E + 0.5)
            r = (v - n * _LN2_HI) - n * _LN2_LO
            poly = 1.0 + r * (1.0 + r * (0.5 + r * (1.0 / 6 + r * (1.0 / 24 + r * (1.0 / 120 + r * (
                1.0 / 720 + r * (1.0 / 5040 + r * (1.0 / 40320 + r * (1.0 / 362880 + r * (
                    1.0 / 3628800 + r * (1.0 / 39916800)))))))))))
            bits[j] = (np.int64(n) + 1023) << 52
            out[j] = poly
        for j in range(x.shape[0]):
            out[j] *= scale[j]

    @njit(cache=True, nogil=True, fastmath=True)
    def _pass(t_old, log_t, t_new, cost, lengths, widths, chunk_video, chunk_start, chunk_stop, chunks,
              col_term, alpha, inv_r, eps, step, do_step, part_col, part_obj):  # pragma: no cover - compiled
        """One sweep over ``chunks``: objective sums of ``t_old`` and (if ``do_step``) the next iterate.

        ``part_obj[c] = (sum C T, sum S T, sum T (1 - log T), max G, min G)`` for chunk ``c``;
        ``part_col[c]`` receives the column sums of the new iterate over the chunk.
        """
        n_actions = cost.shape[2]
        acc = np.zeros(n_actions, dtype=np.float64)
        grad = np.empty(n_actions, dtype=np.float64)
        shifted = np.empty(n_actions, dtype=np.float64)
        expo = np.empty(n_actions, dtype=np.float64)
        bits = np.empty(n_actions, dtype=np.int64)
        for c in chunks:
            b = chunk_video[c]
            i0 = chunk_start[c]
            i1 = chunk_stop[c]
            n = lengths[b]
            w = widths[b]
            p = 1.0 / n
            log_p = -math.log(n)
            s = step[b]
            acc[:] = 0.0
            for k in range(max(i0 - w, 0), min(i0 + w, n - 1) + 1):
                for j in range(n_actions):
                    acc[j] += t_old[b, k, j]
            s_ct = 0.0
            s_st = 0.0
            s_h = 0.0
            g_max = -np.inf
            g_min = np.inf
            col = part_col[c]
            col[:] = 0.0
            for i in range(i0, i1):
                if i > i0:
                    if i + w <= n - 1:
                        for j in range(n_actions):
                            acc[j] += t_old[b, i + w, j]
                    if i - w - 1 >= 0:
                        for j in range(n_actions):
                            acc[j] -= t_old[b, i - w - 1, j]
                base = (min(i + w, n - 1) - max(i - w, 0)) * p
                t_row = t_old[b, i]
                lt_row = log_t[b, i]
                c_row = cost[b, i]
                for j in range(n_actions):
                    t = t_row[j]
                    lt = lt_row[j]
                    struct = (base - acc[j] + t) * inv_r
                    grad[j] = alpha * struct + (1.0 - alpha) * c_row[j] + eps * lt + col_term[b, j]
                    s_ct += c_row[j] * t
                    s_st += struct * t
                    s_h += t * (1.0 - lt)
                if not do_step:
                    for j in range(n_actions):
                        g_max = max(g_max, grad[j])
                        g_min = min(g_min, grad[j])
                    continue
                row_max = -np.inf
                for j in range(n_actions):
                    grad[j] = lt_row[j] - s * grad[j]
                    row_max = max(row_max, grad[j])
                for j in range(n_actions):
                    shifted[j] = grad[j] - row_max
                _exp_nonpositive(shifted, expo, bits)
                z = 0.0
                for j in range(n_actions):
                    z += expo[j]
                shift = log_p - math.log(z) - row_max
                scale = p / z
                new_row = t_new[b, i]
                for j in range(n_actions):
                    lt_row[j] = grad[j] + shift
                    t = expo[j] * scale
                    new_row[j] = t
                    col[j] += t
            part_obj[c, 0] = s_ct
            part_obj[c, 1] = s_st
            part_obj[c, 2] = s_h
            part_obj[c, 3] = g_max
            part_obj[c, 4] = g_min


def _chunks(lengths: np.ndarray, widths: np.ndarray, n_threads: int):
    video, start, stop = [], [], []
    for b, (n, w) in enumerate(zip(lengths.tolist(), widths.tolist())):
        size = max(MIN_CHUNK, 4 * w)
        n_chunks = max(1, min(n // size, 4 * n_threads))
        bounds = np.linspace(0, n, n_chunks + 1).astype(np.int64)
        for c in range(n_chunks):
            video.append(b)
            start.append(bounds[c])
            stop.append(bounds[c + 1])
    return np.asarray(video, np.int64), np.asarray(start, np.int64), np.asarray(stop, np.int64)


def solve_rows_constrained(cost: np.ndarray, lengths: np.ndarray, widths: np.ndarray, *, alpha: float, radius: float,
                           eps: float, lambda_actions: float, unbalanced_actions: bool, n_iters: int,
                           step_size: float | None, tol: float | None, n_threads: int):
    """Run the iterations; returns ``(coupling T, objective (B, n+1), n_run, converged, step)``.

    ``cost`` is ``(B, N, K)`` float32/float64 and C-contiguous with zero padding rows.
    The returned ``T`` has rows summing to ``p = 1/N_b`` (not yet rescaled by ``N_b``).
    """
    batch, n_frames, n_actions = cost.shape
    dtype = cost.dtype
    chunk_video, chunk_start, chunk_stop = _chunks(lengths, widths, n_threads)
    n_chunks = len(chunk_video)
    log_q = -math.log(n_actions)
    p = 1.0 / lengths.astype(np.float64)
    valid = np.arange(n_frames)[None, :] < lengths[:, None]

    t_init = np.where(valid, p[:, None] / n_actions, 0.0)[:, :, None]
    t_old = np.array(np.broadcast_to(t_init, cost.shape), dtype=dtype, order="C")  # writable copies
    log_t = np.array(np.broadcast_to(np.log(np.where(valid, t_init[..., 0], 1.0))[:, :, None], cost.shape),
                     dtype=dtype, order="C")
    t_new = np.zeros_like(cost)
    col = np.full((batch, n_actions), 1.0 / n_actions, dtype=np.float64)
    part_col = np.zeros((n_chunks, n_actions), dtype=np.float64)
    part_obj = np.zeros((n_chunks, 5), dtype=np.float64)
    step = np.zeros(batch, dtype=np.float64) if step_size is None else np.full(batch, step_size, dtype=np.float64)
    inv_r = 1.0 / radius

    def col_term_of(col_sums):
        if not unbalanced_actions:
            return np.zeros((batch, n_actions), dtype=np.float64)
        return lambda_actions * (np.log(np.maximum(col_sums, np.finfo(np.float64).tiny)) - log_q + 1.0)

    def objective(obj_parts, col_sums):
        sums = np.zeros((batch, 3))
        np.add.at(sums, chunk_video, obj_parts[:, :3])
        value = (1.0 - alpha) * sums[:, 0] + 0.5 * alpha * sums[:, 1] - eps * sums[:, 2]
        if unbalanced_actions:
            safe = np.maximum(col_sums, np.finfo(np.float64).tiny)
            value = value + lambda_actions * (col_sums * (np.log(safe) - log_q)).sum(axis=1)
        return value

    # chunks split into one group per thread; numba releases the GIL inside the kernel
    groups = [g for g in np.array_split(np.arange(n_chunks), min(n_threads, n_chunks)) if len(g)]
    pool = ThreadPoolExecutor(len(groups)) if len(groups) > 1 else None

    def run_pass(t_from, t_to, col_term, step_now, do_step):
        args = (t_from, log_t, t_to, cost, lengths, widths, chunk_video, chunk_start, chunk_stop)
        tail = (col_term, alpha, inv_r, eps, step_now, do_step, part_col, part_obj)
        if pool is None:
            _pass(*args, groups[0], *tail)
        else:
            for future in [pool.submit(_pass, *args, group, *tail) for group in groups]:
                future.result()

    try:
        trace = []
        converged = np.zeros(batch, dtype=bool)
        n_run = 0
        for it in range(n_iters + 1):
            col_term = col_term_of(col)
            last = it == n_iters
            if it == 0 and step_size is None and not last:
                run_pass(t_old, t_new, col_term, step, False)
                g_max = np.full(batch, -np.inf)
                g_min = np.full(batch, np.inf)
                np.maximum.at(g_max, chunk_video, part_obj[:, 3])
                np.minimum.at(g_min, chunk_video, part_obj[:, 4])
                # same rule and fallback as the torch path (asot.solver.ASOTSolver._automatic_step)
                g_abs = np.maximum(np.abs(g_max), np.abs(g_min))
                floor = math.sqrt(np.finfo(dtype).tiny)
                denom = np.where(g_max > floor, g_max, np.maximum(g_abs, floor))
                step = 4.0 / denom
            if last:
                run_pass(t_old, t_new, col_term, step, False)
                trace.append(objective(part_obj, col))
                break
            run_pass(t_old, t_new, col_term, step, True)
            trace.append(objective(part_obj, col))
            if it > 0 and tol is not None:
                converged = np.abs(trace[-1] - trace[-2]) <= tol * np.maximum(np.abs(trace[-2]), np.finfo(np.float64).tiny)
                if converged.all():
                    break  # t_old (the iterate the converged objective belongs to) is returned
            n_run += 1
            col = np.zeros((batch, n_actions), dtype=np.float64)
            np.add.at(col, chunk_video, part_col)
            t_old, t_new = t_new, t_old
    finally:
        if pool is not None:
            pool.shutdown()
    return t_old, np.stack(trace, axis=1), n_run, converged, step
