"""The ASOT problem: a batch of cost matrices with a frame mask, validated (spec section 1).

The problem only holds ingredients; :mod:`asot.ot.solver` solves it. Costs arrive as numpy arrays
or torch tensors of shape ``(N, K)`` or ``(B, N, K)``; the mask marks valid frames ``(B, N)``
with the valid frames first (videos padded at the end).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from asot._arrays import to_numpy
from asot.ot.checks import check_cost_range, prefix_lengths

__all__ = ["ASOTProblem", "as_problem"]

_FLOAT_DTYPES = (torch.float32, torch.float64)


@dataclass(frozen=True)
class ASOTProblem:
    """A validated, batched problem.

    Attributes:
        cost: ``(B, N, K)`` float32/float64 tensor (padding rows are zero).
        mask: ``(B, N)`` bool tensor, ``True`` on valid frames, each row a non-empty prefix.
        lengths: ``(B,)`` int64 tensor, frames per video ``N_b``.
        batched: whether the user passed a batch (``False``: results are squeezed back).
        radii: per-video structure radius ``r_b`` (fraction of ``N_b``), overriding the
            config's ``radius``/``radius_frames``; ``None`` uses the config.
    """

    cost: torch.Tensor
    mask: torch.Tensor
    lengths: torch.Tensor
    batched: bool
    radii: tuple[float, ...] | None = None

    @property
    def shape(self) -> tuple[int, int, int]:
        return tuple(self.cost.shape)  # type: ignore[return-value]


def _to_tensor(value: Any, name: str, expected: str) -> torch.Tensor:
    """A tensor view of ``value`` (copied only for layouts torch cannot view: negative strides,
    non-native byte order; read-only arrays are viewed, never written)."""
    if torch.is_tensor(value):
        return value
    if not isinstance(value, np.ndarray):
        raise TypeError(f"{name}: expected a numpy array or torch tensor, got {type(value).__name__}")
    if not value.dtype.isnative:
        value = value.astype(value.dtype.newbyteorder("="))
    if any(stride < 0 for stride in value.strides):
        value = value.copy()
    try:
        with warnings.catch_warnings():  # "not writable": asot never writes into its inputs
            warnings.filterwarnings("ignore", message=".*not writable.*")
            return torch.from_numpy(value)
    except TypeError:
        raise TypeError(f"{name}: expected {expected}, got dtype {value.dtype}") from None


def as_problem(cost: Any, mask: Any = None, device: str | torch.device | None = None, radii: Any = None) -> ASOTProblem:
    """Validate ``cost``, ``mask`` and ``radii`` and bring them to the batched form.

    Raises:
        TypeError: ``cost`` is not a float32/float64 array/tensor, or ``mask`` is not boolean.
        ValueError: wrong rank or shape, empty dimensions, NaN/Inf on valid frames, a mask row
            with no valid frame or with valid frames after padding, ``radii`` not one value
            in ``(0, 1]`` per video.
    """
    cost = _to_tensor(cost, "cost", "a float32 or float64 array")
    if cost.dtype not in _FLOAT_DTYPES:
        raise TypeError(
            f"cost: expected a float32 or float64 array, got dtype {str(cost.dtype).replace('torch.', '')}; "
            "convert it, e.g. cost.astype(np.float32)"
        )
    if cost.dim() not in (2, 3):
        raise ValueError(
            f"cost: expected shape (N, K) or (B, N, K), got {cost.dim()} dimension(s) with shape {tuple(cost.shape)}"
        )
    batched = cost.dim() == 3
    if not batched:
        cost = cost.unsqueeze(0)
    batch, n_frames, n_actions = cost.shape
    if batch < 1 or n_frames < 1:
        raise ValueError(f"cost: expected at least one video and one frame, got shape {tuple(cost.shape)}")
    if n_actions < 1:
        raise ValueError(f"cost: expected K >= 1 actions (last dimension), got shape {tuple(cost.shape)}")
    if device is not None:
        cost = cost.to(resolve_device(device))

    if mask is None:
        mask_t = torch.ones(batch, n_frames, dtype=torch.bool, device=cost.device)
        lengths = torch.full((batch,), n_frames, dtype=torch.int64, device=cost.device)
    else:
        mask_t = _to_tensor(mask, "mask", "a boolean array")
        if mask_t.dtype != torch.bool:
            if mask_t.dtype.is_floating_point or mask_t.dtype.is_complex:
                raise TypeError(f"mask: expected a boolean array, got dtype {str(mask_t.dtype).replace('torch.', '')}")
            if ((mask_t != 0) & (mask_t != 1)).any():
                raise TypeError("mask: expected a boolean (or 0/1) array, got other integer values")
            mask_t = mask_t.bool()
        if not batched and mask_t.dim() == 1:
            mask_t = mask_t.unsqueeze(0)
        expected = (batch, n_frames)
        if tuple(mask_t.shape) != expected:
            shown = expected if batched else (n_frames,)
            raise ValueError(f"mask: expected shape {shown} to match cost, got {tuple(mask_t.shape)}")
        lengths = torch.from_numpy(prefix_lengths(to_numpy(mask_t))).to(cost.device)
        mask_t = mask_t.to(cost.device)
        cost = _zero_padding(cost, mask_t)  # padding becomes 0, so only valid frames are checked below
    _check_cost_values(cost)
    return ASOTProblem(cost=cost, mask=mask_t, lengths=lengths, batched=batched, radii=_video_radii(radii, batch))


def resolve_device(device: Any, name: str = "device") -> torch.device:
    """``device`` as a :class:`torch.device`, with a clear error for a malformed name or a CUDA
    device on a machine without CUDA."""
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(f"{name}: expected a torch device such as 'cpu', 'cuda' or 'cuda:1', got {device!r}") from None
    if resolved.type == "meta":
        raise ValueError(f"{name}: 'meta' tensors hold no data; use 'cpu' or 'cuda'")
    if resolved.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"{name}: {device!r} requested but CUDA is not available (torch {torch.__version__}); "
                             "use 'cpu' or install a CUDA build of torch")
        if resolved.index is not None and resolved.index >= torch.cuda.device_count():
            raise ValueError(f"{name}: {device!r} requested but this machine has {torch.cuda.device_count()} CUDA device(s)")
    return resolved


def _video_radii(radii: Any, batch: int) -> tuple[float, ...] | None:
    """``radii`` as a tuple of ``batch`` floats in ``(0, 1]`` (a scalar is accepted for one video)."""
    if radii is None:
        return None
    try:
        values = to_numpy(radii, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise TypeError(f"radii: expected one number per video, got {type(radii).__name__}") from None
    if values.size != batch:
        raise ValueError(f"radii: expected {batch} value(s), one per video, got {values.size}")
    bad = np.flatnonzero(~(np.isfinite(values) & (values > 0) & (values <= 1))).tolist()
    if bad:
        raise ValueError(f"radii: expected 0 < r <= 1 (a fraction of each video's length); videos {bad} are "
                         f"{values[bad].tolist()}")
    return tuple(values.tolist())


# On CPU the helpers below work through numpy: a torch parallel operation here would wake torch's
# OpenMP workers, whose spin-wait afterwards takes a core from the fused kernel's threads (about
# 30% slower on 2 cores; see asot.ot._cpu_kernel).


def _zero_padding(cost: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``cost`` with padding rows set to zero (a new tensor; autograd flows through valid rows)."""
    if cost.device.type == "cpu" and not cost.requires_grad:
        values = cost.numpy()
        return torch.from_numpy(np.where(mask.numpy()[..., None], values, values.dtype.type(0)))
    return cost.masked_fill(~mask[..., None], 0.0)


def _value_range(values: torch.Tensor, on_host: bool | None = None) -> tuple[float, float]:
    """``(min, max)`` of ``values`` (NaN when any is NaN): through numpy on CPU (``on_host``,
    default: whether ``values`` is on the CPU), else one torch reduction; no copy is made."""
    values = values.detach()
    if on_host is None:
        on_host = values.device.type == "cpu"
    if on_host:
        array = values.numpy()
        return float(array.min()), float(array.max())
    low, high = torch.aminmax(values)
    return float(low), float(high)


def _check_cost_values(cost: torch.Tensor) -> None:
    """:func:`asot.ot.checks.check_cost_range` on ``cost``'s valid values (padding is zero)."""
    low, high = _value_range(cost)
    check_cost_range(low, high, np.dtype(str(cost.dtype).replace("torch.", "")))
