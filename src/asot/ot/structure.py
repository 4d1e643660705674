"""Problem ingredients that carry temporal structure (spec sections 1, 2 and 4).

* :func:`structure_radius` -- the half-width ``w`` of the banded structure matrix ``Cv``.
* :func:`structure_product` -- ``Cv @ X`` in O(NK) with prefix sums (never builds ``Cv``).
* :func:`temporal_prior` -- the prior ``rho * R`` with ``R_ij = |i/N - j/K|``.

``Cv`` is the N x N matrix with ``Cv[i, k] = 1/r`` when ``1 <= |i - k| <= w`` and 0 otherwise;
``Ca = 1 - I`` is never built either (``T @ Ca = rowsum(T) 1^T - T``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from asot.ot.radius import structure_radius  # the band half-width lives with the radius policy (no torch)

__all__ = ["structure_radius", "structure_product", "dense_structure_matrix", "temporal_prior", "batched_temporal_prior"]


def structure_product(x: torch.Tensor, half_width: torch.Tensor | int, radius: float | torch.Tensor) -> torch.Tensor:
    """``Cv @ X`` by prefix sums, O(NK) whatever the band width (spec section 2).

    .. math:: (C_v X)_i = \\frac{1}{r}\\Big(\\sum_{k=i-w}^{i+w} X_k - X_i\\Big),

    with frames outside ``[0, N)`` contributing zero. Using ``S_0 = 0, S_{i+1} = S_i + X_i``,
    the window sum is ``S[min(i+w+1, N)] - S[max(i-w, 0)]``. The prefix sum is accumulated in
    float64 so that float32 inputs stay accurate at N = 1,000,000.

    Args:
        x: ``(B, N, K)`` (or ``(N, K)``) values; rows beyond a video's length must be zero,
            which makes the padded length harmless.
        half_width: ``w`` per video, an int or a ``(B,)`` integer tensor.
        radius: ``r``, a float or a ``(B,)`` tensor (one per video); the band value is ``1/r``.

    Returns:
        Tensor of the shape and dtype of ``x``.

    Raises:
        TypeError / ValueError naming the argument: ``x`` not a float tensor/array of rank 2 or
        3, ``w`` not integers ``>= 0``, ``r`` not positive, or not one of each per video.
    """
    x, half_width, radius = _checked_product_args(x, half_width, radius)
    return _structure_product(x, half_width, radius)


def _checked_product_args(x: Any, half_width: Any, radius: Any) -> tuple[torch.Tensor, Any, Any]:
    if isinstance(x, np.ndarray):
        x = torch.from_numpy(np.ascontiguousarray(x))
    if not torch.is_tensor(x) or not x.dtype.is_floating_point:
        raise TypeError(f"structure_product: x must be a float tensor or array, got {getattr(x, 'dtype', type(x).__name__)}")
    if x.dim() not in (2, 3):
        raise ValueError(f"structure_product: x must have shape (N, K) or (B, N, K), got {tuple(x.shape)}")
    batch = 1 if x.dim() == 2 else x.shape[0]
    if isinstance(half_width, (int, np.integer)) and not isinstance(half_width, (bool, np.bool_)):
        half_width = int(half_width)
        if half_width < 0:
            raise ValueError(f"structure_product: half_width w must be >= 0, got {half_width}")
    else:
        w = torch.as_tensor(half_width)
        if w.dtype.is_floating_point or w.dtype == torch.bool or w.numel() != batch or w.dim() > 1:
            raise ValueError(f"structure_product: half_width must be an integer or {batch} integers (one per video), "
                             f"got {half_width!r}")
        if bool((w < 0).any()):
            raise ValueError(f"structure_product: half_width w must be >= 0, got {w.tolist()}")
        half_width = w.to(device=x.device, dtype=torch.int64)
    if isinstance(radius, (int, float, np.integer, np.floating)) and not isinstance(radius, (bool, np.bool_)):
        radius = float(radius)
        if not (math.isfinite(radius) and radius > 0):
            raise ValueError(f"structure_product: radius r must be a positive number, got {radius}")
    else:
        r = torch.as_tensor(radius, dtype=torch.float64)
        if r.numel() != batch or r.dim() > 1:
            raise ValueError(f"structure_product: radius must be a number or {batch} numbers (one per video), got {radius!r}")
        if not bool(torch.isfinite(r).all() & (r > 0).all()):
            raise ValueError(f"structure_product: radius r must be positive, got {r.tolist()}")
        radius = r
    return x, half_width, radius


def _structure_product(x: torch.Tensor, half_width: torch.Tensor | int, radius: float | torch.Tensor) -> torch.Tensor:
    """:func:`structure_product` without the argument checks (the solver's inner loop)."""
    squeeze = x.dim() == 2
    if squeeze:
        x = x.unsqueeze(0)
    batch, n_frames, n_actions = x.shape
    acc_dtype = torch.float64
    # time as the last, contiguous dimension: a scan along a strided dimension with few
    # columns is very slow on GPUs (one thread per column) and slower on CPUs too
    x64 = x.to(acc_dtype)
    prefix = torch.nn.functional.pad(torch.cumsum(x64.transpose(1, 2).contiguous(), dim=2), (1, 0))
    if isinstance(half_width, int):
        window = _window_sum_uniform(prefix, int(half_width))
    else:
        w = torch.as_tensor(half_width, device=x.device).reshape(-1, 1, 1)
        idx = torch.arange(n_frames, device=x.device).reshape(1, 1, -1)
        hi = (idx + w + 1).clamp(max=n_frames).expand(batch, n_actions, n_frames)
        lo = (idx - w).clamp(min=0).expand(batch, n_actions, n_frames)
        window = prefix.gather(2, hi) - prefix.gather(2, lo)
    if torch.is_tensor(radius):
        radius = radius.to(device=x.device, dtype=acc_dtype).reshape(-1, 1, 1)
    out = ((window.transpose(1, 2) - x64) / radius).to(x.dtype, memory_format=torch.contiguous_format)
    return out.squeeze(0) if squeeze else out


def _window_sum_uniform(prefix: torch.Tensor, w: int) -> torch.Tensor:
    """``S[min(i+w+1, N)] - S[max(i-w, 0)]`` for every frame ``i`` (one ``w`` for all).

    ``prefix`` is ``(B, K, N + 1)`` with time last; returns ``(B, K, N)``.
    """
    n_frames = prefix.shape[2] - 1
    hi_index = torch.arange(n_frames, device=prefix.device).add_(w + 1).clamp_(max=n_frames)
    lo_index = torch.arange(n_frames, device=prefix.device).sub_(w).clamp_(min=0)
    return prefix.index_select(2, hi_index) - prefix.index_select(2, lo_index)


def dense_structure_matrix(n_frames: int, half_width: int, radius: float, dtype=torch.float64, device=None) -> torch.Tensor:
    """The dense ``N x N`` matrix ``Cv`` (spec section 1): for tests and small problems only."""
    idx = torch.arange(n_frames, device=device)
    dist = (idx[:, None] - idx[None, :]).abs()
    band = (dist >= 1) & (dist <= half_width)
    return band.to(dtype) / radius


def temporal_prior(n_frames: int, n_actions: int, rho: float = 1.0, *, centred: bool = False, dtype=torch.float32,
                   device=None) -> torch.Tensor:
    """Temporal prior ``rho * R`` with ``R_ij = |i/N - j/K|`` (spec section 4), shape ``(N, K)``.

    Frames and actions are indexed from 0, as in the published code: frame ``i`` sits at relative
    time ``i/N`` and action ``j`` is expected around ``j/K``, the START of the ``j``-th of ``K``
    equal parts. ``centred=True`` (not in the paper; the ``default`` preset, ``docs/defaults.md``)
    compares the centres instead, ``R_ij = |(i + 1/2)/N - (j + 1/2)/K|``, so that the prior's
    boundaries fall between equal parts rather than half a part early.
    """
    for name, value in (("n_frames", n_frames), ("n_actions", n_actions)):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"temporal_prior: {name} must be a positive integer, got {value!r}")
    n_frames, n_actions = int(n_frames), int(n_actions)
    if isinstance(rho, (bool, np.bool_)) or not isinstance(rho, (int, float, np.integer, np.floating)) \
            or not math.isfinite(float(rho)) or rho < 0:
        raise ValueError(f"temporal_prior: rho must be a finite non-negative number, got {rho!r}")
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise TypeError(f"temporal_prior: dtype must be a torch floating dtype (e.g. torch.float32), got {dtype!r}")
    if not isinstance(centred, (bool, np.bool_)):
        raise TypeError(f"temporal_prior: centred must be a bool, got {centred!r}")
    whole = torch.ones(1, n_frames, dtype=torch.bool, device=device)  # one video, every frame valid
    return batched_temporal_prior(whole, n_actions, float(rho), centred=bool(centred), dtype=dtype)[0]


def batched_temporal_prior(mask: torch.Tensor, n_actions: int, rho: float = 1.0, *, centred: bool = False,
                           dtype=torch.float32) -> torch.Tensor:
    """``rho * R`` for a padded batch: each video uses its own length ``N_b`` (zero on padding);
    ``centred`` as in :func:`temporal_prior`.

    Args:
        mask: ``(B, N)`` boolean, valid frames first.
    Returns:
        ``(B, N, K)`` tensor.
    """
    half = 0.5 if centred else 0.0
    lengths = mask.sum(dim=1).clamp(min=1).to(torch.float64)
    frames = (torch.arange(mask.shape[1], dtype=torch.float64, device=mask.device)[None, :] + half) / lengths[:, None]
    actions = (torch.arange(n_actions, dtype=torch.float64, device=mask.device) + half) / n_actions
    prior = rho * (frames[:, :, None] - actions[None, None, :]).abs()
    return (prior * mask[:, :, None]).to(dtype)
