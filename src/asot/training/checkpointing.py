"""Checkpoints of a training run: when they are written, how many are kept, how they are written.

* ``last.ckpt`` after every epoch (so an interrupted run loses at most the epoch in progress;
  a mid-epoch state is not saved, as resuming from it would not reproduce the uninterrupted
  run), plus ``epochNNN.ckpt`` of the last :data:`DEFAULT_KEEP` epochs (``keep``; ``-1``: all).
* Every checkpoint is written atomically (:func:`atomic_checkpoint_io`): a full disk or an
  interrupt never leaves a half-written, unloadable file, and a full disk is a
  :class:`~asot.io.atomic.DiskFullError` naming the folder.
* :func:`check_checkpoint` -- a checkpoint to resume from must be readable (one-line error).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["DEFAULT_KEEP", "atomic_checkpoint_io", "check_checkpoint", "checkpoint_callback"]

#: epoch checkpoints kept besides last.ckpt
DEFAULT_KEEP = 3


def checkpoint_callback(ckpt_dir: Path, keep: int = DEFAULT_KEEP) -> Any:
    """Lightning's ``ModelCheckpoint``: ``last.ckpt`` every epoch, the newest ``keep`` epoch files."""
    from asot.training.atomic_checkpoint_io import RunCheckpoint as ModelCheckpoint

    if isinstance(keep, bool) or not isinstance(keep, int) or keep < -1:
        raise ValueError(f"keep_checkpoints: expected an integer >= 0 (or -1 for all), got {keep!r}")
    # the newest `keep` by training step = the last `keep` epochs
    return ModelCheckpoint(dirpath=str(ckpt_dir), filename="epoch{epoch:03d}", auto_insert_metric_name=False,
                           monitor="step", mode="max", save_top_k=keep, every_n_epochs=1, save_last=True,
                           save_on_train_epoch_end=True)  # fmt: skip


def atomic_checkpoint_io() -> Any:
    """A Lightning checkpoint I/O plugin (``Trainer(plugins=[...])``) that writes every checkpoint
    atomically: ``torch.save`` into a temporary file beside it, then rename."""
    from asot.training.atomic_checkpoint_io import AtomicCheckpointIO

    return AtomicCheckpointIO()


def check_checkpoint(path: Path) -> None:
    """Raise ``ValueError`` naming ``path`` when it is not a loadable checkpoint (truncated, empty,
    not a checkpoint at all), before training tries to resume from it."""
    import torch

    path = Path(path)
    try:
        state = torch.load(path, map_location="cpu", weights_only=False, mmap=True)
    except Exception as err:  # noqa: BLE001 - truncated zip, pickle error, EOF: all "unreadable"
        raise ValueError(f"{path}: the checkpoint to resume from is unreadable or truncated ({type(err).__name__}: "
                         f"{' '.join(str(err).split())[:200]}); delete it to start over, or restore it") from None
    if not isinstance(state, dict) or "state_dict" not in state:
        raise ValueError(f"{path}: not a Lightning checkpoint (no state_dict); delete it to start over")
