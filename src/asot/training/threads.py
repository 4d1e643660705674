"""How many CPU threads training uses: one for torch and for the OpenMP/BLAS pools of
scikit-learn and numpy (:data:`TRAIN_THREADS`), set for the duration of :func:`asot.train` /
:func:`asot.predict` and restored afterwards.

Why one: the encoder is a small MLP on a few hundred frames per step and the k-means fits are on
at most :data:`asot.models.kmeans.KMEANS_MAX_FRAMES` frames; each torch operation lasts
microseconds, while a parallel one must wait until every OpenMP worker has been scheduled. On a
2-core machine with anything else running that wait is a time slice (milliseconds), and the
workers' spin afterwards takes the core from the solver's threads. Measured on the shared 2-core
box at load average ~5: one Adam step of the demo's encoder (2 x 256 frames) 1.8-3.3 ms with one
thread against 13.7-14.7 ms with two, and ``asot demo`` 6 min 32 s with the default threads
against 1 min 15 s with one, with the same table. The fused solver kernel takes its thread count
from ``torch.get_num_threads()``, so it runs on the calling thread here too (its training solves
are below its parallel threshold anyway).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from asot._threads import torch_threads

__all__ = ["TRAIN_THREADS", "training_threads"]

#: torch / OpenMP / BLAS threads while training and predicting on the CPU
TRAIN_THREADS = 1


@contextlib.contextmanager
def training_threads(n_threads: int = TRAIN_THREADS) -> Iterator[None]:
    """Run the block with ``n_threads`` torch threads and OpenMP/BLAS pools limited to
    ``n_threads`` (``threadpoolctl``); the previous settings come back afterwards."""
    from threadpoolctl import threadpool_limits

    with torch_threads(int(n_threads)), threadpool_limits(limits=int(n_threads)):
        yield
