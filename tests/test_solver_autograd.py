"""Differentiable mode: gradients flow through the unrolled iterations."""

from __future__ import annotations

import torch

import asot


def test_detached_by_default():
    cost = torch.rand(12, 3, dtype=torch.float64, requires_grad=True)
    result = asot.solve(cost)
    assert not result.coupling.requires_grad


def test_gradcheck_through_unrolled_iterations():
    torch.manual_seed(0)
    cost = torch.rand(9, 3, dtype=torch.float64, requires_grad=True)
    config = asot.SolverConfig(detach=False, n_iters=6, radius=0.2, step_size=2.0)
    weights = torch.rand(9, 3, dtype=torch.float64)

    def loss(c):
        return (asot.solve(c, config=config).coupling * weights).sum()

    assert torch.autograd.gradcheck(loss, (cost,), eps=1e-6, atol=1e-6)


def test_gradcheck_balanced_and_batched():
    torch.manual_seed(1)
    cost = torch.rand(2, 7, 3, dtype=torch.float64, requires_grad=True)
    mask = torch.tensor([[True] * 7, [True] * 5 + [False] * 2])
    config = asot.SolverConfig(detach=False, n_iters=4, unbalanced_actions=False, sinkhorn_iters=2)

    def coupling(c):
        return asot.solve(c, mask=mask, config=config).coupling

    assert torch.autograd.gradcheck(coupling, (cost,), eps=1e-6, atol=1e-6)


def test_gradient_is_finite_with_automatic_step():
    cost = torch.rand(50, 4, dtype=torch.float64, requires_grad=True)
    out = asot.solve(cost, config=asot.SolverConfig(detach=False)).coupling
    (out[:, 0].sum()).backward()
    assert torch.isfinite(cost.grad).all() and cost.grad.abs().sum() > 0
