"""The benchmark's naive baseline (benchmarks/_naive_asot.py) solves the same problem as asot.solve."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import asot

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from _naive_asot import conv_structure_product, naive_asot  # noqa: E402

from asot.ot.structure import structure_product  # noqa: E402


def test_conv_product_equals_prefix_sum_product():
    x = torch.rand(2, 300, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    np.testing.assert_allclose(conv_structure_product(x, 12, 0.04).numpy(), structure_product(x, 12, 0.04).numpy(),
                               rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize("dtype,atol", [(torch.float64, 1e-9), (torch.float32, 1e-4)])
@pytest.mark.parametrize("shape", [(400, 7), (3, 256, 10)])
@pytest.mark.parametrize("backend", ["auto", "torch"])
def test_naive_gives_the_solver_coupling(shape, dtype, atol, backend):
    cost = torch.rand(*shape, dtype=dtype, generator=torch.Generator().manual_seed(1))
    settings = dict(eps=0.07, alpha=0.3, radius=0.04, lambda_actions=0.05, n_iters=25)
    coupling, trace = naive_asot(cost, **settings)
    result = asot.solve(cost, backend=backend, **settings)
    np.testing.assert_allclose(coupling.numpy(), result.coupling.numpy(), atol=atol, rtol=0)
    np.testing.assert_allclose(trace.numpy(), result.objective.numpy(), rtol=1e-4 if dtype == torch.float32 else 1e-8)


def test_the_solver_benchmark_reads_the_stolen_cpu_share():
    """benchmarks/solver.py records the hypervisor's steal share: (d steal) / (d total) of /proc/stat."""
    import math

    from solver import cpu_times, steal_share

    before = [100, 0, 10, 800, 0, 0, 0, 90]
    after = [200, 0, 20, 900, 0, 0, 0, 170]  # 80 of 290 jiffies stolen
    assert steal_share(before, after) == pytest.approx(80 / 290)
    assert math.isnan(steal_share(None, after)) and math.isnan(steal_share(after, before))
    ticks = cpu_times()
    if Path("/proc/stat").exists():
        assert ticks is not None and len(ticks) == 8 and all(t >= 0 for t in ticks)
