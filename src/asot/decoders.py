r"""Decoders: from a frame-to-class cost matrix to a segmentation, behind one interface.

Every decoder maps a cost ``C`` (``N x K``, lower is better; see :mod:`asot.scores` for turning
probabilities, logits or affinities into costs) to per-frame labels ``(N,)``:

==============  ===========================================================================
name            what it does
==============  ===========================================================================
``asot``        the ASOT solver (:func:`asot.solve`), then ``argmax`` of the coupling
``argmax``      per frame, the class of minimum cost (no temporal reasoning)
``sinkhorn``    balanced entropic OT (every class gets ``N/K`` frames), then ``argmax`` --
                the Sinkhorn-Knopp pseudo-labels of TOT / SwAV-style clustering
``viterbi``     ordered decoding of CTE / TOT: each class of a fixed order occupies at most
                one contiguous segment, in that order (an HMM with a left-to-right topology)
``median``      ``argmax``, then a sliding majority (mode) filter over a window of frames
==============  ===========================================================================

Use a decoder object (``ASOTDecoder(config)``, ``ViterbiDecoder(order=...)``, ...) or the
registry::

    >>> import numpy as np
    >>> from asot.decoders import decode, get_decoder
    >>> cost = np.random.default_rng(0).random((50, 4))
    >>> decode(cost, "median", window=5).shape
    (50,)
    >>> get_decoder("viterbi").decode(cost).labels.shape
    (50,)

All decoders accept one video ``(N, K)`` or a padded batch ``(B, N, K)`` with a prefix mask
``(B, N)`` (like :func:`asot.solve`), as numpy arrays or torch tensors; labels are int64 with
``-1`` on padding. :meth:`Decoder.decode_many` decodes a list of videos of different lengths in
batches. ``asot`` and ``sinkhorn`` also return their soft coupling (rows sum to 1).
"""

from __future__ import annotations

import math
from abc import ABC
from dataclasses import dataclass
from typing import Any, Callable, ClassVar, Iterable, Sequence

import numpy as np

from asot._arrays import is_tensor
from asot._arrays import to_numpy as _to_numpy
from asot.ot.config import SolverConfig
from asot.presets import DEFAULT_DECODE_CONFIG
from asot.ot.checks import prefix_lengths

__all__ = [
    "DEFAULT_DECODE_CONFIG",
    "Decoded",
    "Decoder",
    "ASOTDecoder",
    "ArgmaxDecoder",
    "SinkhornDecoder",
    "ViterbiDecoder",
    "MedianDecoder",
    "DECODERS",
    "get_decoder",
    "decode",
    "estimate_order",
    "viterbi_ordered",
    "mode_filter",
    "pad_batch",
]

#: the Sinkhorn decoder checks its marginal error every this many iterations
SINKHORN_CHECK_EVERY = 10


@dataclass(frozen=True)
class Decoded:
    """A decoder's output.

    Attributes:
        labels: ``(N,)`` or ``(B, N)`` int64 class per frame, ``-1`` on padding.
        coupling: ``(N, K)`` / ``(B, N, K)`` float soft assignment whose rows sum to 1 (zero on
            padding) for decoders that have one (``asot``, ``sinkhorn``), else ``None``.
    """

    labels: np.ndarray
    coupling: np.ndarray | None = None


# -- input handling -------------------------------------------------------------------------


def _batch(cost: Any, mask: Any) -> tuple[np.ndarray, np.ndarray, bool]:
    """``(B, N, K)`` float array, ``(B,)`` lengths, and whether the input was batched."""
    array = _to_numpy(cost)
    if array.dtype not in (np.float32, np.float64):
        if not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)) or array.dtype == np.bool_:
            raise TypeError(f"cost: expected a numeric array, got dtype {array.dtype}")
        array = array.astype(np.float64)
    if array.ndim not in (2, 3):
        raise ValueError(f"cost: expected shape (N, K) or (B, N, K), got {array.ndim} dimension(s) with shape {array.shape}")
    batched = array.ndim == 3
    if not batched:
        array = array[None]
    batch, n_frames, n_classes = array.shape
    if batch < 1 or n_frames < 1 or n_classes < 1:
        raise ValueError(f"cost: expected at least one video, frame and class, got shape {array.shape}")
    if mask is None:
        lengths = np.full(batch, n_frames, dtype=np.int64)
    else:
        m = _to_numpy(mask).astype(bool)
        if m.ndim == 1 and not batched:
            m = m[None]
        if m.shape != (batch, n_frames):
            shown = (batch, n_frames) if batched else (n_frames,)
            raise ValueError(f"mask: expected shape {shown} to match cost, got {m.shape}")
        lengths = prefix_lengths(m)
    for b, n in enumerate(lengths):
        rows = array[b, :n]  # min and max are NaN / infinite exactly when some value is (no mask array)
        if not (np.isfinite(rows.min()) and np.isfinite(rows.max())):
            raise ValueError(f"cost: video {b} contains NaN or Inf on valid frames")
    return array, lengths, batched


def pad_batch(costs: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
    """Stack videos ``(N_b, K)`` into a zero-padded ``(B, max N_b, K)`` array and a prefix mask."""
    arrays = [_to_numpy(c) for c in costs]
    if not arrays:
        raise ValueError("pad_batch: expected at least one video")
    n_classes = {a.shape[1] for a in arrays}
    if len(n_classes) != 1 or any(a.ndim != 2 for a in arrays):
        raise ValueError(f"pad_batch: expected (N, K) arrays with one K, got shapes {[a.shape for a in arrays]}")
    dtype = np.result_type(*[a.dtype for a in arrays])
    longest = max(a.shape[0] for a in arrays)
    if len(arrays) == 1:  # nothing to pad: a view of the video (a 2M-frame video is not copied)
        return np.ascontiguousarray(arrays[0], dtype=dtype)[None], np.ones((1, longest), dtype=bool)
    out = np.zeros((len(arrays), longest, arrays[0].shape[1]), dtype=dtype)
    mask = np.zeros((len(arrays), longest), dtype=bool)
    for b, a in enumerate(arrays):
        out[b, : a.shape[0]] = a
        mask[b, : a.shape[0]] = True
    return out, mask


def _resolve_device(device: Any) -> Any:
    """:func:`asot.ot.problem.resolve_device` (imports torch: only when a device is given)."""
    from asot.ot.problem import resolve_device

    return resolve_device(device)


# -- the interface --------------------------------------------------------------------------


class Decoder(ABC):
    """Common interface: ``decoder.decode(cost, mask) -> Decoded``, ``decoder(cost) -> labels``.

    Subclasses implement :meth:`_decode_video` (one unpadded video) and, where batching pays,
    :meth:`_decode_batch`. Hyperparameters are set in ``__init__`` and never changed by
    decoding; :meth:`fit` (optional) estimates data-dependent state from a set of videos.
    """

    name: ClassVar[str] = ""
    #: whether :meth:`decode` returns a soft coupling
    has_coupling: ClassVar[bool] = False
    #: whether :meth:`decode_many` should pad videos into batches (else one video at a time)
    batched: ClassVar[bool] = False

    def fit(self, costs: Iterable[Any]) -> "Decoder":
        """Estimate data-dependent state from many videos (no-op for most decoders)."""
        return self

    def decode(self, cost: Any, mask: Any = None) -> Decoded:
        """Decode one video ``(N, K)`` or a padded batch ``(B, N, K)`` with a prefix mask."""
        array, lengths, batched = _batch(cost, mask)
        labels, coupling = self._decode_batch(array, lengths)
        if not batched:
            return Decoded(labels[0], None if coupling is None else coupling[0])
        return Decoded(labels, coupling)

    def __call__(self, cost: Any, mask: Any = None) -> np.ndarray:
        return self.decode(cost, mask).labels

    def decode_many(
        self,
        costs: Sequence[Any],
        batch_size: int = 16,
        callback: Callable[[int, Decoded], None] | None = None,
        keep: bool = True,
    ) -> list[Decoded]:
        """Decode videos of different lengths (and possibly different K), in input order.

        Videos with the same number of classes are padded into batches of up to ``batch_size``
        (sorted by length to limit padding) when the decoder batches; results do not depend on
        the batching. ``callback(index, decoded)`` is called as each video finishes (progress
        bars, incremental writing). ``keep=False``: each result is dropped once its callback
        has run (the list returned holds ``None``), so the outputs of only one batch are held.
        """
        if batch_size < 1:
            raise ValueError(f"batch_size: expected an integer >= 1, got {batch_size}")
        arrays = [_to_numpy(c) for c in costs]
        results: list[Decoded | None] = [None] * len(arrays)
        size = batch_size if self.batched else 1
        groups: dict[int, list[int]] = {}
        for i, a in enumerate(arrays):
            if a.ndim != 2:
                raise ValueError(f"video {i}: expected a 2-D cost (N, K), got shape {a.shape}")
            groups.setdefault(a.shape[1], []).append(i)
        order = [i for k in groups for i in sorted(groups[k], key=lambda j: arrays[j].shape[0])]
        for start in range(0, len(order), size):
            chunk = order[start : start + size]
            if len({arrays[i].shape[1] for i in chunk}) != 1:  # chunk straddles two K groups
                sub = [[i for i in chunk if arrays[i].shape[1] == k] for k in dict.fromkeys(arrays[i].shape[1] for i in chunk)]
            else:
                sub = [chunk]
            for part in sub:
                padded, mask = pad_batch([arrays[i] for i in part])
                out = self.decode(padded, mask)
                whole = len(part) == 1  # one unpadded video: its arrays are the result (no copy)
                for b, i in enumerate(part):
                    n = arrays[i].shape[0]
                    coupling = None if out.coupling is None else out.coupling[b, :n]
                    decoded = Decoded(out.labels[b, :n] if whole else out.labels[b, :n].copy(),
                                      coupling if coupling is None or whole else coupling.copy())  # fmt: skip
                    if callback is not None:
                        callback(i, decoded)
                    if keep:
                        results[i] = decoded
                del out, padded, mask
        return results  # type: ignore[return-value]

    def _decode_batch(self, cost: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        batch, n_frames, n_classes = cost.shape
        labels = np.full((batch, n_frames), -1, dtype=np.int64)
        coupling = np.zeros(cost.shape, dtype=cost.dtype) if self.has_coupling else None
        for b in range(batch):
            n = int(lengths[b])
            lab, soft = self._decode_video(cost[b, :n])
            labels[b, :n] = lab
            if coupling is not None and soft is not None:
                coupling[b, :n] = soft
        return labels, coupling

    def _decode_video(self, cost: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        raise NotImplementedError

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({params})"


# -- asot -----------------------------------------------------------------------------------


class ASOTDecoder(Decoder):
    """ASOT (:func:`asot.solve`): temporally consistent, unbalanced OT; labels = argmax coupling.

    Args:
        config: solver settings; default :data:`DEFAULT_DECODE_CONFIG` (eval settings).
        device: torch device to solve on (``None``: CPU, or where a tensor input lives).
        **overrides: config fields to change, e.g. ``eps=0.02``.
    """

    name = "asot"
    has_coupling = True
    batched = True

    def __init__(self, config: SolverConfig | None = None, device: Any = None, **overrides: Any) -> None:
        config = DEFAULT_DECODE_CONFIG if config is None else config
        if not isinstance(config, SolverConfig):
            raise TypeError(f"config: expected a SolverConfig, got {type(config).__name__}")
        self.config = config.replace(**overrides) if overrides else config
        self.device = None if device is None else _resolve_device(device)

    def decode(self, cost: Any, mask: Any = None) -> Decoded:
        """On the CPU, a numpy input the fused kernel solves (:func:`asot.ot.kernel_backend.applies`)
        goes straight to the kernel's numpy backend, without torch; anything else through
        :func:`asot.solve`. Both give the same result (the solver runs the same backend)."""
        if not is_tensor(cost):
            array, lengths, batched = _batch(cost, mask)
            if self.device is None or self.device.type == "cpu":
                from asot.ot import kernel_backend  # local: keeps `import asot.decoders` light

                if kernel_backend.applies(self.config):
                    solution = kernel_backend.solve_batch(kernel_backend.prepare(array, lengths), lengths, self.config)
                    if not batched:
                        return Decoded(solution.labels[0], solution.coupling[0])
                    return Decoded(solution.labels, solution.coupling)
            if not batched:
                array = array[0]
            mask = None if (lengths == array.shape[-2]).all() else (np.arange(array.shape[-2])[None, :] < lengths[:, None])
            cost = array
        from asot.ot.solver import solve

        result = solve(cost, mask, self.config, device=self.device)
        return Decoded(_to_numpy(result.labels), _to_numpy(result.coupling))


# -- argmax ---------------------------------------------------------------------------------


class ArgmaxDecoder(Decoder):
    """Per-frame minimum cost (= argmax probability): the no-temporal-reasoning baseline."""

    name = "argmax"
    batched = True

    def _decode_batch(self, cost: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, None]:
        labels = cost.argmin(axis=2).astype(np.int64)
        labels[np.arange(cost.shape[1])[None, :] >= lengths[:, None]] = -1
        return labels, None


# -- sinkhorn -------------------------------------------------------------------------------


class SinkhornDecoder(Decoder):
    r"""Balanced entropic OT: ``min <C, T> - eps H(T)`` s.t. ``T 1 = 1/N``, ``T^T 1 = 1/K``.

    Solved by log-domain Sinkhorn-Knopp (:func:`asot.ot.sinkhorn.sinkhorn_log`: alternating row and
    column scalings of ``exp(-C / eps)``, ending with the column scaling so the class marginal is
    exact) until the
    row marginals are within ``tol`` (relative, checked every 10 iterations), at most
    ``n_iters`` iterations; labels are the argmax of the coupling. This is how TOT (and SwAV-style
    clustering) makes pseudo-labels: an equipartition of frames over classes, with no notion of
    time. SwAV-style clustering stops after 3 iterations; here the default iterates until every
    row marginal is within 0.1 % (at most 100 iterations; on probability costs the labels settle
    after about 50), so the equipartition really holds.

    Args:
        eps: entropy weight, in units of the cost (costs in ``[0, 1]``: 0.05 is sharp).
        n_iters: maximum number of (row, column) scaling pairs (fewer once the marginal
            error is within ``tol``), as ``SolverConfig.n_iters`` is a maximum.
        tol: stop when ``max_i |N * rowsum_i - 1| <= tol``.
        device: torch device.
    """

    name = "sinkhorn"
    has_coupling = True
    batched = True

    def __init__(self, eps: float = 0.05, n_iters: int = 100, tol: float = 1e-3, device: Any = None) -> None:
        if not (isinstance(eps, (int, float)) and eps > 0 and math.isfinite(eps)):
            raise ValueError(f"eps: expected a positive number, got {eps!r}")
        if not (isinstance(n_iters, int) and n_iters >= 1):
            raise ValueError(f"n_iters: expected an integer >= 1, got {n_iters!r}")
        if not (isinstance(tol, (int, float)) and tol >= 0):
            raise ValueError(f"tol: expected a non-negative number, got {tol!r}")
        self.eps = float(eps)
        self.n_iters = n_iters
        self.tol = float(tol)
        self.device = None if device is None else _resolve_device(device)

    def _decode_batch(self, cost: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        import torch

        from asot.ot.sinkhorn import sinkhorn_log

        c = torch.as_tensor(cost, dtype=torch.float64, device=self.device)
        batch, n_frames, n_classes = c.shape
        n = torch.as_tensor(lengths, device=c.device)
        valid = (torch.arange(n_frames, device=c.device)[None, :] < n[:, None])[..., None]  # (B, N, 1)
        # subtracting each row's minimum changes no coupling (the row scaling absorbs it)
        shifted = (c - c.amin(dim=2, keepdim=True)).masked_fill(~valid, 0.0)
        log_p = (-torch.log(n.to(torch.float64))).reshape(batch, 1, 1)
        log_t = sinkhorn_log(-shifted / self.eps, valid, log_p, -math.log(n_classes), self.n_iters, self.tol,
                             SINKHORN_CHECK_EVERY)
        coupling = (torch.exp(log_t) * n.to(torch.float64).reshape(batch, 1, 1)).masked_fill(~valid, 0.0)
        labels = coupling.argmax(dim=2).masked_fill(~valid[..., 0], -1)
        return labels.cpu().numpy(), coupling.cpu().numpy().astype(cost.dtype)


# -- viterbi --------------------------------------------------------------------------------


def estimate_order(costs: Any, lengths: Sequence[int] | None = None) -> list[int]:
    """A class order from the mean relative time of each class's argmax frames.

    Args:
        costs: one video ``(N, K)``, or a sequence of videos (pooled: the order of a set of
            videos of one activity, as CTE/TOT estimate it), or a padded ``(B, N, K)`` with
            ``lengths``.

    Returns:
        The classes that are the per-frame minimum cost (argmax) on at least one frame, sorted
        by the mean of ``(i + 0.5) / N`` over those frames (ties: lower class first). Classes
        never chosen by argmax are left out.
    """
    if isinstance(costs, (list, tuple)):
        videos = [_to_numpy(c) for c in costs]
    else:
        array = _to_numpy(costs)
        if array.ndim == 2:
            videos = [array]
        elif array.ndim == 3:
            lens = [array.shape[1]] * array.shape[0] if lengths is None else list(lengths)
            videos = [array[b, : int(n)] for b, n in enumerate(lens)]
        else:
            raise ValueError(f"costs: expected (N, K), (B, N, K) or a list of (N, K), got shape {array.shape}")
    if not videos:
        raise ValueError("costs: expected at least one video")
    n_classes = videos[0].shape[1]
    total = np.zeros(n_classes)
    count = np.zeros(n_classes)
    for v in videos:
        if v.ndim != 2 or v.shape[1] != n_classes:
            raise ValueError(f"costs: expected (N, {n_classes}) videos, got shape {v.shape}")
        n = v.shape[0]
        arg = v.argmin(axis=1)
        rel = (np.arange(n) + 0.5) / n
        np.add.at(total, arg, rel)
        np.add.at(count, arg, 1)
    present = np.flatnonzero(count > 0)
    mean_time = total[present] / count[present]
    return [int(c) for c in present[np.argsort(mean_time, kind="stable")]]


def viterbi_ordered(cost: np.ndarray, order: Sequence[int], allow_skip: bool = True) -> np.ndarray:
    r"""Minimum-cost segmentation that visits the classes of ``order`` left to right.

    Each class in ``order`` occupies at most one contiguous segment (exactly one when
    ``allow_skip`` is ``False``), segments appear in the given order, and the total cost
    ``sum_i C[i, label_i]`` is minimised: the MAP path of a left-to-right HMM with emission
    costs ``C`` (use ``-log p`` costs for a probabilistic reading) and no transition or length
    cost. With ``allow_skip`` the path may start at any class and jump over classes.

    Exact dynamic programming in O(N M) time and memory (M = ``len(order)``): a segment of class
    ``m`` covering frames ``s..i`` costs ``S[i+1, m] - S[s, m]`` with ``S`` the prefix sum over
    time, so the best segment start for every ``i`` is a running minimum (vectorised over
    time, one pass per class in the order).

    Raises:
        ValueError: empty or invalid order, or ``allow_skip=False`` with fewer frames than
            classes in the order (no feasible path).
    """
    cost = np.asarray(cost, dtype=np.float64)
    n_frames, n_classes = cost.shape
    order = [int(c) for c in order]
    if not order:
        raise ValueError("order: expected at least one class")
    bad = [c for c in order if not 0 <= c < n_classes]
    if bad or len(set(order)) != len(order):
        raise ValueError(f"order: expected distinct classes in [0, {n_classes}), got {order}")
    n_states = len(order)
    if not allow_skip and n_frames < n_states:
        raise ValueError(
            f"viterbi: {n_frames} frames cannot hold {n_states} ordered segments without skipping; "
            "use allow_skip=True or a shorter order"
        )
    emissions = cost[:, order]
    prefix = np.zeros((n_frames + 1, n_states))
    np.cumsum(emissions, axis=0, out=prefix[1:])
    best = np.empty((n_frames, n_states))  # D[i, m]: best cost of frames 0..i ending in state m
    entry = np.empty((n_frames, n_states))  # B[s, m]: best cost before a segment of m starts at s
    running_prev = np.full(n_frames, np.inf)  # min over allowed predecessors of D[:, m']
    for m in range(n_states):
        before = np.empty(n_frames)
        before[0] = 0.0 if (allow_skip or m == 0) else np.inf
        if m == 0:
            before[1:] = np.inf
        else:
            before[1:] = running_prev[:-1]
        entry[:, m] = before
        best[:, m] = prefix[1:, m] + np.minimum.accumulate(before - prefix[:-1, m])
        running_prev = np.minimum(running_prev, best[:, m]) if allow_skip else best[:, m]

    labels = np.empty(n_frames, dtype=np.int64)
    end = n_frames - 1
    state = int(np.argmin(best[end])) if allow_skip else n_states - 1
    while True:
        starts = entry[: end + 1, state] - prefix[: end + 1, state]
        start = int(np.argmin(starts))
        labels[start : end + 1] = order[state]
        if start == 0:
            break
        end = start - 1
        state = int(np.argmin(best[end, :state])) if allow_skip else state - 1
    return labels


class ViterbiDecoder(Decoder):
    """Ordered decoding with a fixed class order (the HMM decoding of CTE / TOT).

    Args:
        order: the class order: a sequence of class ids; ``"video"`` (default) to estimate it
            per video from the mean relative time of each class's argmax frames
            (:func:`estimate_order`); ``"global"`` to estimate one order from all videos given
            to :meth:`fit` (CTE/TOT estimate one order per activity); falls back to per-video
            estimation when not fitted.
        allow_skip: classes of the order may be absent from a video (default). With ``False``
            every class of the order gets at least one frame.

    Each class of the order forms at most one contiguous segment, so repeated actions cannot be
    represented -- the limitation of ordered decoding that ASOT removes.
    """

    name = "viterbi"

    def __init__(self, order: Sequence[int] | str = "video", allow_skip: bool = True) -> None:
        if isinstance(order, str):
            if order not in ("video", "global"):
                raise ValueError(f"order: expected 'video', 'global' or a sequence of class ids, got {order!r}")
        else:
            order = [int(c) for c in order]
            if not order or len(set(order)) != len(order) or min(order) < 0:
                raise ValueError(f"order: expected distinct non-negative class ids, got {order}")
        self.order = order
        self.allow_skip = bool(allow_skip)
        self.order_: list[int] | None = None

    def fit(self, costs: Iterable[Any]) -> "ViterbiDecoder":
        """Estimate the global order from many videos (used when ``order="global"``)."""
        if self.order == "global":
            self.order_ = estimate_order(list(costs))
        return self

    def _decode_video(self, cost: np.ndarray) -> tuple[np.ndarray, None]:
        if isinstance(self.order, list):
            order = self.order
            if max(order) >= cost.shape[1]:
                raise ValueError(f"order: class {max(order)} is out of range for K = {cost.shape[1]}")
        elif self.order == "global" and self.order_ is not None:
            order = self.order_
        else:
            order = estimate_order(cost)
        return viterbi_ordered(cost, order, self.allow_skip), None


# -- median ---------------------------------------------------------------------------------


def mode_filter(labels: np.ndarray, window: int, n_classes: int | None = None) -> np.ndarray:
    """Sliding majority vote over ``window`` frames (the categorical median filter).

    Each frame takes the most frequent label within ``window // 2`` frames on either side (the
    window is truncated at the ends); ties keep the frame's own label when it is among the
    most frequent, else the lowest class. O(N K) with cumulative counts.
    """
    labels = np.asarray(labels, dtype=np.int64)
    if labels.ndim != 1:
        raise ValueError(f"labels: expected a 1-D array, got shape {labels.shape}")
    if not isinstance(window, (int, np.integer)) or window < 1 or window % 2 == 0:
        raise ValueError(f"window: expected an odd integer >= 1 (frames), got {window!r}")
    n = labels.shape[0]
    if window == 1 or n == 0:
        return labels.copy()
    if labels.min() < 0:
        raise ValueError("labels: expected non-negative class ids")
    k = int(labels.max()) + 1 if n_classes is None else int(n_classes)
    half = window // 2
    onehot = np.zeros((n + 1, k), dtype=np.int32)
    onehot[np.arange(1, n + 1), labels] = 1
    counts_cum = np.cumsum(onehot, axis=0)
    hi = np.minimum(np.arange(n) + half + 1, n)
    lo = np.maximum(np.arange(n) - half, 0)
    counts = counts_cum[hi] - counts_cum[lo]
    top = counts.max(axis=1)
    own = counts[np.arange(n), labels]
    return np.where(own == top, labels, counts.argmax(axis=1)).astype(np.int64)


class MedianDecoder(Decoder):
    """``argmax``, then :func:`mode_filter` over ``window`` frames (odd; default 15).

    The classic smoothing baseline: removes flips shorter than about ``window / 2`` frames but
    shifts no boundary by more than that and cannot merge longer spurious segments.
    """

    name = "median"

    def __init__(self, window: int = 15) -> None:
        if not isinstance(window, (int, np.integer)) or isinstance(window, bool) or window < 1 or window % 2 == 0:
            raise ValueError(f"window: expected an odd integer >= 1 (frames), got {window!r}")
        self.window = int(window)

    def _decode_video(self, cost: np.ndarray) -> tuple[np.ndarray, None]:
        return mode_filter(cost.argmin(axis=1), self.window, cost.shape[1]), None


# -- registry -------------------------------------------------------------------------------

#: name -> decoder class, in the order tables list them
DECODERS: dict[str, type[Decoder]] = {
    cls.name: cls for cls in (ASOTDecoder, ArgmaxDecoder, SinkhornDecoder, ViterbiDecoder, MedianDecoder)
}


def get_decoder(name: str, **options: Any) -> Decoder:
    """The decoder registered as ``name`` (see :data:`DECODERS`), built with ``options``."""
    try:
        cls = DECODERS[name]
    except KeyError:
        raise ValueError(f"unknown decoder {name!r}; expected one of {', '.join(DECODERS)}") from None
    return cls(**options)


def decode(cost: Any, method: str = "asot", mask: Any = None, **options: Any) -> np.ndarray:
    """Labels ``(N,)`` / ``(B, N)`` of ``cost`` by decoder ``method`` built with ``options``.

    >>> import numpy as np
    >>> decode(np.array([[0.0, 1.0], [1.0, 0.0]]), "argmax").tolist()
    [0, 1]
    """
    return get_decoder(method, **options).decode(cost, mask).labels
