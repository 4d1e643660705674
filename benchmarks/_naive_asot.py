"""A naive ASOT solver that does what the published code does (the benchmark's baseline).

Same math as ``../shared/spec/ASOT.md`` section 2 for the paper's variant (unbalanced actions,
rows constrained, automatic step ``4 / max G`` per video at the first iteration), written the
obvious way:

* ``Cv @ X`` as a ``(2w+1)``-tap ``torch.nn.functional.conv1d`` along time (O(N w K)), with
  the centre tap zero and the other taps ``1/r``, zero padding at both ends;
* the objective ``F(T)`` evaluated after every iteration, which costs a second structure
  product (the published code's trace);
* the multiplicative step on ``T`` itself, ``T <- T * exp(-s G)``, then each row rescaled to
  ``p = 1/N``.

Only unpadded batches (every video of the same length) are supported: that is all the
benchmark needs. Returns ``(T * N, objective trace)``.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def _radius(n_frames: int, r: float) -> int:
    return max(1, int(math.floor(n_frames * r + 1e-9)))


def conv_structure_product(x: torch.Tensor, w: int, r: float) -> torch.Tensor:
    """``Cv @ X`` for ``x`` (B, N, K) by a (2w+1)-tap convolution along N."""
    batch, n_frames, n_actions = x.shape
    taps = torch.full((1, 1, 2 * w + 1), 1.0 / r, dtype=x.dtype, device=x.device)
    taps[0, 0, w] = 0.0
    signal = x.permute(0, 2, 1).reshape(batch * n_actions, 1, n_frames)
    out = F.conv1d(signal, taps, padding=w)
    return out.reshape(batch, n_actions, n_frames).permute(0, 2, 1)


def naive_asot(cost: torch.Tensor, *, eps: float = 0.07, alpha: float = 0.3, radius: float = 0.04,
               lambda_actions: float = 0.05, n_iters: int = 25) -> tuple[torch.Tensor, torch.Tensor]:
    """Solve ASOT (unbalanced actions) for ``cost`` (N, K) or (B, N, K) the naive way."""
    squeeze = cost.dim() == 2
    if squeeze:
        cost = cost.unsqueeze(0)
    batch, n_frames, n_actions = cost.shape
    dtype = cost.dtype
    w = _radius(n_frames, radius)
    p = 1.0 / n_frames
    q = 1.0 / n_actions
    tiny = torch.finfo(dtype).tiny

    def grad_transport(t):
        t_ca = t.sum(dim=2, keepdim=True) - t
        return alpha * conv_structure_product(t_ca, w, radius) + (1.0 - alpha) * cost

    def objective(t):  # second structure product, as in the published code
        t_ca = t.sum(dim=2, keepdim=True) - t
        gw = (conv_structure_product(t_ca, w, radius) * t).sum(dim=(1, 2))
        log_t = torch.log(t.clamp_min(tiny))
        col = t.sum(dim=1)
        kl = (col * (torch.log(col.clamp_min(tiny)) - math.log(q))).sum(dim=1)
        entropy = (t * (1.0 - log_t)).sum(dim=(1, 2))
        return 0.5 * alpha * gw + (1.0 - alpha) * (cost * t).sum(dim=(1, 2)) + lambda_actions * kl - eps * entropy

    t = torch.full_like(cost, p * q)
    trace = [objective(t)]
    step = None
    for _ in range(n_iters):
        col = t.sum(dim=1, keepdim=True)
        grad = (grad_transport(t) + eps * torch.log(t.clamp_min(tiny))
                + lambda_actions * (torch.log(col.clamp_min(tiny)) - math.log(q) + 1.0))
        if step is None:
            step = 4.0 / grad.reshape(batch, -1).amax(dim=1).reshape(batch, 1, 1)
        t = t * torch.exp(-step * grad)
        t = t / t.sum(dim=2, keepdim=True) * p
        trace.append(objective(t))
    out = t * n_frames
    objective_trace = torch.stack(trace, dim=1)
    return (out[0], objective_trace[0]) if squeeze else (out, objective_trace)
