r"""Log-domain Sinkhorn-Knopp: the entropic projection onto both marginals, for a padded batch.

Given ``log K`` (``(B, N, K)``, usually ``-C / eps``), the row marginal ``log p`` (``(B, 1, 1)``
or a number) and the column marginal ``log q`` (a number: uniform columns), it alternates

.. math::

    f \leftarrow \log p - \operatorname{LSE}_j(\log K_{ij} + g_j), \qquad
    g \leftarrow \log q - \operatorname{LSE}_i(\log K_{ij} + f_i),

from zero potentials, ending with the column scaling (columns exact, rows approximate), and
returns ``log T = log K + f + g``. Padding rows (``valid`` false) get ``f = -inf`` so they carry
no mass; ``log T`` is set to 0 there. With ``tol`` each video stops on its own once
``max_i |rowsum_i / p_i - 1| <= tol`` (checked every ``check_every`` iterations), so a result
does not depend on its batch-mates. The solver's balanced projection runs a fixed number of
iterations (``tol=None``); the Sinkhorn decoder runs to ``tol``.
"""

from __future__ import annotations

from typing import Any

import torch

__all__ = ["sinkhorn_log"]


def sinkhorn_log(log_kernel: torch.Tensor, valid: torch.Tensor, log_p: Any, log_q: float, n_iters: int,
                 tol: float | None = None, check_every: int = 10) -> torch.Tensor:
    """``log T`` of the Sinkhorn projection of ``exp(log_kernel)`` (see the module docstring).

    Args:
        log_kernel: ``(B, N, K)`` log-kernel; values on padding rows are ignored.
        valid: ``(B, N, 1)`` bool, the valid frames.
        log_p: row marginal ``log p_i`` (``(B, 1, 1)`` tensor or a number).
        log_q: column marginal ``log q_j`` (a number).
        n_iters: (row, column) scaling pairs, at most.
        tol: per-video stopping tolerance on the relative row-marginal error (``None``: run all).
        check_every: iterations between checks of ``tol``.
    """
    log_kernel = log_kernel.masked_fill(~valid, 0.0)
    row_pot = torch.zeros_like(log_kernel[:, :, :1])
    col_pot = torch.zeros_like(log_kernel[:, :1, :])
    active = None if tol is None else torch.ones(log_kernel.shape[0], 1, 1, dtype=torch.bool, device=log_kernel.device)
    for it in range(n_iters):
        new_row = (log_p - torch.logsumexp(log_kernel + col_pot, dim=2, keepdim=True)).masked_fill(~valid, -float("inf"))
        new_col = log_q - torch.logsumexp(log_kernel + new_row, dim=1, keepdim=True)
        if active is None:
            row_pot, col_pot = new_row, new_col
            continue
        row_pot = torch.where(active, new_row, row_pot)
        col_pot = torch.where(active, new_col, col_pot)
        if (it + 1) % check_every == 0:
            rows = torch.logsumexp(log_kernel + row_pot + col_pot, dim=2, keepdim=True) - log_p
            err = (torch.exp(rows) - 1.0).abs().masked_fill(~valid, 0.0).amax(dim=1, keepdim=True)
            active = active & (err > tol)
            if not bool(active.any()):
                break
    return (log_kernel + row_pot + col_pot).masked_fill(~valid, 0.0)
