"""Run folders: one run at a time (a lock file), and a replacement built beside the old run and
swapped in only when it is complete.

* :class:`RunLock` -- ``RUN/.asot.lock`` holds the owner's pid and host, created exclusively
  (``O_CREAT | O_EXCL``); a second run is refused with :class:`RunFolderBusy`. A lock whose
  process is gone (same host, pid not running) is stale and taken over.
* :func:`staging` -- a new run that replaces a finished one is built in ``RUN/.asot-new``;
  :func:`publish` moves the old run's entries (:data:`RUN_ENTRIES`, nothing else) aside, moves
  the new ones in (``metrics.json``, the completion mark, last) and deletes the old ones. If the
  new run fails or is interrupted, ``RUN/.asot-new`` is removed and the old run is untouched.
* :func:`has_results` -- whether a folder holds something a new run would lose (a
  ``metrics.json`` or checkpoints); :func:`is_run_folder` -- whether it is a run folder at all.
* :func:`staged` -- one output folder of a run (``predictions/``, ``figures/``) built in a hidden
  ``.<name>.partial-<pid>`` beside it and renamed into place only when complete
  (:func:`stage_dir` / :func:`publish_dir`); :func:`clean_stale` -- a new run's removal of the
  previous outputs.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["LOCK_NAME", "NEW_NAME", "OWN_ENTRIES", "RUN_ENTRIES", "RunFolderBusy", "RunLock", "clean_stale", "has_results", "rebased",
           "is_run_folder", "move_activity", "publish", "publish_dir", "remove_leftovers", "stage_dir", "staged", "staging"]

LOCK_NAME = ".asot.lock"
NEW_NAME = ".asot-new"
OLD_NAME = ".asot-old"
#: what a run writes at the top of its folder (publishing replaces these and nothing else)
RUN_ENTRIES = ("config.json", "checkpoints", "logs", "predictions", "segments.csv", "segments.json", "figures", "summary.json",
               "report.html", "metrics.json")
#: the hidden entries of this module (a folder holding only these is empty)
OWN_ENTRIES = (LOCK_NAME, NEW_NAME, OLD_NAME)
#: side run folders inside a run folder: restarts (asot.training.restarts) and the retraining
#: with the stronger prior (asot.training.order_prior)
SIDE_RUNS = (".asot-restarts", ".asot-order")
#: written last (its presence marks a complete run)
COMPLETION_MARK = "metrics.json"


class RunFolderBusy(RuntimeError):
    """Another live process holds the run folder's lock (a failure, not a usage error)."""

    usage = False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    except OSError:
        return True
    return True


def _holder(path: Path) -> tuple[int | None, str]:
    try:
        text = path.read_text().split()
    except (OSError, UnicodeDecodeError):
        return None, ""
    try:
        return int(text[0]), text[1] if len(text) > 1 else ""
    except (ValueError, IndexError):
        return None, ""


class RunLock:
    """An exclusive lock on a run folder (``RUN/.asot.lock``); a context manager."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)
        self.path = self.folder / LOCK_NAME
        self.token = f"{os.getpid()} {socket.gethostname()}\n"
        self.held = False

    def acquire(self) -> "RunLock":
        self.folder.mkdir(parents=True, exist_ok=True)
        for _ in range(3):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                if not self._take_over_stale():
                    pid, host = _holder(self.path)
                    who = f"pid {pid}" + (f" on {host}" if host else "") if pid is not None else "another process"
                    raise RunFolderBusy(
                        f"{self.folder}: in use by another asot run ({who}); wait for it to finish or choose another "
                        f"folder (if no run is going on, delete {self.path})"
                    ) from None
                continue
            with os.fdopen(fd, "w") as fh:
                fh.write(self.token)
            self.held = True
            return self
        raise RunFolderBusy(f"{self.folder}: could not take the lock {self.path}; try again")

    def _take_over_stale(self) -> bool:
        """Remove the lock if its process is gone (same host only); True if it was removed."""
        pid, host = _holder(self.path)
        if pid is None:
            try:  # unreadable or half-written: stale only if old (a writer may be mid-write)
                import time

                if time.time() - self.path.stat().st_mtime < 10:
                    return False
            except FileNotFoundError:
                return True
        elif host != socket.gethostname() or _alive(pid):
            return False
        aside = self.path.with_name(f"{LOCK_NAME}.stale-{os.getpid()}")
        try:
            os.replace(self.path, aside)  # only one taker can move the stale lock
        except FileNotFoundError:
            return True
        if _holder(aside) != (pid, host):  # someone else's fresh lock: put it back
            try:
                os.link(aside, self.path)
            except OSError:
                pass
        aside.unlink(missing_ok=True)
        return True

    def release(self) -> None:
        if self.held:
            try:
                if self.path.read_text() == self.token:
                    self.path.unlink()
            except OSError:
                pass
            self.held = False

    def __enter__(self) -> "RunLock":
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def has_results(folder: Path) -> bool:
    """Whether ``folder`` holds a finished run's ``metrics.json`` or any checkpoint."""
    folder = Path(folder)
    return (folder / COMPLETION_MARK).exists() or any((folder / "checkpoints").glob("*/*.ckpt"))


def remove_leftovers(folder: Path) -> None:
    """Clean up after an earlier run that was killed (``kill -9``) while staging or publishing
    (call with the lock held): a ``.asot-new`` without ``.asot-old`` is an unfinished
    replacement (removed; the old run is in place); both present means the swap of a complete
    replacement was cut short (finished now); a lone ``.asot-old`` is an old run already
    replaced (removed)."""
    folder = Path(folder)
    work, old = folder / NEW_NAME, folder / OLD_NAME
    if work.exists() and old.exists():
        for entry in sorted(work.iterdir(), key=lambda p: p.name == COMPLETION_MARK):
            if not os.path.lexists(folder / entry.name):
                os.replace(entry, folder / entry.name)
    for leftover in (work, old):
        if leftover.exists():
            shutil.rmtree(leftover, ignore_errors=True)


def staging(folder: Path) -> Path:
    """A fresh, empty ``folder/.asot-new`` to build the replacement run in."""
    work = Path(folder) / NEW_NAME
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    return work


def rebased(path: Path | None, source: Path, target: Path) -> Path | None:
    """``path`` moved from under ``source`` to the same place under ``target`` (a path outside
    ``source``, or ``None``, is returned as it is): where a staged file lives once published."""
    if path is None:
        return None
    try:
        return Path(target) / Path(path).relative_to(source)
    except ValueError:
        return path


def move_activity(source: Path, target: Path, activity: str) -> None:
    """Move one activity's ``checkpoints/<activity>`` and ``logs/<activity>`` from the run folder
    ``source`` (a side run: a restart, a retraining) into ``target``, replacing what was there."""
    for sub in ("checkpoints", "logs"):
        if (Path(source) / sub / activity).exists():
            dest = Path(target) / sub / activity
            dest.parent.mkdir(parents=True, exist_ok=True)
            if dest.exists():
                shutil.rmtree(dest)
            shutil.move(str(Path(source) / sub / activity), str(dest))


def publish(work: Path, folder: Path) -> None:
    """Replace the run in ``folder`` by the complete run in ``work`` (see the module doc)."""
    folder, work = Path(folder), Path(work)
    old = folder / OLD_NAME
    if old.exists():
        shutil.rmtree(old)
    old.mkdir()
    (folder / COMPLETION_MARK).unlink(missing_ok=True)  # first: mid-swap the folder is not a finished run
    for name in RUN_ENTRIES:
        if os.path.lexists(folder / name):
            os.replace(folder / name, old / name)
    entries = sorted(work.iterdir(), key=lambda p: p.name == COMPLETION_MARK)
    for entry in entries:
        os.replace(entry, folder / entry.name)
    shutil.rmtree(work, ignore_errors=True)
    shutil.rmtree(old, ignore_errors=True)


def is_run_folder(folder: Path) -> bool:
    """Whether ``folder`` holds the ``config.json`` that ``asot train`` writes."""
    try:
        config = json.loads((Path(folder) / "config.json").read_text())
    except (OSError, ValueError):
        return False
    return isinstance(config, dict) and {"dataset", "preset", "trainer"} <= set(config)


def stage_dir(parent: Path, name: str) -> Path:
    """A fresh, empty hidden ``parent/.<name>.partial-<pid>`` to build ``parent/<name>`` in."""
    tmp = Path(parent) / f".{name}.partial-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    return tmp


def publish_dir(tmp: Path, dest: Path) -> None:
    """Replace ``dest`` by the complete folder ``tmp`` (rename; the old one removed after)."""
    old = None
    if dest.exists():
        old = dest.with_name(f".{dest.name}.old-{os.getpid()}")
        if old.exists():
            shutil.rmtree(old)
        os.replace(dest, old)
    os.replace(tmp, dest)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


@contextmanager
def staged(dest: Path) -> Iterator[Path]:
    """Build the folder ``dest`` as one unit: yields the staging folder, published as ``dest``
    when the block completes; on any error (or interrupt) it is removed and ``dest`` is untouched."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = stage_dir(dest.parent, dest.name)
    try:
        yield tmp
        publish_dir(tmp, dest)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def clean_stale(folder: Path) -> None:
    """A new (non-resumed) run removes the outputs of a previous one before training, its
    checkpoints and logs included (Lightning would keep an old ``last.ckpt`` and save the new
    model beside it as ``last-v1.ckpt``, and ``predict`` would use the old one)."""
    folder = Path(folder)
    (folder / "metrics.json").unlink(missing_ok=True)
    (folder / "summary.json").unlink(missing_ok=True)
    for name in ("predictions", "figures", "checkpoints", "logs"):
        if (folder / name).exists():
            shutil.rmtree(folder / name)
    for p in folder.glob(".*.partial-*"):
        shutil.rmtree(p, ignore_errors=True)
    for name in SIDE_RUNS:  # a killed run's restarts or retraining
        if (folder / name).exists():
            shutil.rmtree(folder / name, ignore_errors=True)
