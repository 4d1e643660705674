"""torch's intra-op thread count for the duration of a block, the caller's count restored after
(also on an error): the one save / set / restore used by the solver (one thread for a small CPU
problem on the torch path) and by training (:mod:`asot.training.threads`)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

__all__ = ["torch_threads"]


@contextlib.contextmanager
def torch_threads(n_threads: int | None) -> Iterator[None]:
    """``torch.set_num_threads(n_threads)`` inside the block; ``None`` (or the current count)
    changes nothing."""
    import torch

    before = torch.get_num_threads()
    if n_threads is None or int(n_threads) == before:
        yield
        return
    torch.set_num_threads(int(n_threads))
    try:
        yield
    finally:
        torch.set_num_threads(before)
