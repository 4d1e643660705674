r"""The ASOT solver: projected mirror descent in the KL geometry (spec section 2).

For one video with ``N`` frames and ``K`` actions the solver minimises over couplings
``T >= 0`` (spec section 1)

.. math::

    F(T) = \frac{\alpha}{2}\langle C_v (T C_a), T\rangle + (1-\alpha)\langle C, T\rangle
           + \lambda\,\mathrm{KL}(T^\top 1_N \,\|\, q) - \epsilon H(T),

with ``H(T) = sum_ij (-T_ij log T_ij + T_ij)``, rows constrained to ``p_i = 1/N`` and
``q = 1_K / K``. Variants: balanced (both marginals hard, Sinkhorn projection), unbalanced
frames (``lambda_frames * KL(T 1_K || p)`` replaces the row constraint), fully unbalanced, and
``alpha = 0`` (plain entropic unbalanced OT).

Each iteration takes the gradient

.. math::

    G = \alpha C_v (T C_a) + (1-\alpha) C + \epsilon \log T
        + \lambda (\log(T^\top 1 / q) + 1) + \lambda_f (\log(T 1 / p) + 1),

a multiplicative step ``T <- T * exp(-s G)`` (``s = 4 / max(max G, 4 L)`` at the first
iteration, per video, with ``L`` the curvature of the entropy and KL terms; see
:mod:`asot.ot.iteration`, which runs the loop) and a KL projection onto the constraints. The structure product ``C_v X`` costs O(NK)
(:func:`asot.ot.structure.structure_product`). Everything is computed in the log domain so that
no row can underflow to zero and no NaN/Inf appears.

Note:
    Mirror descent on this non-convex objective (the GW term is a quadratic form) converges to
    a stationary point; 25 iterations is the published setting. ``objective`` in the result is
    the trace of ``F`` so convergence can be checked; ``tol`` stops early when every video's
    relative change falls below it.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from asot.ot import kernel_backend
from asot._arrays import to_numpy
from asot._threads import torch_threads
from asot.ot.config import SolverConfig
from asot.ot.iteration import STEP_SCALE, automatic_step, curvature, iterate, objective_value, rise_tolerance  # noqa: F401
from asot.ot.problem import ASOTProblem, as_problem
from asot.ot.radius import DEFAULT_RADIUS, RadiusPolicy, structure_band
from asot.ot.sinkhorn import sinkhorn_log
from asot.ot.structure import _structure_product as structure_product

__all__ = ["ASOTResult", "ASOTSolver", "solve"]

#: largest log-coupling allowed in the frame-unbalanced variants (entries of T capped at 1)
MAX_LOG_COUPLING = 0.0


@dataclass(frozen=True)
class ASOTResult:
    """What :func:`solve` returns.

    Attributes:
        coupling: ``(N, K)`` or ``(B, N, K)`` tensor ``T * N_b``: row ``i`` is frame ``i``'s
            distribution over actions (sums to 1 in the row-constrained variants); padding rows
            are zero.
        labels: ``(N,)`` or ``(B, N)`` int64, ``argmax`` of the coupling; ``-1`` on padding.
        objective: ``(n + 1,)`` or ``(B, n + 1)`` objective ``F`` at every iterate (``n`` is the
            number of iterations run).
        iterations_run: how many iterations were run: ``SolverConfig.n_iters`` (the maximum),
            or fewer after an early stop (in a batch, once every video has converged). Also
            readable as ``n_iters`` (the earlier name).
        converged: ``()`` or ``(B,)`` bool, whether the video's relative objective change fell
            within ``tol`` (all ``False`` when no ``tol`` is set). A converged video keeps that
            iterate while the rest of its batch goes on (its objective trace then repeats), so
            results do not depend on the batch.
        step_size: ``()`` or ``(B,)`` the mirror step used per video.
    """

    coupling: torch.Tensor
    labels: torch.Tensor
    objective: torch.Tensor
    iterations_run: int
    converged: torch.Tensor
    step_size: torch.Tensor

    @property
    def n_iters(self) -> int:
        """:attr:`iterations_run` under its earlier name (a setting called ``n_iters`` is a
        maximum, ``SolverConfig.n_iters``; a result reports what was run)."""
        return self.iterations_run

    @classmethod
    def _build(cls, batched: bool = True, **fields: Any) -> "ASOTResult":
        """The one constructor used by the solver: fields by name; ``batched=False`` takes the
        single video of a batch of one (for un-batched input)."""
        if not batched:
            fields = {name: value if name == "iterations_run" else value[0] for name, value in fields.items()}
        return cls(**fields)

    def _map(self, fn) -> "ASOTResult":
        """A copy with ``fn`` applied to every tensor field (e.g. ``clone``)."""
        return ASOTResult._build(**{name: value if name == "iterations_run" else fn(value) for name, value in vars(self).items()})


def _logsumexp(x: torch.Tensor, dim: int) -> torch.Tensor:
    return torch.logsumexp(x, dim=dim, keepdim=True)


#: a CPU problem on the torch path with at most this many cost entries runs on one torch thread:
#: its ~30 tensor operations per iteration are too small to split, yet torch opens an OpenMP
#: region for each exp and log whatever the size, which costs a hand-off per operation on a
#: quiet machine and a scheduler time slice (~16 ms) whenever the other thread is preempted on a
#: busy one (B2 x 256 x 8 balanced: median 0.7-2 s on 2 threads vs 60-76 ms on one, load 6)
SERIAL_TORCH_ELEMENTS = 1 << 16


def _one_thread_if_small(cost: torch.Tensor):
    """``torch.set_num_threads(1)`` for the duration, for a small CPU ``cost`` (restored after)."""
    small = cost.device.type == "cpu" and cost.numel() <= SERIAL_TORCH_ELEMENTS
    return torch_threads(1 if small else None)


BACKENDS = ("auto", "torch", "cpu-kernel", "cuda-graph")
#: CUDA graphs kept per solver (one per problem shape and set of video lengths)
MAX_CACHED_GRAPHS = 8


class ASOTSolver:
    """A configured solver: ``ASOTSolver(config)(problem) -> ASOTResult``.

    Args:
        config: the hyperparameters.
        backend: ``"torch"`` (any device, every variant, differentiable), ``"cpu-kernel"``
            (fused numba kernel: CPU, row-constrained variants, no autograd), ``"cuda-graph"``
            (the torch path captured once per problem shape as a CUDA graph and replayed: for
            repeated solves of one shape on a GPU, e.g. a benchmark or fixed-size batches; reuse the
            solver instance, which keeps up to ``MAX_CACHED_GRAPHS`` graphs) or ``"auto"`` (the
            kernel where it applies, else torch). All give the same result to rounding.
        fuse: run each iteration of the torch path through ``torch.compile`` (fused kernels;
            compiled once per shape, which takes seconds; with ``"cuda-graph"`` the fused
            iterations are captured too). Applies to the ``"torch"`` and ``"cuda-graph"`` paths.
    """

    def __init__(self, config: SolverConfig | None = None, backend: str = "auto", fuse: bool = False) -> None:
        if config is None:
            config = SolverConfig()
        if not isinstance(config, SolverConfig):
            raise TypeError(f"config: expected a SolverConfig, got {type(config).__name__}")
        if backend not in BACKENDS:
            raise ValueError(f"backend: expected one of {BACKENDS}, got {backend!r}")
        self.config = config
        self.backend = backend
        self.fuse = bool(fuse)
        self._graphs: dict[tuple, tuple] = {}
        self._compiled = None

    def kernel_applies(self, problem: ASOTProblem) -> bool:
        """Whether the fused CPU kernel can solve ``problem`` (see :mod:`asot.ot._cpu_kernel`)."""
        cfg = self.config
        return kernel_backend.applies(cfg) and problem.cost.device.type == "cpu" and (cfg.detach or not problem.cost.requires_grad)

    def graph_applies(self, problem: ASOTProblem) -> bool:
        """Whether the CUDA-graph path can solve ``problem`` (CUDA, no autograd, no early stop)."""
        cfg = self.config
        return (problem.cost.device.type == "cuda" and (cfg.detach or not problem.cost.requires_grad)
                and cfg.tol is None)

    def __call__(self, problem: ASOTProblem | Any, mask: Any = None) -> ASOTResult:
        """Solve ``problem``: an :class:`ASOTProblem`, or a cost array/tensor ``(N, K)`` /
        ``(B, N, K)`` with an optional ``mask`` (validated as in :func:`solve`)."""
        if not isinstance(problem, ASOTProblem):
            problem = as_problem(problem, mask)
        elif mask is not None:
            raise ValueError("mask: an ASOTProblem carries its own mask; pass the cost array to give one")
        if self.backend == "cuda-graph":
            problem = self._resolve_radius(problem)
            if not self.graph_applies(problem):
                raise ValueError("backend='cuda-graph' needs a CUDA tensor, no autograd, tol=None and a fixed radius (or radii); "
                                 "use backend='auto' or 'torch'")
            return self._solve_graphed(problem)
        if (self.backend == "cpu-kernel" or (self.backend == "auto" and not self.fuse)) and self.kernel_applies(problem):
            return self._solve_kernel(problem)  # the radius policy is resolved there, on the kernel
        if self.backend == "cpu-kernel":
            raise ValueError(
                "backend='cpu-kernel' needs numba, a CPU tensor, the unbalanced-actions variant with "
                "rows constrained and no autograd; use backend='auto' or 'torch'"
            )
        problem = self._resolve_radius(problem)
        with _one_thread_if_small(problem.cost):
            if self.config.detach:
                with torch.no_grad():
                    return self._solve(problem, problem.cost.detach())
            return self._solve(problem, problem.cost)

    def _resolve_radius(self, problem: ASOTProblem) -> ASOTProblem:
        """``radius="auto"``: the problem with per-video radii measured on each video's own cost
        rows and its ASOT labels at the paper's radius (:func:`asot.ot.radius.measure_radius`)."""
        policy = RadiusPolicy.of(self.config, problem.radii)
        if not policy.measured:
            return problem
        lengths = problem.lengths.tolist()
        rows = [to_numpy(problem.cost[b, :n]) for b, n in enumerate(lengths)]

        def label() -> list[np.ndarray]:
            backend = "auto" if self.backend == "cuda-graph" else self.backend
            labels = ASOTSolver(self.config.replace(radius=DEFAULT_RADIUS), backend)(problem).labels
            labels = labels if problem.batched else labels[None]
            return [labels[b, :n].cpu().numpy() for b, n in enumerate(lengths)]

        return dataclasses.replace(problem, radii=policy.resolve(rows, label).value)

    def _solve_kernel(self, problem: ASOTProblem) -> ASOTResult:
        """:func:`asot.ot.kernel_backend.solve_batch` on the problem's arrays (views: the problem
        already holds a contiguous, zero-padded, checked cost), as tensors."""
        cost = np.ascontiguousarray(problem.cost.detach().numpy())
        lengths = problem.lengths.numpy().astype(np.int64)
        sol = kernel_backend.solve_batch(cost, lengths, self.config, problem.radii, n_threads=torch.get_num_threads())
        return ASOTResult._build(
            problem.batched, coupling=torch.from_numpy(sol.coupling), labels=torch.from_numpy(sol.labels),
            objective=torch.from_numpy(sol.objective), iterations_run=sol.iterations_run,
            converged=torch.from_numpy(sol.converged), step_size=torch.from_numpy(sol.step_size),
        )

    def _solve_graphed(self, problem: ASOTProblem) -> ASOTResult:
        """Capture the torch path once per (shape, dtype, device, lengths) as a CUDA graph; replay it."""
        key = (tuple(problem.cost.shape), problem.cost.dtype, str(problem.cost.device), tuple(problem.lengths.tolist()),
               problem.radii)
        entry = self._graphs.get(key)
        if entry is None:
            device = problem.cost.device
            static = ASOTProblem(problem.cost.detach().clone(), problem.mask.clone(), problem.lengths.clone(), problem.batched,
                                 problem.radii)
            band = self._band(static, static.cost)
            side = torch.cuda.Stream(device)
            side.wait_stream(torch.cuda.current_stream(device))
            with torch.no_grad(), torch.cuda.stream(side):
                self._solve(static, static.cost, band)  # warm-up outside the capture
            torch.cuda.current_stream(device).wait_stream(side)
            graph = torch.cuda.CUDAGraph()
            with torch.no_grad(), torch.cuda.graph(graph):
                captured = self._solve(static, static.cost, band)
            if len(self._graphs) >= MAX_CACHED_GRAPHS:
                self._graphs.pop(next(iter(self._graphs)))
            entry = self._graphs[key] = (graph, static, captured)
        graph, static, captured = entry
        static.cost.copy_(problem.cost.detach())
        graph.replay()
        return captured._map(torch.Tensor.clone)

    def _band(self, problem: ASOTProblem, cost: torch.Tensor) -> tuple[Any, Any]:
        """Per-video half-width and radius of the structure band (host work, before the loop)."""
        cfg = self.config
        half_width, radii = structure_band(problem.lengths.tolist(), cfg.radius, cfg.radius_frames, problem.radii)
        if len(set(half_width)) == 1 and len(set(radii)) == 1:
            return half_width[0], radii[0]
        device = cost.device
        return torch.tensor(half_width, device=device), torch.tensor(radii, dtype=torch.float64, device=device)

    # -- the iterations ------------------------------------------------------------------
    def _solve(self, problem: ASOTProblem, cost: torch.Tensor, band: tuple[Any, Any] | None = None) -> ASOTResult:
        cfg = self.config
        batch = cost.shape[0]
        run = _TorchIterations(self, problem, cost, band if band is not None else self._band(problem, cost))
        converged = torch.zeros(batch, dtype=torch.bool, device=cost.device)
        back_off = cfg.unbalanced_frames and cfg.step_size is None
        trace, n_run, converged, step = iterate(run, cfg, converged, torch.finfo(cost.dtype).tiny, back_off,
                                                rise_tolerance(cost.element_size()))
        if step is None:  # balanced variant or zero iterations: no mirror step taken
            step = torch.zeros(batch, 1, 1, dtype=cost.dtype, device=cost.device)
        lengths = problem.lengths
        scaled = run.coupling * lengths.to(cost.dtype).reshape(batch, 1, 1)
        labels = scaled.argmax(dim=2).masked_fill(~problem.mask, -1)
        return ASOTResult._build(problem.batched, coupling=scaled, labels=labels, objective=torch.stack(trace, dim=1),
                                 iterations_run=n_run, converged=converged, step_size=step.reshape(batch).detach())

    def _iteration(self, coupling, log_t, step, cost, valid, log_p, log_q, widths, radius):
        """One iteration: ``F`` at the current iterate, the next iterate and the step (spec 2).

        Returns ``(objective (B,), log T', T', step)``; ``step`` is set from this gradient when
        it is ``None`` (first iteration, automatic step).
        """
        cfg = self.config
        structure = self._structure_term(coupling, widths, radius, valid)
        objective = self._objective_sum(coupling, log_t, cost, structure, valid, log_p, log_q)
        transport = (1.0 - cfg.alpha) * cost
        if structure is not None:
            transport = transport + cfg.alpha * structure
        if cfg.balanced:
            log_kernel = -transport / cfg.eps
            log_t = sinkhorn_log(log_kernel, valid, log_p, log_q, cfg.sinkhorn_iters)
        else:
            tiny = torch.finfo(cost.dtype).tiny
            grad = transport + cfg.eps * log_t
            if cfg.unbalanced_actions:
                col = coupling.sum(dim=1, keepdim=True).clamp_min(tiny)
                grad = grad + cfg.lambda_actions * (torch.log(col) - log_q + 1.0)
            if cfg.unbalanced_frames:
                row = coupling.sum(dim=2, keepdim=True).clamp_min(tiny)
                grad = grad + cfg.lambda_frames * (torch.log(row) - log_p + 1.0)
            grad = grad.masked_fill(~valid, 0.0)
            if step is None:
                batch = grad.shape[0]
                g_max = grad.detach().masked_fill(~valid, torch.finfo(grad.dtype).min).reshape(batch, -1).amax(dim=1)
                step = automatic_step(g_max, curvature(cfg)).reshape(batch, 1, 1)
            log_t = log_t - step * grad
            if not cfg.unbalanced_frames:
                log_t = log_t - _logsumexp(log_t, 2) + log_p
            elif not cfg.unbalanced_actions:
                col_lse = _logsumexp(log_t.masked_fill(~valid, -math.inf), 1)
                log_t = log_t - col_lse + log_q
            if cfg.unbalanced_frames:
                log_t = log_t.clamp(max=MAX_LOG_COUPLING)
            log_t = log_t.masked_fill(~valid, 0.0)
        return objective, log_t, torch.exp(log_t) * valid, step

    def _compiled_iteration(self):
        """:meth:`_iteration` through ``torch.compile`` (fused kernels; CUDA graphs on a GPU)."""
        if self._compiled is None:
            self._compiled = torch.compile(self._iteration, dynamic=False)
        return self._compiled

    def _objective(self, coupling, log_t, cost, valid, log_p, log_q, widths, radius) -> torch.Tensor:
        """``F(T)`` per video (spec section 1), computing the structure product itself."""
        structure = self._structure_term(coupling, widths, radius, valid)
        return self._objective_sum(coupling, log_t, cost, structure, valid, log_p, log_q)

    def _structure_term(self, coupling: torch.Tensor, widths: Any, radius: Any, valid: torch.Tensor) -> torch.Tensor | None:
        """``Cv (T Ca)`` with ``T Ca = rowsum(T) 1^T - T``; ``None`` when ``alpha = 0``."""
        if self.config.alpha == 0.0:
            return None
        t_ca = coupling.sum(dim=2, keepdim=True) - coupling
        return structure_product(t_ca, widths, radius) * valid

    def _objective_sum(self, coupling, log_t, cost, structure, valid, log_p, log_q) -> torch.Tensor:
        """``F(T)`` per video (spec section 1) from a precomputed structure product.

        With rows constrained, the KL of the column marginal is written
        ``sum_j c_j log(c_j / q) - (sum_j c_j - 1)`` (the same value, as ``sum_j c_j = 1``, but with
        the rounding of the masses entering only to second order).
        """
        cfg = self.config
        visual = (cost * coupling).sum(dim=(1, 2))
        structure_sum = 0.0 if structure is None else (structure * coupling).sum(dim=(1, 2))
        entropy = (coupling * (1.0 - log_t)).masked_fill(~valid, 0.0).sum(dim=(1, 2))
        kl_actions = kl_frames = 0.0
        if cfg.unbalanced_actions:
            cols = coupling.sum(dim=1)
            kl_actions = _kl(cols, log_q)
            if not cfg.unbalanced_frames:
                kl_actions = kl_actions - (cols.sum(dim=-1) - 1.0)
        if cfg.unbalanced_frames:
            kl_frames = _kl(coupling.sum(dim=2), log_p.reshape(-1, 1), valid[..., 0])
        value = objective_value(cfg.alpha, cfg.eps, cfg.lambda_actions if cfg.unbalanced_actions else 0.0,
                                cfg.lambda_frames if cfg.unbalanced_frames else 0.0, visual, structure_sum, entropy,
                                kl_actions, kl_frames)
        return value.detach()


class _TorchIterations:
    """The torch path as a backend of :func:`asot.ot.iteration.iterate`: the iterate as tensors
    (``log T`` and ``T``), one :meth:`ASOTSolver._iteration` per sweep."""

    def __init__(self, solver: ASOTSolver, problem: ASOTProblem, cost: torch.Tensor, band: tuple[Any, Any]) -> None:
        batch, n_frames, n_actions = cost.shape
        self.batch, self.dtype, self.device = batch, cost.dtype, cost.device
        valid = problem.mask[..., None]
        log_p = (-torch.log(problem.lengths.to(cost.dtype))).reshape(batch, 1, 1)  # p_i = 1/N_b
        log_q = -math.log(n_actions)  # q_j = 1/K
        self.log_t = (log_p + log_q).expand(batch, n_frames, n_actions).masked_fill(~valid, 0.0)
        self.coupling = torch.exp(self.log_t) * valid
        self.next = None
        self.solver = solver
        self.step_fn = solver._compiled_iteration() if solver.fuse else solver._iteration
        self.context = (cost, valid, log_p, log_q, *band)

    def full_step(self, value: float) -> torch.Tensor:
        return torch.full((self.batch, 1, 1), value, dtype=self.dtype, device=self.device)

    def sweep(self, step, do_step: bool):
        if not do_step:
            return self.solver._objective(self.coupling, self.log_t, *self.context), step
        objective, log_t, coupling, step = self.step_fn(self.coupling, self.log_t, step, *self.context)
        self.next = (log_t, coupling)
        return objective, step

    def keep(self, newly: torch.Tensor, converged: torch.Tensor) -> None:
        frozen = converged.reshape(self.batch, 1, 1)
        self.next = (torch.where(frozen, self.log_t, self.next[0]), torch.where(frozen, self.coupling, self.next[1]))

    def advance(self) -> None:
        self.log_t, self.coupling = self.next

    def halve_step(self, step: torch.Tensor, rise: torch.Tensor) -> torch.Tensor:
        return torch.where(rise.reshape(self.batch, 1, 1), 0.5 * step, step)


def _kl(a: torch.Tensor, log_b: Any, valid: torch.Tensor | None = None) -> torch.Tensor:
    """``KL(a || b) = sum_j a_j log(a_j / b_j)`` along the last dimension, ``0 log 0 = 0``."""
    log_a = torch.log(a.clamp_min(torch.finfo(a.dtype).tiny))
    terms = a * (log_a - log_b)
    if valid is not None:
        terms = terms.masked_fill(~valid, 0.0)
    return terms.sum(dim=-1)


def solve(cost: Any, mask: Any = None, config: SolverConfig | None = None, *, device: Any = None,
          backend: str = "auto", radii: Any = None, **overrides: Any) -> ASOTResult:
    """Solve ASOT for one video ``(N, K)`` or a padded batch ``(B, N, K)``.

    Args:
        cost: frame-to-action costs, numpy array or torch tensor, float32 or float64
            (e.g. ``1 - cosine similarity``, optionally plus :func:`asot.temporal_prior`).
        mask: ``(B, N)`` (or ``(N,)``) boolean, valid frames first; ``None`` = all valid.
        config: a :class:`SolverConfig`; ``None`` uses the defaults (paper training settings).
        device: move the problem to this device first (default: where ``cost`` lives).
        backend: ``"auto"`` (default), ``"torch"``, ``"cpu-kernel"`` or ``"cuda-graph"``; see
            :class:`ASOTSolver` (which also offers ``fuse=True``; reuse a solver to keep its caches).
        radii: optional per-video structure radius ``r_b`` (``(B,)`` fractions in ``(0, 1]``;
            a number for one video), overriding ``config.radius`` and ``radius_frames``, so a
            batch whose videos need different bands is still solved in one call.
        **overrides: fields of the config to change for this call, e.g. ``eps=0.04``.

    Returns:
        :class:`ASOTResult` with ``coupling``, ``labels``, ``objective``, ``iterations_run``,
        ``converged`` and ``step_size``.

    Example:
        >>> import numpy as np, asot
        >>> cost = np.random.default_rng(0).random((100, 4))
        >>> asot.solve(cost, eps=0.05).labels.shape
        torch.Size([100])
    """
    if config is None:
        config = SolverConfig()
    elif not isinstance(config, SolverConfig):
        raise TypeError(f"config: expected a SolverConfig, got {type(config).__name__}")
    if overrides:
        config = config.replace(**overrides)
    problem = as_problem(cost, mask, device=device, radii=radii)
    return ASOTSolver(config, backend=backend)(problem)
