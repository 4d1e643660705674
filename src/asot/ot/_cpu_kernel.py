"""Fused CPU kernel for the mirror-descent iterations (spec section 2), compiled with numba.

One pass over the frames does everything an iteration needs: the structure product
``Cv (T Ca)`` by a sliding window (float64 running sums, O(NK) whatever ``w``), the gradient
``G``, the objective's sums, the multiplicative step and the row projection; one compiled
reduction per pass gives the objective and the column sums. The iterations themselves (count,
automatic step, trace, early stop) are :func:`asot.ot.iteration.iterate`'s, which calls
:meth:`KernelIterations.sweep` once per iteration. Each pass is split over a persistent team of
helper threads (:mod:`asot.ot._team`: a helper runs a compiled loop over the passes of a solve,
without the GIL, and takes each pass within a microsecond of its posting) with the calling thread
taking one share, so Python does a handful of calls per iteration and nothing per chunk.
(Threads, not numba's OpenMP ``prange``: its workers spin for long after a parallel region,
collided with torch's own OpenMP pool on a busy 2-core machine and were up to 10x slower there;
the team's helpers spin only between the passes of one solve.) The plain torch path in
:mod:`asot.ot.solver` computes the same thing with ~30 tensor passes per iteration; this kernel
covers the row-constrained variants (unbalanced actions -- the paper's method -- and
``alpha = 0``) on CPU without autograd. Everything else uses the torch path.

With rows constrained, ``rowsum(T) = p`` and ``T Ca = p 1^T - T``, so for frame ``i`` with
window ``[lo, hi]`` (``cnt = hi - lo + 1`` frames)::

    Cv(T Ca)_ij = ((cnt - 1) * p - sum_{k=lo}^{hi} T_kj + T_ij) / r

Memory: ``log T`` is updated in place, ``T`` double-buffered beside it (three arrays of the
cost's size); an iterate of ``IN_PLACE_BYTES`` or more keeps ``log T`` alone and recomputes the
window's ``T`` rows (see :class:`KernelIterations`).

Work split: with several threads a long video is cut into about ``CHUNKS_PER_THREAD`` chunks
per thread (one with ``log T`` alone; each chunk starts its window sum afresh, O(wK)); short videos are whole chunks. The
threads of a pass (the calling thread and the team's helpers) claim chunks from one atomic counter, so
a thread that starts late or is preempted leaves its share to the others, and a batch of 64
small videos is still one task per thread and pass. Within a chunk, frames go in blocks of
``BLOCK`` rows so the element-wise work vectorises (see ``_chunk_pass``); the arithmetic is in
the cost's dtype (float32 costs: 16 float32 lanes per AVX-512 vector), the running window sums,
the objective's sums and the column sums in float64.

The caller should not run torch's own parallel operations just before: torch's OpenMP workers
spin for a few milliseconds after each, and on a 2-core machine that takes a core from these
threads (``OMP_WAIT_POLICY=PASSIVE`` in the environment stops the spinning).
"""

from __future__ import annotations

import math

import numpy as np

from asot.ot.iteration import automatic_step, objective_value

try:  # numba is optional at import time: without it the torch path is used
    from numba import njit
    from numba.core import cgutils, types
    from numba.extending import intrinsic

    from asot.ot._team import await_pass, claim, compile_caller_side, fence, publish
    from asot.ot._team import fetch_add as _fetch_add
    from asot.ot._team import team as _team

    AVAILABLE = True
except ImportError:  # pragma: no cover - exercised only where numba is missing
    AVAILABLE = False

__all__ = ["AVAILABLE", "KernelIterations"]


#: a long video is split into chunks of at least this many frames and at least 4 window widths
MIN_CHUNK = 512

#: with several threads, a long video is cut into about this many chunks per thread: the threads
#: claim chunks as they go, so a thread that starts late or is held up by other processes leaves
#: its chunks to the others instead of stalling the pass; each cut costs a window sum's start
#: (16k x 19, 2 threads, per solve: 10.3 / 10.4 / 10.9 ms at 1 / 2 / 4 chunks per thread)
CHUNKS_PER_THREAD = 2

#: a pass over fewer values (frames x actions, whole batch) runs on the calling thread alone: handing
#: a share to a thread pool and collecting it cost ~25-50 us per pass on a 2-core machine, about the
#: compute of 10-20k values (chosen conservatively low, so only clearly small passes stay serial;
#: the team's hand-off is ~7 us, which would allow less)
MIN_PARALLEL_WORK = 4096

#: an iterate of this many bytes or more is held as log T alone (see :class:`KernelIterations`):
#: 2M x 10 float32 (80 MB) then needs 80 MB for the iterate instead of 240; below, the faster
#: double-buffered T (training batches, videos up to ~800k frames x 10 in float32)
IN_PLACE_BYTES = 32 * 2**20

#: frames per block of the sweep (the element-wise work runs over BLOCK * K contiguous values)
BLOCK = 32

#: a row whose sum of ``exp(x - block max)`` falls below this is shifted by its own max instead
#: (see ``_chunk_pass``): 2^-30, so a row gives up at most 21 of float32's 87 e-folds of range
ROW_SUM_FLOOR = 2.0 ** -30

_TINY64 = float(np.finfo(np.float64).tiny)
_LN2 = math.log(2.0)
#: the bits of sqrt(1/2) as a float64: subtracted from a float64's bits, the exponent field of the
#: result is that of the power of 2 that leaves a mantissa in [sqrt(1/2), sqrt(2))
_SQRT_HALF_BITS = int(np.array(math.sqrt(0.5)).view(np.int64))

#: positions in the per-dtype constant array (see :func:`_constants`)
(_C_ALPHA, _C_BETA, _C_EPS, _C_ZERO, _C_ONE, _C_HALF, _C_NEG_INF, _C_FLOOR, _C_LOG2E, _C_LN2_HI, _C_LN2_LO) = range(11)
_C_POLY = 11  # Taylor coefficients 1/2!, ..., 1/9! of e^r follow


def _constants(dtype, alpha: float, eps: float) -> np.ndarray:
    """The kernel's scalars in the arithmetic dtype (float32 costs: float32 arithmetic, 16 lanes
    per AVX-512 vector instead of 8; float64 costs: float64), so no literal promotes a float32
    expression to float64. ``exp(x)`` is flushed to zero for ``x`` below the floor (float64:
    -708, near the smallest normal 2^-1022; float32: -87, near 2^-126); ``ln 2`` is split so that
    ``n * ln2_hi`` is exact for the ``n`` that occur (Cody-Waite)."""
    if np.dtype(dtype) == np.float32:
        floor, ln2_hi, ln2_lo = -87.0, 0.693359375, -2.12194440e-4
    else:
        floor, ln2_hi, ln2_lo = -708.0, 0.6931471803691238, 1.9082149292705877e-10
    values = [alpha, 1.0 - alpha, eps, 0.0, 1.0, 0.5, -math.inf, floor, 1.4426950408889634, ln2_hi, ln2_lo]
    values += [1.0 / math.factorial(k) for k in range(2, 10)]
    return np.asarray(values, dtype=dtype)


if AVAILABLE:

    @intrinsic
    def _bits_as_float(typingctx, value):  # pragma: no cover - compiled
        """The float of the same width whose bits are the integer ``value`` (int32 -> float32, int64 -> float64)."""
        result = types.float32 if value.bitwidth == 32 else types.float64

        def codegen(context, builder, signature, args):
            return builder.bitcast(args[0], context.get_value_type(signature.return_type))
        return result(value), codegen

    @njit(cache=True, nogil=True, fastmath=True, inline="always")
    def _exp_block(x, out, m, k, offset):  # pragma: no cover - compiled
        """``out[:m] = exp(x[:m] - offset)`` for ``x <= offset``, vectorised (libm's exp is not), 0 below the floor.

        Range reduction ``x = n ln2 + r`` with ``|r| <= ln2 / 2``, a Taylor polynomial for ``e^r``
        and ``2^n`` made directly as the float whose exponent bits are ``n + bias`` (shifted by
        ``shift``: 23/127 for float32, 52/1023 for float64), all in one loop. The degree follows
        the dtype: 7 for float32 (truncation ``(ln2/2)^8 / 8! < 6e-9``, below float32's half ulp
        ``6e-8``), 9 for float64 (truncation ``(ln2/2)^10 / 10! < 7e-12``; relative error < 1e-11).
        """
        floor = k[_C_FLOOR]
        zero = k[_C_ZERO]
        one = k[_C_ONE]
        half = k[_C_HALF]
        log2e = k[_C_LOG2E]
        ln2_hi = k[_C_LN2_HI]
        ln2_lo = k[_C_LN2_LO]
        c2, c3, c4, c5 = k[_C_POLY], k[_C_POLY + 1], k[_C_POLY + 2], k[_C_POLY + 3]
        c6, c7, c8, c9 = k[_C_POLY + 4], k[_C_POLY + 5], k[_C_POLY + 6], k[_C_POLY + 7]
        if out.itemsize == 4:  # a constant per compiled dtype: LLVM keeps one of the two loops
            for q in range(m):
                u = x[q] - offset
                v = max(u, floor)
                n = np.floor(v * log2e + half)
                r = (v - n * ln2_hi) - n * ln2_lo
                p = c2 + r * (c3 + r * (c4 + r * (c5 + r * (c6 + r * c7))))
                scale = _bits_as_float(np.int32((np.int64(n) + 127) << 23))  # numba widens int32 sums
                out[q] = zero if u < floor else (one + r * (one + r * p)) * scale
        else:
            for q in range(m):
                u = x[q] - offset
                v = max(u, floor)
                n = np.floor(v * log2e + half)
                r = (v - n * ln2_hi) - n * ln2_lo
                p = c2 + r * (c3 + r * (c4 + r * (c5 + r * (c6 + r * (c7 + r * (c8 + r * c9))))))
                scale = _bits_as_float((np.int64(n) + 1023) << 52)
                out[q] = zero if u < floor else (one + r * (one + r * p)) * scale

    @njit(cache=True, nogil=True, fastmath=True, inline="always")
    def _block_max(x, m):  # pragma: no cover - compiled
        """``max(x[:m])`` for ``m >= 1``, as eight running maxima: LLVM does not vectorise a max
        reduction here, and one running max is a chain of dependent compares (3-4x slower)."""
        if m < 8:
            best = x[0]
            for q in range(1, m):
                best = x[q] if x[q] > best else best
            return best
        a0, a1, a2, a3, a4, a5, a6, a7 = x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7]
        stop = m - m % 8
        for q in range(8, stop, 8):
            a0 = x[q] if x[q] > a0 else a0
            a1 = x[q + 1] if x[q + 1] > a1 else a1
            a2 = x[q + 2] if x[q + 2] > a2 else a2
            a3 = x[q + 3] if x[q + 3] > a3 else a3
            a4 = x[q + 4] if x[q + 4] > a4 else a4
            a5 = x[q + 5] if x[q + 5] > a5 else a5
            a6 = x[q + 6] if x[q + 6] > a6 else a6
            a7 = x[q + 7] if x[q + 7] > a7 else a7
        for q in range(stop, m):
            a0 = x[q] if x[q] > a0 else a0
        return max(max(max(a0, a1), max(a2, a3)), max(max(a4, a5), max(a6, a7)))

    @njit(cache=True, nogil=True, fastmath=True)
    def _row_by_its_max(xr, er, k):  # pragma: no cover - compiled
        """``er = exp(xr - max(xr))``; returns ``(sum(er), max(xr))``: a row far below its block's max."""
        row_max = _block_max(xr, xr.shape[0])
        _exp_block(xr, er, xr.shape[0], k, row_max)
        z = 0.0
        for j in range(xr.shape[0]):
            z += er[j]
        return z, np.float64(row_max)

    @intrinsic
    def _bits_to_float64(typingctx, value):  # pragma: no cover - compiled
        """The float64 whose bits are the int64 ``value``."""
        def codegen(context, builder, signature, args):
            return builder.bitcast(args[0], context.get_value_type(types.float64))
        return types.float64(types.int64), codegen

    @intrinsic
    def _float64_to_bits(typingctx, value):  # pragma: no cover - compiled
        """The bits of the float64 ``value`` as an int64."""
        def codegen(context, builder, signature, args):
            return builder.bitcast(args[0], context.get_value_type(types.int64))
        return types.int64(types.float64), codegen

    @njit(cache=True, nogil=True, fastmath=True, error_model="numpy")
    def _row_normalisers(row_sum, rows, p, log_p, row_offset, row_shift, row_scale):  # pragma: no cover - compiled
        """``row_shift = log p - log z - offset`` and ``row_scale = p / z`` for the row sums
        ``z = sum_j exp(x_j - offset)`` of a block (positive and normal: ``ROW_SUM_FLOOR <= z <= K``),
        vectorised: ``x + row_shift`` is the row's new ``log T``, ``exp(x - offset) * row_scale`` its ``T``.

        ``z = 2^e f`` with ``f`` in ``[sqrt(1/2), sqrt(2))`` read from the bits, and
        ``log f = 2 atanh(s) = 2 (s + s^3/3 + ... + s^21/21)``, ``s = (f - 1) / (f + 1)``,
        ``|s| <= 0.172`` (within 3 ulp of libm's log). libm's log is not vectorised, and a
        division under numba's default (Python) error model carries a zero check that keeps LLVM
        from vectorising the loop; here neither can occur (``z >= 1``), so the NumPy error model.
        """
        for r in range(rows):
            z = row_sum[r]
            bits = _float64_to_bits(z)
            e = (bits - _SQRT_HALF_BITS) >> 52
            f = _bits_to_float64(bits - (e << 52))
            s = (f - 1.0) / (f + 1.0)
            s2 = s * s
            series = 1.0 / 3.0 + s2 * (1.0 / 5.0 + s2 * (1.0 / 7.0 + s2 * (1.0 / 9.0 + s2 * (1.0 / 11.0 + s2 * (
                1.0 / 13.0 + s2 * (1.0 / 15.0 + s2 * (1.0 / 17.0 + s2 * (1.0 / 19.0 + s2 * (1.0 / 21.0)))))))))
            log_z = np.float64(e) * _LN2 + (s + s) * (1.0 + s2 * series)
            row_shift[r] = log_p - log_z - row_offset[r]
            row_scale[r] = p / z

    @njit(cache=True, nogil=True, inline="always")
    def _slot(i, origin, n_slots, wrap):  # pragma: no cover - compiled
        """Where row ``i``'s old ``T`` is: ``(i - origin) % n_slots`` in a ring, else row ``i``."""
        if wrap:
            return (i - origin) % n_slots
        return i

    @njit(cache=True, nogil=True, fastmath=True)
    def _fill_ring(target, filled, lo, i0, i1, src_rows, halo, left, right, use_halo, ring, n_slots,
                   k):  # pragma: no cover - compiled
        """Old ``T`` of rows ``filled .. target - 1`` into their ring slots (``(row - lo) % n_slots``)
        as ``exp(log T)``, a run of up to ``BLOCK`` rows at a time (one vectorised exp each).

        The rows come from ``src_rows`` (the video's ``log T``), or -- with ``use_halo`` -- rows
        before ``i0`` / from ``i1`` on from the chunk's snapshot in ``halo`` (starting at rows
        ``left`` / ``right``): the neighbouring chunks overwrite those rows during the pass.
        Returns the new ``filled``.
        """
        n_actions = src_rows.shape[1]
        src_flat = src_rows.ravel()
        halo_flat = halo.ravel()
        ring_flat = ring.ravel()
        while filled < target:
            stop = target
            if use_halo and filled < i0:
                source = halo_flat
                first = left + filled - lo
                stop = min(target, i0)
            elif use_halo and filled >= i1:
                source = halo_flat
                first = right + filled - i1
            else:
                source = src_flat
                first = filled
                if use_halo:
                    stop = min(target, i1)
            slot = (filled - lo) % n_slots
            rows = min(BLOCK, stop - filled, n_slots - slot)  # a run never straddles the ring's end
            m = rows * n_actions
            _exp_block(source[first * n_actions:first * n_actions + m], ring_flat[slot * n_actions:slot * n_actions + m],
                       m, k, k[_C_ZERO])
            filled += rows
        return filled

    @njit(cache=True, nogil=True, fastmath=True)
    def _chunk_pass(c, t_old, t_new, lt_old, lt_new, cost, lengths, widths, chunk_video, chunk_start, chunk_stop, halo, halo_left,
                    halo_right, use_halo, col_term, k, inv_r, step, do_step, frozen, part_col, part_obj, acc, col,
                    window, x, expo, col_tile, row_sum, row_offset, row_shift, row_scale, cast, ring, tblk, shift_tile,
                    scale_tile, col_blk, change):  # pragma: no cover - compiled
        """Chunk ``c`` of one sweep: objective sums of the current iterate and (if ``do_step``) the next.

        ``part_obj[c] = (sum C T, sum S T, sum T (1 - log T), max G)``;
        ``part_col[c]`` receives the column sums of the new iterate over the chunk. A ``frozen``
        (converged) video takes no step: ``KernelIterations.keep`` copied its iterate into the other buffer
        when it converged, so both buffers hold it, and its column sums are not used.

        The iterate is ``log T`` (``lt_new is lt_old``: updated in place; a row's new values are
        written after its old ones were read) and, when ``ring`` is ``None``, ``T`` double-buffered in
        ``t_old`` / ``t_new``. With a ``ring`` (the ``log T``-only mode of large problems: one array of the cost's size
        instead of three) ``T`` is not stored: ``exp(log T)`` of the rows the window still needs
        (``w`` behind to ``w`` ahead) sits in a ring of ``n_slots >= BLOCK + 2w + 2`` rows, filled
        just ahead of the window, and rows of neighbouring chunks come from the halo snapshot
        taken before the pass (``use_halo``).

        Frames go in blocks of ``BLOCK`` rows: the rows of a block are contiguous, so the
        element-wise work (gradient, objective sums, exp) runs as flat loops of ``BLOCK * K``
        that vectorise, where rows of K = 10..25 alone do not (a per-row loop over four or more
        arrays is not vectorised at all: LLVM's run-time overlap checks do not pay for K values);
        only the running window sum and the row sums go row by row (the exp is shifted by the
        block's max). The arithmetic is in the cost's dtype
        (``k``, the scratch arrays); the window sums, the objective sums (per block) and the
        column sums accumulate in float64.
        """
        n_actions = cost.shape[2]
        b = chunk_video[c]
        i0 = chunk_start[c]
        i1 = chunk_stop[c]
        n = lengths[b]
        w = widths[b]
        p = 1.0 / n
        log_p = -math.log(n)
        cast[0] = step[b]
        s = cast[0]
        cast[0] = inv_r[b]
        band = cast[0]
        alpha = k[_C_ALPHA]
        beta = k[_C_BETA]
        eps = k[_C_EPS]
        one = k[_C_ONE]
        zero = k[_C_ZERO]
        lt_rows = lt_old[b]
        lt_flat = lt_rows.ravel()
        c_flat = cost[b].ravel()
        lt_new_flat = lt_new[b].ravel()
        left = halo_left[c]
        right = halo_right[c]
        # (rows, K) views of the block scratch; indices below are loop counters or slices, so numba
        # adds no negative-index fix-up and the flat loops load contiguously (not by gathers)
        window2 = window.reshape(BLOCK, n_actions)
        x2 = x.reshape(BLOCK, n_actions)
        expo2 = expo.reshape(BLOCK, n_actions)
        tblk2 = tblk.reshape(BLOCK, n_actions)
        frozen_video = do_step and frozen[b]
        lo = max(i0 - w, 0)
        # old T of row i at t_flat[_slot(i) * K:]: ring slot (i - lo) % n_slots (log T only) or
        # row i of t_old (flat views of C arrays either way: one type, no copy)
        if ring is not None:  # the log T-only mode (a type: each mode compiled apart, branches pruned)
            t_flat = ring.ravel()
            n_slots = ring.shape[0]
            origin = lo
            filled = _fill_ring(min(i0 + w, n - 1) + 1, lo, lo, i0, i1, lt_rows, halo, left, right, use_halo, ring,
                                n_slots, k)
        else:
            t_flat = t_old[b].ravel()
            n_slots = t_old.shape[1]
            origin = 0
            filled = 0
        new_flat = t_new[b].ravel()
        # the window sum of the chunk's first row: rows lo .. i0 + w, contiguous in t_flat (rows of
        # t_old, or ring slots from 0: at most 2w + 1 <= n_slots of them), summed as a flat loop into
        # the float64 tile col_blk (one block of rows at a time), then over its row slots
        col_blk[:] = 0.0
        init_at = _slot(lo, origin, n_slots, ring is not None) * n_actions
        init_size = (min(i0 + w, n - 1) + 1 - lo) * n_actions
        size = BLOCK * n_actions
        for start in range(0, init_size, size):
            part = t_flat[init_at + start:init_at + min(start + size, init_size)]
            for q in range(part.shape[0]):
                col_blk[q] += part[q]
        acc[:] = 0.0
        for r in range(BLOCK):
            for j in range(n_actions):
                acc[j] += col_blk[r * n_actions + j]
        col_blk[:] = 0.0
        for r in range(BLOCK):
            for j in range(n_actions):
                col_tile[r * n_actions + j] = col_term[b, j]
        s_ct = 0.0
        s_st = 0.0
        s_h = 0.0
        g_max = -np.inf
        for first in range(i0, i1, BLOCK):
            rows = min(BLOCK, i1 - first)
            m = rows * n_actions
            off = first * n_actions
            if ring is not None:
                filled = _fill_ring(min(first + rows - 1 + w, n - 1) + 1, filled, lo, i0, i1, lt_rows, halo, left,
                                    right, use_halo, ring, n_slots, k)
            slot = _slot(first, origin, n_slots, ring is not None)
            if slot + rows <= n_slots:  # the block's old T, contiguous (always, unless in the ring)
                tb = t_flat[slot * n_actions:slot * n_actions + m]
            else:  # the block straddles the ring's end: copied out
                for r in range(rows):
                    at = _slot(first + r, origin, n_slots, ring is not None) * n_actions
                    for j in range(n_actions):
                        tblk2[r, j] = t_flat[at + j]
                tb = tblk[:m]
            ltb = lt_flat[off:off + m]
            cb = c_flat[off:off + m]
            # window[i, j] = (cnt_i - 1) p - sum_{k in window(i)} T_kj, a running sum over the rows:
            # row i adds row i + w and drops row i - w - 1. In a block whose rows all do both, the
            # differences of those rows are one flat loop over two contiguous row ranges, and the
            # running sum takes one loop per row (a loop per row for each of add, drop and write
            # was ~25% of a pass)
            interior = first > i0 and first - w - 1 >= 0 and first + rows - 1 + w <= n - 1
            if interior:
                add_at = _slot(first + w, origin, n_slots, ring is not None)
                drop_at = _slot(first - w - 1, origin, n_slots, ring is not None)
                interior = add_at + rows <= n_slots and drop_at + rows <= n_slots  # neither range wraps the ring
            if interior:
                entering = t_flat[add_at * n_actions:add_at * n_actions + m]
                leaving = t_flat[drop_at * n_actions:drop_at * n_actions + m]
                for q in range(m):
                    change[q] = np.float64(entering[q]) - np.float64(leaving[q])
                base = 2 * w * p
                for r in range(rows):
                    delta = change[r * n_actions:(r + 1) * n_actions]
                    out = window2[r]
                    for j in range(n_actions):
                        running = acc[j] + delta[j]
                        acc[j] = running
                        out[j] = base - running
            else:  # the other blocks, row by row
                for r in range(rows):
                    i = first + r
                    if i > i0:
                        if i + w <= n - 1:
                            at = _slot(i + w, origin, n_slots, ring is not None) * n_actions
                            for j in range(n_actions):
                                acc[j] += t_flat[at + j]
                        if i - w - 1 >= 0:
                            at = _slot(i - w - 1, origin, n_slots, ring is not None) * n_actions
                            for j in range(n_actions):
                                acc[j] -= t_flat[at + j]
                    base = (min(i + w, n - 1) - max(i - w, 0)) * p
                    out = window2[r]
                    for j in range(n_actions):
                        out[j] = base - acc[j]
            b_ct = zero
            b_st = zero
            b_h = zero
            if do_step:  # x = log T - s G
                for q in range(m):
                    t = tb[q]
                    lt = ltb[q]
                    cq = cb[q]
                    struct = (window[q] + t) * band
                    g = alpha * struct + beta * cq + eps * lt + col_tile[q]
                    b_ct += cq * t
                    b_st += struct * t
                    b_h += t * (one - lt)
                    x[q] = lt - s * g
            else:  # evaluation pass: the sums and max G
                for q in range(m):
                    t = tb[q]
                    lt = ltb[q]
                    cq = cb[q]
                    struct = (window[q] + t) * band
                    g = alpha * struct + beta * cq + eps * lt + col_tile[q]
                    b_ct += cq * t
                    b_st += struct * t
                    b_h += t * (one - lt)
                    x[q] = g
                g_max = max(g_max, _block_max(x, m))
            s_ct += b_ct
            s_st += b_st
            s_h += b_h
            if not do_step or frozen_video:  # a frozen video: both buffers already hold its iterate
                continue
            # exp(x - max) with the block's max (one flat loop); a row whose own max lies far below
            # it (its sum z < ROW_SUM_FLOOR) is redone with its own max, so every row keeps at
            # least 87 - 21 of float32's 87 (e-folds) below its largest value
            x_max = _block_max(x, m)
            _exp_block(x, expo, m, k, x_max)
            for r in range(rows):  # row projection: rows of the new iterate sum to p
                er = expo2[r]
                z = 0.0
                for j in range(n_actions):
                    z += er[j]
                row_sum[r] = z
                row_offset[r] = x_max
            for r in range(rows):  # (kept apart: in the loop above, the rare branch slowed every pass ~15%)
                if row_sum[r] < ROW_SUM_FLOOR:
                    row_sum[r], row_offset[r] = _row_by_its_max(x2[r], expo2[r], k)
            _row_normalisers(row_sum, rows, p, log_p, row_offset, row_shift, row_scale)
            # the write-back as flat loops over the block, each touching few arrays: one loop that
            # wrote log T, T and the column sums row by row was not vectorised (LLVM's run-time
            # alias checks between its arrays) and took ~35% of a pass; the row scalars are
            # broadcast into tiles first
            for r in range(rows):
                shift = row_shift[r]
                scale = row_scale[r]
                for j in range(n_actions):
                    shift_tile[r * n_actions + j] = shift
                    scale_tile[r * n_actions + j] = scale
            lt_out = lt_new_flat[off:off + m]
            for q in range(m):
                lt_out[q] = x[q] + shift_tile[q]
            for q in range(m):
                expo[q] *= scale_tile[q]
            if ring is None:
                out = new_flat[off:off + m]
                for q in range(m):
                    out[q] = expo[q]
            for q in range(m):  # column sums per (row slot, action), in float64; summed over slots below
                col_blk[q] += expo[q]
        col[:] = 0.0
        for r in range(BLOCK):
            for j in range(n_actions):
                col[j] += col_blk[r * n_actions + j]
        part_col[c] = col
        part_obj[c, 0] = s_ct
        part_obj[c, 1] = s_st
        part_obj[c, 2] = s_h
        part_obj[c, 3] = g_max

    @njit(cache=True, nogil=True, fastmath=True)
    def _sweep(counter, t_old, t_new, lt_old, lt_new, cost, lengths, widths, chunk_video, chunk_start, chunk_stop, halo, halo_left,
               halo_right, use_halo, col_term, k, inv_r, step, do_step, frozen, part_col, part_obj,
               ring):  # pragma: no cover - compiled
        """One thread's part of a pass: it claims chunks from ``counter`` (shared by the threads of
        the pass, 0 at its start) until none is left. Each chunk writes only its own ``part_col[c]``
        and ``part_obj[c]`` (and its own rows of ``lt_new``), so the result does not depend on which
        thread ran which chunk. ``ring`` is this thread's ring of old rows (``None`` in the
        stored-T mode: numba compiles the pass once per type, so each mode's code has none of the
        other's branches; a runtime flag cost the stored-T mode 10-25%, measured with
        ``benchmarks/solver_ab.py``)."""
        n_actions = cost.shape[2]
        dtype = k.dtype
        size = BLOCK * n_actions
        acc = np.empty(n_actions)
        col = np.empty(n_actions)
        window = np.empty(size, dtype)
        x = np.empty(size, dtype)
        expo = np.empty(size, dtype)
        col_tile = np.empty(size, dtype)
        tblk = np.empty(size, dtype)
        shift_tile = np.empty(size, dtype)
        scale_tile = np.empty(size, dtype)
        col_blk = np.empty(size)
        change = np.empty(size)
        row_sum = np.empty(BLOCK)
        row_offset = np.empty(BLOCK)
        row_shift = np.empty(BLOCK, dtype)
        row_scale = np.empty(BLOCK, dtype)
        cast = np.empty(1, dtype)
        n_chunks = chunk_video.shape[0]
        while True:
            c = _fetch_add(counter, 1)
            if c >= n_chunks:
                break
            _chunk_pass(c, t_old, t_new, lt_old, lt_new, cost, lengths, widths, chunk_video, chunk_start, chunk_stop, halo, halo_left,
                        halo_right, use_halo, col_term, k, inv_r, step, do_step, frozen, part_col, part_obj, acc, col,
                        window, x, expo, col_tile, row_sum, row_offset, row_shift, row_scale, cast, ring, tblk,
                        shift_tile, scale_tile, col_blk, change)

    @njit(cache=True, nogil=True)
    def _serve(cells, helper, seen, job, reads, counter, t0, t1, lt0, lt1, cost, lengths, widths, chunk_video, chunk_start,
               chunk_stop, halo, halo_left, halo_right, term0, term1, k, inv_r, step, frozen, part_col, part_obj, labels,
               flags, ring):  # pragma: no cover - compiled
        """A team helper's loop over the passes of one solve (see :mod:`asot.ot._team`): wait for a
        pass, claim this helper's share, run it with the pass's buffers, publish; return the last
        generation seen when the team gives the helper back. ``flags`` (written by the caller before
        it posts the pass): the current buffer, ``do_step``, ``use_halo``, and the kind of pass --
        0 a :func:`_sweep`, 1 / 2 the final :func:`_coupling_and_labels` from ``T`` / ``log T``."""
        while True:
            generation = await_pass(cells, seen, job, reads)
            if generation == seen:
                return seen
            seen = generation
            if not claim(cells, helper, generation):
                continue
            fence()  # the flags, step and arrays of this pass are read after the claim (see _team.fence)
            first = flags[0] == 0  # the current iterate is in the first buffer of each pair
            t_old, t_new = (t0, t1) if first else (t1, t0)
            if flags[3] != 0:
                _coupling_and_labels(counter, t_old, flags[3] == 2, lengths, labels, k, chunk_video, chunk_start,
                                     chunk_stop)
            else:
                lt_old, lt_new = (lt0, lt1) if first else (lt1, lt0)
                _sweep(counter, t_old, t_new, lt_old, lt_new, cost, lengths, widths, chunk_video, chunk_start,
                       chunk_stop, halo, halo_left, halo_right, flags[2] != 0, term0 if first else term1, k, inv_r, step,
                       flags[1] != 0, frozen, part_col, part_obj, ring)
            fence()  # every write of the share is done before it is published
            publish(cells, helper, generation)

    @njit(cache=True, nogil=True)
    def _save_halos(lt, lengths, widths, chunk_video, chunk_start, chunk_stop, halo, halo_left,
                    halo_right):  # pragma: no cover - compiled
        """The rows each chunk reads from its neighbours (``w`` before its start, ``w`` from its
        end), copied before a pass that updates ``lt`` in place."""
        for c in range(chunk_video.shape[0]):
            b = chunk_video[c]
            i0 = chunk_start[c]
            i1 = chunk_stop[c]
            n = lengths[b]
            w = widths[b]
            lo = max(i0 - w, 0)
            for i in range(lo, i0):
                halo[halo_left[c] + i - lo, :] = lt[b, i, :]
            for i in range(i1, min(i1 + w, n)):
                halo[halo_right[c] + i - i1, :] = lt[b, i, :]

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

    @njit(cache=True, nogil=True, fastmath=True)
    def _coupling_and_labels(counter, lt, from_log, lengths, labels, k, chunk_video, chunk_start,
                             chunk_stop):  # pragma: no cover - compiled
        """``lt <- N_b exp(lt)`` (``from_log``) or ``N_b lt`` in place: the coupling (valid rows
        sum to 1; padding rows 0), and ``labels = argmax_j`` of each row (-1 on padding). Chunk by
        chunk, claimed from ``counter`` like the passes' (a video's last chunk clears its padding)."""
        n_actions = lt.shape[2]
        scratch = np.empty(BLOCK * n_actions, lt.dtype)
        n_chunks = chunk_video.shape[0]
        while True:
            c = _fetch_add(counter, 1)
            if c >= n_chunks:
                break
            b = chunk_video[c]
            n = lengths[b]
            flat = lt[b].ravel()
            for first in range(chunk_start[c], chunk_stop[c], BLOCK):
                rows = min(BLOCK, chunk_stop[c] - first)
                m = rows * n_actions
                off = first * n_actions
                if from_log:
                    _exp_block(flat[off:off + m], scratch, m, k, k[_C_ZERO])
                else:
                    scratch[:m] = flat[off:off + m]
                for r in range(rows):
                    best = 0
                    row = off + r * n_actions
                    for j in range(n_actions):
                        # compared as stored: ``scratch * n`` is float64 (``n`` an integer), and
                        # two values equal once rounded to float32 must keep the first (argmax)
                        flat[row + j] = scratch[r * n_actions + j] * n
                        if flat[row + j] > flat[row + best]:
                            best = j
                    labels[b, first + r] = best
            if chunk_stop[c] == n:
                for i in range(n, lt.shape[1]):
                    lt[b, i, :] = 0.0
                    labels[b, i] = -1


def _chunks(lengths: np.ndarray, widths: np.ndarray, n_threads: int, n_actions: int, per_thread: int = CHUNKS_PER_THREAD):
    """Chunks ``(video, start, stop)`` and the number of threads a pass uses.

    With one thread every video is one chunk. With several, a video holding more than about a
    thread's share of the frames is cut into about ``per_thread`` chunks per thread's share
    (each chunk starts its window sum afresh, O(wK)), and the threads claim chunks as they go.
    The chunks depend on ``n_threads`` and ``per_thread`` only, so a result does not depend on
    whether the team is used: a pass over fewer than ``MIN_PARALLEL_WORK`` values runs on the
    calling thread alone.
    """
    video, start, stop = [], [], []
    total = int(lengths.sum())
    split = per_thread * n_threads if n_threads > 1 else 1
    for b, (n, w) in enumerate(zip(lengths.tolist(), widths.tolist())):
        size = max(MIN_CHUNK, 4 * w)
        n_chunks = max(1, min(n // size, round(split * n / total)))
        if n_chunks == 1:  # most videos of a batch: no cut to compute
            video.append(b)
            start.append(0)
            stop.append(n)
            continue
        bounds = np.linspace(0, n, n_chunks + 1).astype(np.int64).tolist()
        video.extend([b] * n_chunks)
        start.extend(bounds[:-1])
        stop.extend(bounds[1:])
    n_tasks = max(1, min(n_threads, len(video)))
    if total * n_actions < MIN_PARALLEL_WORK:
        n_tasks = 1
    return np.asarray(video, np.int64), np.asarray(start, np.int64), np.asarray(stop, np.int64), n_tasks


def _halo_layout(lengths: np.ndarray, widths: np.ndarray, chunk_video: np.ndarray, chunk_start: np.ndarray,
                 chunk_stop: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Where each chunk's snapshot of its neighbours' rows starts in the halo array: ``(left,
    right, total rows)``; the ``w`` rows before a chunk and the ``w`` rows after it, clipped to
    the video (a video that is one chunk has none)."""
    n = lengths[chunk_video]
    w = widths[chunk_video]
    before = chunk_start - np.maximum(chunk_start - w, 0)
    after = np.minimum(chunk_stop + w, n) - chunk_stop
    ends = np.cumsum(np.stack([before, after], axis=1).reshape(-1))
    starts = np.concatenate([[0], ends[:-1]]).reshape(-1, 2)
    return np.ascontiguousarray(starts[:, 0]), np.ascontiguousarray(starts[:, 1]), int(ends[-1]) if len(ends) else 0


class KernelIterations:
    """The fused kernel as a backend of :func:`asot.ot.iteration.iterate` (rows constrained,
    unbalanced actions; ``alpha = 0`` included).

    ``cost`` is ``(B, N, K)`` float32/float64 and C-contiguous with zero padding rows. Each
    :meth:`sweep` is one pass over the frames (split over ``n_threads`` threads) and one compiled
    reduction. The iterate's ``log T`` is updated in place, or double-buffered when
    ``keep_iterates`` (with ``tol``: a converged batch ends on the iterate its objective belongs
    to). ``T`` itself is double-buffered beside it, unless the iterate takes ``IN_PLACE_BYTES``
    or more (``from_log``): then ``T = exp(log T)`` is recomputed for the rows a pass reads
    (one more exp per value, 5-20% slower; memory one array of the cost's size instead of three),
    a long video is cut into one chunk per thread, and the ``w`` rows around each cut are copied
    before each pass (the halo: the neighbours read them as they were).
    """

    def __init__(self, cost: np.ndarray, lengths: np.ndarray, widths: np.ndarray, radii: np.ndarray, *, alpha: float,
                 eps: float, lambda_actions: float, curvature: float, n_iters: int, keep_iterates: bool, n_threads: int):
        batch, n_frames, n_actions = cost.shape
        self.cost = cost
        self.lengths = lengths = np.ascontiguousarray(lengths, dtype=np.int64)
        self.widths = widths = np.ascontiguousarray(widths, dtype=np.int64)
        self.from_log = from_log = cost.nbytes >= IN_PLACE_BYTES
        chunks = _chunks(lengths, widths, max(1, int(n_threads)), n_actions, 1 if from_log else CHUNKS_PER_THREAD)
        self.chunk_video, self.chunk_start, self.chunk_stop, self.n_tasks = chunks
        self.counter = np.zeros(1, dtype=np.int64)  # the next chunk to claim in a pass
        start = (1.0 / lengths.astype(np.float64)) / n_actions  # the uniform start T = p / K, per video
        log_t = np.zeros_like(cost)  # its log; 0 on padding rows
        for b, n in enumerate(lengths.tolist()):
            log_t[b, :n] = np.log(start[b])
        self.lt = (log_t, np.zeros_like(cost) if keep_iterates else log_t)
        if from_log:  # no T arrays: the pass takes the log T arrays in their place and writes none
            self.t = self.lt
        else:
            t_start = np.zeros_like(cost)
            for b, n in enumerate(lengths.tolist()):
                t_start[b, :n] = start[b]
            self.t = (t_start, np.zeros_like(cost))
        # in place from log T only, some videos cut: the rows around the cuts, copied before a pass
        self.halo_left, self.halo_right, halo_rows = _halo_layout(lengths, widths, *chunks[:3])
        self.halo = np.zeros((halo_rows if from_log and not keep_iterates else 0, n_actions), dtype=cost.dtype)
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
        self.team = _team(self.n_tasks - 1) if self.n_tasks > 1 else None
        self.constants = _constants(cost.dtype, self.alpha, self.eps)
        # per task: the ring of old T rows (a window of 2w + 1 rows and a block ahead)
        # (``None`` in the stored-T mode: the passes are compiled for that type, the ring's branches pruned)
        if from_log:
            n_slots = max(1, min(BLOCK + 2 * int(widths.max(initial=0)) + 2, n_frames))
            self.ring = np.zeros((self.n_tasks, n_slots, n_actions), dtype=cost.dtype)
        else:
            self.ring = [None] * self.n_tasks
        self._columns = [(self.col[now], self.col[1 - now], self.term[1 - now]) for now in (0, 1)]
        # a pass as the team's helpers read it: the step and the pass's flags (current buffer,
        # do_step, use_halo) in arrays the caller fills before it posts the pass, and every array
        # of the solve, for the helpers' compiled loop (``_serve``)
        self.step = np.zeros(batch)
        self.flags = np.zeros(4, dtype=np.int64)
        self.labels = np.empty((batch, n_frames), dtype=np.int64)
        self._serve_args = (self.counter, self.t[0], self.t[1], self.lt[0], self.lt[1], cost, lengths, widths,
                            self.chunk_video, self.chunk_start, self.chunk_stop, self.halo, self.halo_left,
                            self.halo_right, self.term[0], self.term[1], self.constants, self.inv_r, self.step,
                            self.frozen, self.part_col, self.part_obj, self.labels, self.flags)

    def compile_team_loop(self) -> None:
        """Compile the helpers' loop (``_serve``) for this problem's types without a team: with no
        read allowed it returns at once (see :func:`asot.ot.kernel_backend.compile_in_background`)."""
        _serve(np.zeros((8, 8), np.int64), 0, 0, 0, 0, *self._serve_args, self.ring[0])
        compile_caller_side()

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
        # one compiled sweep runs the chunks whether or not the team is used (the same machine code,
        # so the result is the same bits either way)
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
        """One pass over every chunk: the calling thread and the team's ``n_tasks - 1`` helpers claim chunks."""
        now = self.current
        use_halo = do_step and self.halo.shape[0] > 0  # in place, and some video is cut
        if use_halo:
            _save_halos(self.lt[now], self.lengths, self.widths, self.chunk_video, self.chunk_start, self.chunk_stop,
                        self.halo, self.halo_left, self.halo_right)
        self.step[:] = step
        args = (self.counter, self.t[now], self.t[1 - now], self.lt[now], self.lt[1 - now], self.cost, self.lengths, self.widths, self.chunk_video,
                self.chunk_start, self.chunk_stop, self.halo, self.halo_left, self.halo_right, use_halo,
                self.term[now], self.constants, self.inv_r, self.step, do_step, self.frozen, self.part_col, self.part_obj,
                self.ring[0])
        self._split(_sweep, args, (now, do_step, use_halo, 0))

    def _split(self, share, args: tuple, flags: tuple, last: bool = False) -> None:
        """``share(*args)`` on the calling thread while the team's helpers run their shares of the
        same pass (``_serve`` reads ``flags``: the current buffer, ``do_step``, ``use_halo``, the
        kind of pass); alone without a team. ``last``: the solve's final pass, the helpers rest."""
        self.counter[0] = 0
        team = self.team
        if team is None:
            share(*args)
            return
        with team.lock:
            if team.job is None or team.job[1] is not self._serve_args:
                team.post((_serve, self._serve_args, self.ring))
            self.flags[:] = flags
            generation = team.start_pass()
            try:
                share(*args)
            finally:
                team.finish_pass(generation)
                if last:
                    team.rest()

    def coupling_and_labels(self) -> tuple[np.ndarray, np.ndarray]:
        """The current iterate as ``ASOTResult.coupling`` (``N_b T``: valid rows sum to 1; 0 on
        padding), computed in place of its ``log T`` (or ``T``), and its row-wise argmax (-1 on
        padding), split over the threads like a pass. This ends the iterations: the team's helpers
        rest, and the pass scratch is released."""
        now = self.current
        coupling = self.t[now]  # the log T arrays themselves in the log T-only mode
        args = (self.counter, coupling, self.from_log, self.lengths, self.labels, self.constants, self.chunk_video,
                self.chunk_start, self.chunk_stop)
        self._split(_coupling_and_labels, args, (now, 0, 0, 2 if self.from_log else 1), last=True)
        self.ring = self.halo = self._serve_args = None
        return coupling, self.labels
