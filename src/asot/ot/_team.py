"""A team of helper threads for the fused kernel's passes, handed each pass in about a microsecond.

A pass of the kernel on 2 threads takes ~0.35 ms at 16k x 19. Handing a helper its share
through a ``ThreadPoolExecutor`` (a queue and a condition: the futex wake of a sleeping thread)
took 45-50 us there and back on a 2-vCPU KVM guest, and each time a helper left compiled code it
waited another ~20 us for the GIL: two threads gained 1.34x where ``torch.exp`` gains 1.86x
(``benchmarks/solver.py``). Here the hot path has neither:

* a *job* is a compiled serving loop and the arrays of one solve, posted once per solve
  (:meth:`Team.post`); each helper runs the loop, in compiled code without the GIL, until the
  solve is over;
* the caller posts a pass by bumping the team's *generation* (an atomic counter); a waiting
  helper spins on it (:func:`await_pass`) and starts within a microsecond. It stops spinning when
  the caller says the solve is over (:meth:`Team.rest`), when another job is posted, or after
  ``SPIN_READS`` reads (~1 ms), and then sleeps on a condition;
* each helper's share of a generation is *claimed* by a compare-and-swap, by the helper when it
  starts it (:func:`claim`) or by the caller once its own share is done: a helper that is not
  running (asleep, or preempted by the host) leaves its share to the caller instead of stalling
  the pass -- the shares take their chunks from a common counter, so an unclaimed share has
  nothing left to do;
* the caller waits for the shares its helpers claimed by spinning on their *done* cells
  (:func:`publish`).

Results do not depend on which thread ran what (each chunk writes only its own outputs).
Requires numba (the kernel's own requirement).

Order matters in :func:`await_pass`: it reads the generation first and the job after it. Read the
other way round, a helper still in one solve's loop could see the job unchanged, then the first
generation of another solve's newly posted job, and run that pass on the old solve's arrays
(four Python threads solving at once: 5-11 of 120 couplings 1e-4 to 1 off;
``tests/ot/test_team.py``). numba caches a compiled function with the code of what it calls but
checks only its own file: after editing this module, delete the ``.nbi`` / ``.nbc`` files under
``asot/ot/__pycache__`` (or edit ``_cpu_kernel.py`` too), or its serving loop keeps the old protocol.
"""

from __future__ import annotations

import os
import threading
import time

import numpy as np
from numba import njit
from numba.core import cgutils, types
from numba.extending import intrinsic

__all__ = ["Team", "await_pass", "claim", "compile_caller_side", "fence", "fetch_add", "publish", "team"]

#: atomic reads a helper spends waiting for the next pass before it sleeps (~1 ms at ~15 ns each):
#: far longer than the gap between two passes of a solve, short against the work around solves
SPIN_READS = 1 << 16

#: atomic reads (~1 ms) the caller spends waiting for a helper's share before it yields its CPU in between
WAIT_READS = 1 << 16

#: the team's cells, each on its own cache line (no false sharing); helper ``h`` has its claim at
#: row ``HELPERS + 2 h`` and its done cell at ``HELPERS + 2 h + 1``
GENERATION, REST, JOB, SLEEPERS, HELPERS = range(5)
_LINE = 8  # int64s per cache line


def _first_element(context, builder, signature, args):
    """The address of ``array[0]`` for an intrinsic whose first argument is ``array``."""
    array_type = signature.args[0]
    data = context.make_array(array_type)(context, builder, args[0])
    return cgutils.get_item_pointer(context, builder, array_type, data, [context.get_constant(types.intp, 0)])


def _read_modify_write(operation: str):
    """An intrinsic ``f(array, value)`` doing ``old = array[0]; array[0] = operation(old, value);
    return old`` atomically (int64; sequentially consistent)."""
    @intrinsic
    def read_modify_write(typingctx, array, value):  # pragma: no cover - compiled
        def codegen(context, builder, signature, args):
            return builder.atomic_rmw(operation, _first_element(context, builder, signature, args), args[1], "seq_cst")
        return types.int64(array, types.int64), codegen
    return read_modify_write


#: ``old = array[0]; array[0] += value; return old``, atomically
fetch_add = _read_modify_write("add")
#: ``old = array[0]; array[0] = value; return old``, atomically
_exchange = _read_modify_write("xchg")


@intrinsic
def _compare_exchange(typingctx, array, expected, new):  # pragma: no cover - compiled
    """Atomically: if ``array[0] == expected`` then ``array[0] = new``; returns the old value."""
    def codegen(context, builder, signature, args):
        pointer = _first_element(context, builder, signature, args)
        return builder.extract_value(builder.cmpxchg(pointer, args[1], args[2], "seq_cst", "seq_cst"), 0)
    return types.int64(array, types.int64, types.int64), codegen


@intrinsic
def fence(typingctx):  # pragma: no cover - compiled
    """A sequentially consistent fence, in the calling function itself: the serving loop reads a
    pass's flags only after its claim and publishes only after the share's last write. Both are
    calls into small functions whose atomics order them already; the fence keeps that order
    explicit whatever the optimiser inlines or infers about those calls (two per pass; no
    measurable cost)."""
    def codegen(context, builder, signature, args):
        builder.fence("seq_cst")
        return context.get_dummy_value()
    return types.none(), codegen


@njit(cache=True, nogil=True)
def _add(cells, row, value):  # pragma: no cover - compiled
    """``cells[row] += value`` atomically; the new value."""
    return fetch_add(cells[row], value) + value


@njit(cache=True, nogil=True)
def claim(cells, helper, generation):  # pragma: no cover - compiled
    """True for the one thread that raises helper ``helper``'s claim to ``generation`` (the helper,
    to run its share; or the caller, to take it back). From whatever it was below, not only from
    ``generation - 1``: a pass interrupted between its posting and its end (a KeyboardInterrupt)
    leaves a generation nobody claimed, and the next pass must not wait for it."""
    cell = cells[HELPERS + 2 * helper]
    while True:
        before = fetch_add(cell, 0)
        if before >= generation:
            return False
        if _compare_exchange(cell, before, generation) == before:
            return True


@njit(cache=True, nogil=True)
def publish(cells, helper, generation):  # pragma: no cover - compiled
    """Helper ``helper`` finished its share of ``generation`` (its writes are visible before this)."""
    _exchange(cells[HELPERS + 2 * helper + 1], generation)


@njit(cache=True, nogil=True)
def await_pass(cells, seen, job, reads):  # pragma: no cover - compiled
    """Spin until a generation after ``seen`` is posted for job ``job``; it, or ``seen`` when the
    team rests, another job was posted, or ``reads`` reads went by."""
    for _ in range(reads):
        now = fetch_add(cells[GENERATION], 0)
        # the job is read after the generation: a caller posts a job before its first pass, so a
        # new generation seen here comes with its job (read first, a job posted in between would
        # go unnoticed and its pass be served with this job's arrays)
        if fetch_add(cells[JOB], 0) != job or fetch_add(cells[REST], 0) != 0:
            break
        if now != seen:
            return now
    return seen


@njit(cache=True, nogil=True)
def _await_done(cells, helper, generation, reads):  # pragma: no cover - compiled
    """Spin until helper ``helper`` published ``generation``, at most ``reads`` reads; whether it did."""
    cell = cells[HELPERS + 2 * helper + 1]
    for _ in range(reads):
        if fetch_add(cell, 0) == generation:
            return True
    return False


def compile_caller_side() -> None:
    """Compile the caller's side of the protocol (numba compiles on first use; from its cache this
    takes milliseconds): on a scratch team's cells, so no thread is involved."""
    cells = np.zeros((HELPERS + 2, _LINE), dtype=np.int64)
    _add(cells, SLEEPERS, 0)
    claim(cells, 0, 1)
    _await_done(cells, 0, 1, 0)


class Team:
    """``n_helpers`` daemon threads that run shares of the caller's passes (see the module text).

    A job is ``(serve, args, extras)``: helper ``h`` calls ``serve(cells, h, seen, job_id,
    SPIN_READS, *args, extras[h + 1])``, a compiled loop that waits with :func:`await_pass`, runs
    the share of each generation it :func:`claim` s and :func:`publish` es it, and returns the last
    generation it saw when :func:`await_pass` gives it back. The caller runs share 0 itself, between
    :meth:`start_pass` and :meth:`finish_pass`. One caller at a time (:attr:`lock`).
    """

    def __init__(self, n_helpers: int):
        self.cells = np.zeros((HELPERS + 2 * n_helpers, _LINE), dtype=np.int64)
        self.job = None
        self.lock = threading.Lock()
        self._wake = threading.Condition()
        self._errors: list[BaseException] = []  # raised in a helper's share, re-raised by the caller
        self.threads = [threading.Thread(target=self._serve, args=(h,), name=f"asot-kernel-{h + 1}", daemon=True)
                        for h in range(n_helpers)]
        for thread in self.threads:
            thread.start()

    @property
    def n_helpers(self) -> int:
        return len(self.threads)

    def post(self, job) -> None:
        """Make ``job`` the one the helpers serve (each returns from the previous one first)."""
        self.job = (*job, _add(self.cells, JOB, 1))

    def start_pass(self) -> int:
        """Post the next pass of the current job; its generation."""
        self.cells[REST, 0] = 0
        generation = _add(self.cells, GENERATION, 1)
        if _add(self.cells, SLEEPERS, 0):
            with self._wake:
                self._wake.notify_all()
        return generation

    def finish_pass(self, generation: int) -> None:
        """After the caller's share: take back the shares no helper started, wait for the others."""
        for helper in range(self.n_helpers):
            if claim(self.cells, helper, generation):
                continue
            while not _await_done(self.cells, helper, generation, WAIT_READS):
                time.sleep(0)  # a helper held up by the host: give it the CPU
        if self._errors:  # a helper's share failed (it published it all the same): this pass failed
            error = self._errors.pop()
            self._errors.clear()
            raise error

    def rest(self) -> None:
        """The solve is over: the helpers stop spinning and sleep until the next pass, and the
        team lets go of the job's arrays."""
        self.cells[REST, 0] = 1
        self.job = None

    def _serve(self, helper: int) -> None:
        seen = 0
        while True:
            with self._wake:  # sleep until a pass is posted
                _add(self.cells, SLEEPERS, 1)
                while _add(self.cells, GENERATION, 0) == seen:
                    self._wake.wait()
                _add(self.cells, SLEEPERS, -1)
            while True:
                job = self.job
                if job is None:  # the caller rested since: that pass was taken back
                    seen = _add(self.cells, GENERATION, 0)
                    break
                serve, args, extras, job_id = job
                try:
                    seen = serve(self.cells, helper, seen, job_id, SPIN_READS, *args, extras[helper + 1])
                except BaseException as error:  # noqa: BLE001 - handed to the caller, the helper goes on
                    # the generation it last claimed is published, so the caller does not wait for
                    # it forever, and the caller raises the error (finish_pass)
                    self._errors.append(error)
                    seen = int(_add(self.cells, HELPERS + 2 * helper, 0))
                    publish(self.cells, helper, seen)
                    break
                finally:
                    del job, serve, args, extras  # a sleeping helper holds none of a solve's arrays
                if _add(self.cells, JOB, 0) == job_id:
                    break  # resting or idle: sleep; else another job was posted: serve it


_TEAMS: dict[int, Team] = {}
_TEAMS_LOCK = threading.Lock()


def team(n_helpers: int) -> Team:
    """The process-wide team of ``n_helpers`` helper threads (the caller does one share too)."""
    with _TEAMS_LOCK:
        found = _TEAMS.get(n_helpers)
        if found is None:
            found = _TEAMS[n_helpers] = Team(n_helpers)
        return found


def _forget_teams_after_fork() -> None:  # pragma: no cover - runs in forked children
    """A forked child has none of the parent's threads: a team inherited from the parent would
    post passes nobody runs, so the child starts its own."""
    global _TEAMS_LOCK
    _TEAMS_LOCK = threading.Lock()
    _TEAMS.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_teams_after_fork)
