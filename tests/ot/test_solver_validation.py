"""Bad input gets a clear error naming the argument."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import asot

GOOD = np.random.default_rng(0).random((20, 4))


@pytest.mark.parametrize(
    "cost, match",
    [
        (np.zeros(5), r"cost: expected shape \(N, K\) or \(B, N, K\)"),
        (np.zeros((1, 2, 3, 4)), r"cost: expected shape"),
        (np.zeros((5, 0)), r"cost: expected K >= 1"),
        (np.zeros((0, 3)), r"cost: expected at least one video and one frame"),
        (np.array([[0.0, np.nan]]), r"cost: contains NaN or Inf"),
        (np.array([[0.0, np.inf]]), r"cost: contains NaN or Inf"),
    ],
)
def test_bad_cost_raises_value_error(cost, match):
    with pytest.raises(ValueError, match=match):
        asot.solve(cost)


def test_non_finite_cost_is_caught_on_valid_frames_only():
    cost = torch.rand(2, 6, 3, dtype=torch.float64)
    cost[1, 5, 0] = float("nan")  # padding frame of video 1: ignored
    mask = torch.arange(6)[None, :] < torch.tensor([[6], [5]])
    result = asot.solve(cost, mask=mask)
    assert torch.isfinite(result.coupling).all()
    cost[0, 2, 1] = -float("inf")
    with pytest.raises(ValueError, match="cost: contains NaN or Inf"):
        asot.solve(cost, mask=mask)


@pytest.mark.parametrize("on_host", [True, False])  # False: the reduction used on CUDA
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_value_range_both_ways(on_host, dtype):
    from asot.ot.problem import _value_range

    values = torch.rand(3, 50, 4, dtype=dtype)
    assert _value_range(values, on_host) == (values.min().item(), values.max().item())
    for bad in (float("nan"), float("inf"), -float("inf")):
        spoiled = values.clone()
        spoiled[1, 7, 2] = bad
        low, high = _value_range(spoiled, on_host)
        assert not (np.isfinite(low) and np.isfinite(high))


@pytest.mark.parametrize("dtype, value", [(np.float32, 1e38), (np.float32, -1e37), (np.float64, -1e308)])
def test_costs_near_the_float_limit_are_rejected(dtype, value):
    cost = np.zeros((10, 3), dtype=dtype)
    cost[:, 0] = value
    with pytest.raises(ValueError, match="cost: values reach .* rescale the costs"):
        asot.solve(cost)
    cost[:, 0] = 1e30 if dtype == np.float32 else 1e300  # large but solvable
    assert np.isfinite(asot.solve(cost).coupling.numpy()).all()


@pytest.mark.parametrize("cost", [np.zeros((4, 3), dtype=np.int64), torch.zeros(4, 3, dtype=torch.int32), [[0.0, 1.0]]])
def test_non_float_cost_raises_type_error(cost):
    with pytest.raises(TypeError, match="cost"):
        asot.solve(cost)


@pytest.mark.parametrize(
    "radii, error, match",
    [
        ([0.1], ValueError, r"radii: expected 2 value\(s\), one per video, got 1"),
        ([0.1, 0.0], ValueError, r"radii: expected 0 < r <= 1 .*videos \[1\]"),
        ([np.nan, 0.2], ValueError, r"radii: .*videos \[0\]"),
        ([0.1, 1.5], ValueError, r"radii: .*videos \[1\] are \[1.5\]"),
        (["a", 0.1], TypeError, r"radii: expected one number per video"),
    ],
)
def test_bad_per_video_radii(radii, error, match):
    with pytest.raises(error, match=match):
        asot.solve(np.stack([GOOD, GOOD]), radii=radii)


def test_mask_of_wrong_shape():
    with pytest.raises(ValueError, match=r"mask: expected shape \(20,\)"):
        asot.solve(GOOD, mask=np.ones(19, dtype=bool))
    with pytest.raises(ValueError, match=r"mask: expected shape \(2, 20\)"):
        asot.solve(np.stack([GOOD, GOOD]), mask=np.ones((2, 21), dtype=bool))


def test_mask_with_an_all_false_row():
    mask = np.ones((2, 20), dtype=bool)
    mask[1] = False
    with pytest.raises(ValueError, match=r"mask: .*rows \[1\] are all False"):
        asot.solve(np.stack([GOOD, GOOD]), mask=mask)


def test_mask_with_holes_and_float_mask():
    mask = np.ones(20, dtype=bool)
    mask[3] = False
    with pytest.raises(ValueError, match="valid frames must come first"):
        asot.solve(GOOD, mask=mask)
    with pytest.raises(TypeError, match="mask: expected a boolean"):
        asot.solve(GOOD, mask=np.ones(20))


@pytest.mark.parametrize(
    "field, value, match",
    [
        ("radius", 0.0, r"SolverConfig.radius: expected 0 < r <= 1"),
        ("radius", 1.5, r"SolverConfig.radius"),
        ("eps", 0.0, r"SolverConfig.eps: expected eps > 0"),
        ("eps", -1.0, r"SolverConfig.eps"),
        ("alpha", -0.1, r"SolverConfig.alpha: expected 0 <= alpha <= 1"),
        ("alpha", 1.1, r"SolverConfig.alpha"),
        ("lambda_actions", -0.1, r"SolverConfig.lambda_actions: expected a non-negative"),
        ("lambda_frames", -1.0, r"SolverConfig.lambda_frames"),
        ("n_iters", -1, r"SolverConfig.n_iters"),
        ("sinkhorn_iters", 0, r"SolverConfig.sinkhorn_iters"),
        ("step_size", 0.0, r"SolverConfig.step_size"),
        ("radius_frames", 0, r"SolverConfig.radius_frames"),
        ("eps", float("nan"), r"SolverConfig.eps: expected a finite number"),
    ],
)
def test_bad_config_values(field, value, match):
    with pytest.raises(ValueError, match=match):
        asot.SolverConfig(**{field: value})


def test_bad_config_types():
    with pytest.raises(TypeError, match="SolverConfig.n_iters: expected an integer"):
        asot.SolverConfig(n_iters=2.5)
    with pytest.raises(TypeError, match="SolverConfig.eps: expected a real number"):
        asot.SolverConfig(eps="0.1")
    with pytest.raises(TypeError, match="config: expected a SolverConfig"):
        asot.solve(GOOD, config={"eps": 0.1})
    with pytest.raises(TypeError, match=r"SolverConfig: unknown field\(s\) \['epsilon'\]; known fields are \[.*'eps'"):
        asot.solve(GOOD, epsilon=0.1)
    config = asot.SolverConfig(n_iters=np.int64(5), eps=np.float32(0.05), detach=np.bool_(True))  # numpy scalars
    assert (type(config.n_iters), type(config.eps), type(config.detach)) == (int, float, bool)


def test_config_is_frozen_and_round_trips():
    config = asot.SolverConfig(eps=0.04)
    with pytest.raises(Exception):
        config.eps = 0.1  # type: ignore[misc]
    assert asot.SolverConfig.from_dict(config.to_dict()) == config
    with pytest.raises(ValueError, match="unknown field"):
        asot.SolverConfig.from_dict({"epsilon": 0.1})


def test_device_errors_name_the_device():
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA: the no-CUDA message cannot be produced")
    with pytest.raises(ValueError, match="device: 'cuda' requested but CUDA is not available"):
        asot.solve(GOOD, device="cuda")
    with pytest.raises(ValueError, match="device: 'cuda' requested but CUDA is not available"):
        asot.get_decoder("sinkhorn", device="cuda")
    with pytest.raises(ValueError, match="device: expected a torch device such as 'cpu'"):
        asot.solve(GOOD, device="gpu")


def test_solver_object_takes_arrays_directly():
    solver = asot.ASOTSolver(asot.SolverConfig())
    np.testing.assert_array_equal(solver(GOOD).labels.numpy(), asot.solve(GOOD).labels.numpy())
    batch = np.stack([GOOD, GOOD])
    mask = np.ones((2, 20), dtype=bool)
    mask[1, 15:] = False
    np.testing.assert_array_equal(solver(batch, mask).labels.numpy(), asot.solve(batch, mask=mask).labels.numpy())
