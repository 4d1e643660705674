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

a multiplicative step ``T <- T * exp(-s G)`` (``s = 4 / max G`` at the first iteration, per
video) and a KL projection onto the constraints. The structure product ``C_v X`` costs O(NK)
(:func:`asot.structure.structure_product`). Everything is computed in the log domain so that
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

from asot import _cpu_kernel
from asot.config import SolverConfig
from asot.problem import ASOTProblem, as_problem
from asot.radius import DEFAULT_RADIUS, RadiusPolicy, structure_band
from asot.structure import _structure_product as structure_product

__all__ = ["ASOTResult", "ASOTSolver", "solve"]

#: multiplier of the automatic step size ``s = STEP_SCALE / max(G)`` (published setting)
STEP_SCALE = 4.0
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


def _logsumexp(x: torch.Tensor, dim: int) -> torch.Tensor:
    return torch.logsumexp(x, dim=dim, keepdim=True)


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
        """Whether the fused CPU kernel can solve ``problem`` (see :mod:`asot._cpu_kernel`)."""
        cfg = self.config
        return (
            _cpu_kernel.AVAILABLE
            and problem.cost.device.type == "cpu"
            and not cfg.unbalanced_frames
            and cfg.unbalanced_actions
            and (cfg.detach or not problem.cost.requires_grad)
        )

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
        problem = self._resolve_radius(problem)
        if self.backend == "cuda-graph":
            if not self.graph_applies(problem):
                raise ValueError("backend='cuda-graph' needs a CUDA tensor, no autograd, tol=None and a fixed radius (or radii); "
                                 "use backend='auto' or 'torch'")
            return self._solve_graphed(problem)
        if (self.backend == "cpu-kernel" or (self.backend == "auto" and not self.fuse)) and self.kernel_applies(problem):
            return self._solve_kernel(problem)
        if self.backend == "cpu-kernel":
            raise ValueError(
                "backend='cpu-kernel' needs numba, a CPU tensor, the unbalanced-actions variant with "
                "rows constrained and no autograd; use backend='auto' or 'torch'"
            )
        if self.config.detach:
            with torch.no_grad():
                return self._solve(problem, problem.cost.detach())
        return self._solve(problem, problem.cost)

    def _resolve_radius(self, problem: ASOTProblem) -> ASOTProblem:
        """``radius="auto"``: the problem with per-video radii measured on each video's own cost
        rows and its ASOT labels at the paper's radius (:func:`asot.radius.measure_radius`)."""
        policy = RadiusPolicy.of(self.config, problem.radii)
        if not policy.measured:
            return problem
        lengths = problem.lengths.tolist()
        rows = [problem.cost[b, :n].detach().cpu().numpy() for b, n in enumerate(lengths)]

        def label() -> list[np.ndarray]:
            backend = "auto" if self.backend == "cuda-graph" else self.backend
            labels = ASOTSolver(self.config.replace(radius=DEFAULT_RADIUS), backend)(problem).labels
            labels = labels if problem.batched else labels[None]
            return [labels[b, :n].cpu().numpy() for b, n in enumerate(lengths)]

        return dataclasses.replace(problem, radii=policy.resolve(rows, label).value)

    def _solve_kernel(self, problem: ASOTProblem) -> ASOTResult:
        cfg = self.config
        cost = np.ascontiguousarray(problem.cost.detach().numpy())
        lengths = problem.lengths.numpy().astype(np.int64)
        widths, radii = structure_band(lengths, cfg.radius, cfg.radius_frames, problem.radii)
        coupling, labels, objective, n_run, converged, step = _cpu_kernel.solve_rows_constrained(
            cost, lengths, np.asarray(widths, dtype=np.int64), alpha=cfg.alpha, radii=np.asarray(radii), eps=cfg.eps,
            lambda_actions=cfg.lambda_actions, unbalanced_actions=cfg.unbalanced_actions, n_iters=cfg.n_iters,
            step_size=cfg.step_size, tol=cfg.tol, n_threads=torch.get_num_threads(),
        )
        scaled = torch.from_numpy(coupling)
        out = ASOTResult(scaled, torch.from_numpy(labels), torch.from_numpy(objective).to(scaled.dtype), n_run,
                         torch.from_numpy(converged), torch.from_numpy(step).to(scaled.dtype))
        return out if problem.batched else _first(out)

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
        return ASOTResult(captured.coupling.clone(), captured.labels.clone(), captured.objective.clone(),
                          captured.iterations_run, captured.converged.clone(), captured.step_size.clone())

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
        batch, n_frames, n_actions = cost.shape
        dtype, device = cost.dtype, cost.device
        mask = problem.mask
        valid = mask[..., None]
        lengths = problem.lengths
        widths, band_radius = band if band is not None else self._band(problem, cost)

        log_p = (-torch.log(lengths.to(dtype))).reshape(batch, 1, 1)  # p_i = 1/N_b
        log_q = -math.log(n_actions)  # q_j = 1/K
        tiny = torch.finfo(dtype).tiny

        log_t = (log_p + log_q).expand(batch, n_frames, n_actions).masked_fill(~valid, 0.0)
        coupling = torch.exp(log_t) * valid

        step = None if cfg.step_size is None else torch.full((batch, 1, 1), cfg.step_size, dtype=dtype, device=device)
        trace: list[torch.Tensor] = []
        converged = torch.zeros(batch, dtype=torch.bool, device=device)
        iters_run = 0
        iteration = self._compiled_iteration() if self.fuse else self._iteration
        context = (cost, valid, log_p, log_q, widths, band_radius)
        for it in range(cfg.n_iters + 1):
            if it == cfg.n_iters:
                trace.append(self._objective(coupling, log_t, *context))
                break
            objective, next_log_t, next_coupling, step = iteration(coupling, log_t, step, *context)
            trace.append(objective)
            if it > 0 and cfg.tol is not None:
                prev, cur = trace[-2], trace[-1]
                converged = converged | ((cur - prev).abs() <= cfg.tol * prev.abs().clamp_min(tiny))
                if bool(converged.all()):
                    break  # the current iterate is the one the converged objective belongs to
                # a converged video keeps its iterate while the rest of the batch goes on, so a
                # video's result does not depend on what it is batched with
                frozen = converged.reshape(batch, 1, 1)
                next_log_t = torch.where(frozen, log_t, next_log_t)
                next_coupling = torch.where(frozen, coupling, next_coupling)
            log_t, coupling = next_log_t, next_coupling
            iters_run += 1

        if step is None:  # balanced variant or zero iterations: no mirror step taken
            step = torch.zeros(batch, 1, 1, dtype=dtype, device=device)
        scaled = coupling * lengths.to(dtype).reshape(batch, 1, 1)
        labels = scaled.argmax(dim=2).masked_fill(~mask, -1)
        objective = torch.stack(trace, dim=1)
        step_out = step.reshape(batch).detach()
        out = ASOTResult(scaled, labels, objective, iters_run, converged, step_out)
        return out if problem.batched else _first(out)

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
            log_t = self._sinkhorn(transport, valid, log_p, log_q)
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
                step = self._automatic_step(grad.detach(), valid, cfg.eps)
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
        """``F(T)`` per video (spec section 1) from a precomputed structure product."""
        cfg = self.config
        value = (1.0 - cfg.alpha) * (cost * coupling).sum(dim=(1, 2))
        if structure is not None:
            value = value + 0.5 * cfg.alpha * (structure * coupling).sum(dim=(1, 2))
        entropy = (coupling * (1.0 - log_t)).masked_fill(~valid, 0.0).sum(dim=(1, 2))
        value = value - cfg.eps * entropy
        if cfg.unbalanced_actions:
            value = value + cfg.lambda_actions * _kl(coupling.sum(dim=1), log_q)
        if cfg.unbalanced_frames:
            rows = coupling.sum(dim=2)
            value = value + cfg.lambda_frames * _kl(rows, log_p.reshape(-1, 1), valid[..., 0])
        return value.detach()

    @staticmethod
    def _automatic_step(grad: torch.Tensor, valid: torch.Tensor, eps: float) -> torch.Tensor:
        """``s = 4 / max(max G, 4 eps)`` per video over its valid frames.

        The published rule is ``4 / max G``. When ``max G`` is near zero or negative (no GW
        term and costs near the entropy gradient, or negative costs) it gives a huge, negative
        or infinite step; with ``s * eps > 1`` the update ``T <- T^(1 - s eps) exp(-s G_transport)``
        oscillates with growing amplitude and overflows. Capping ``s <= 1/eps`` (the step at
        which one mirror step is the entropic projection) keeps it stable; every published
        reference case has ``s * eps <= 0.25``, where the cap is inactive.
        """
        batch = grad.shape[0]
        neg_inf = torch.finfo(grad.dtype).min
        g_max = grad.masked_fill(~valid, neg_inf).reshape(batch, -1).amax(dim=1)
        return (STEP_SCALE / g_max.clamp_min(STEP_SCALE * eps)).reshape(batch, 1, 1)

    def _sinkhorn(self, transport: torch.Tensor, valid: torch.Tensor, log_p: torch.Tensor, log_q: float) -> torch.Tensor:
        """Entropic projection ``Sinkhorn_eps(G_transport, p, q)`` in the log domain.

        Starts from zero potentials and alternates row and column scalings ``sinkhorn_iters``
        times, ending with the column scaling (columns exact, rows approximate).
        """
        log_kernel = (-transport / self.config.eps).masked_fill(~valid, 0.0)
        col_pot = torch.zeros_like(log_kernel[:, :1, :])
        row_pot = torch.zeros_like(log_kernel[:, :, :1])
        for _ in range(self.config.sinkhorn_iters):
            row_pot = (log_p - _logsumexp(log_kernel + col_pot, 2)).masked_fill(~valid, -math.inf)
            col_pot = log_q - _logsumexp(log_kernel + row_pot, 1)
        return (log_kernel + row_pot + col_pot).masked_fill(~valid, 0.0)


def _first(result: ASOTResult) -> ASOTResult:
    """The single video of a batch of one (for un-batched input)."""
    return ASOTResult(result.coupling[0], result.labels[0], result.objective[0], result.iterations_run,
                      result.converged[0], result.step_size[0])


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
