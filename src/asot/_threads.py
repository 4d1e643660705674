"""CPU threads: torch's intra-op thread count for the duration of a block, the caller's count
restored after (also on an error): the one save / set / restore used by the solver (one thread
for a small CPU problem on the torch path) and by training (:mod:`asot.training.threads`); and
:func:`default_threads`, the count the fused kernel uses when nobody set one, from
:func:`available_cpus`."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator

__all__ = ["available_cpus", "default_threads", "torch_threads"]


def available_cpus() -> int:
    """The CPUs this process may run on (its affinity mask; the CPU count where there is none)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS, Windows
        return max(1, os.cpu_count() or 1)


def default_threads() -> int:
    """torch's intra-op thread count when torch is loaded (the count :func:`torch_threads` sets,
    so the kernel follows it), else ``OMP_NUM_THREADS`` when it is a positive integer (what
    torch would read), else the CPUs this process may run on. Never imports torch."""
    torch = sys.modules.get("torch")
    if torch is not None:
        return int(torch.get_num_threads())
    value = os.environ.get("OMP_NUM_THREADS", "").strip()
    if value.isdigit() and int(value) > 0:
        return int(value)
    return available_cpus()


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
