"""The structure-radius policy (asot.ot.radius): one rule for solve, segment and train."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import asot
from asot.ot.radius import (DEFAULT_RADIUS, RadiusPolicy, action_occurrences, decay_radius, is_recurring, measure_radius,
                            radius_from_segments, recurrence, structure_band)  # fmt: skip


def test_one_default_constant():
    assert asot.SolverConfig().radius == DEFAULT_RADIUS
    for name in asot.preset_names():
        p = asot.get_preset(name)
        expected = {"desktop-assembly": 0.02, "default": "auto"}.get(name, DEFAULT_RADIUS)  # the paper's values; default: measured
        assert p.train_solver.radius == p.eval_solver.radius == expected
    from asot.defaults import DECODE, TRAIN_SOLVER

    assert TRAIN_SOLVER == asot.SolverConfig() and DECODE.radius == DEFAULT_RADIUS
    # the default preset: the decoding solver with the measured radius and a looser action marginal
    assert asot.get_preset("default").eval_solver == DECODE.replace(radius="auto", lambda_actions=0.10)


def test_policy_of_a_config():
    cfg = asot.SolverConfig()
    assert RadiusPolicy.of(cfg) == RadiusPolicy("fraction", DEFAULT_RADIUS)
    assert RadiusPolicy.of(cfg.replace(radius_frames=7)) == RadiusPolicy("frames", 7)
    assert RadiusPolicy.of(cfg.replace(radius="auto")).measured
    assert RadiusPolicy.of(cfg.replace(radius="auto"), radii=[0.1]) == RadiusPolicy("per-video", (0.1,))
    assert RadiusPolicy("fraction", 0.04).band([100, 10]) == ([4, 1], [0.04, 0.04])
    with pytest.raises(ValueError, match="resolve"):
        RadiusPolicy("measured").band([100])
    assert structure_band([100, 50], 0.04, radius_frames=7) == ([7, 7], [0.07, 0.14])


def test_bad_radius_is_named():
    with pytest.raises(ValueError, match="SolverConfig.radius: expected 0 < r <= 1 or 'auto'"):
        asot.SolverConfig(radius="segments")
    with pytest.raises(TypeError, match="SolverConfig.radius"):
        asot.SolverConfig(radius=[0.1])


def test_measured_rule_counts_segments_when_actions_appear_once():
    labels = np.repeat([0, 1, 2, 3], 100)
    assert measure_radius(np.zeros((400, 3)), labels) == pytest.approx(radius_from_segments(4)) == pytest.approx(1 / 12)
    blips = labels.copy()
    blips[[99, 199]] = 3  # runs shorter than 2% of the video are not segments
    assert measure_radius(np.zeros((400, 3)), blips, recurring=False) == pytest.approx(1 / 12)


def _flickering_once_per_video(seed: int) -> np.ndarray:
    """4 actions once each (1,000 frames); boundaries flicker between neighbours and a drifting
    action's frames alternate with its neighbour's label in long stretches (``A B A B``)."""
    rng = np.random.default_rng(seed)
    labels = np.repeat([0, 1, 2, 3], 250)
    for b in (250, 500, 750):  # boundary flicker
        for _ in range(6):
            i = b + int(rng.integers(-30, 30))
            labels[i : i + int(rng.integers(3, 12))] = labels[b - 1] if rng.random() < 0.5 else labels[b]
    labels[60:110] = 1  # drift inside action 0: long excursions to action 1 and back
    labels[150:200] = 1
    labels[560:600] = 3
    return labels


@pytest.mark.parametrize("seed", range(3))
def test_flicker_of_a_once_per_video_sequence_is_not_recurrence(seed):
    labels = _flickering_once_per_video(seed)
    runs = 1 + np.count_nonzero(np.diff(labels))
    assert runs / 4 >= 3  # counting runs would call this recurring
    assert action_occurrences(labels) == (4, 4) and recurrence(labels) == 1.0
    assert not is_recurring([labels, _flickering_once_per_video(seed + 10)])[0]
    # one segment per action present: a third of the mean segment, whatever the flicker
    assert measure_radius(np.zeros((labels.size, 3)), labels) == pytest.approx(1 / 12)


def test_genuinely_recurring_labels_are_recurring():
    cycle = np.repeat(np.tile([0, 1, 2], 4), 30)  # A B C A B C ...: each action 4 times
    assert action_occurrences(cycle) == (12, 3) and recurrence(cycle) == 4.0
    assert is_recurring([cycle, cycle[::-1]]) == (True, 4.0)
    # a return after one other action continues the occurrence, after two it is a new one
    assert action_occurrences(np.array([0, 1, 0, 2])) == (3, 3)  # A B A C: A once
    assert action_occurrences(np.array([0, 1, 0, 2, 1, 0])) == (5, 3)  # then B, A after two others: new
    assert action_occurrences(np.array([], dtype=int)) == (0, 0) and recurrence(np.array([])) == 1.0
    # short runs dropped before counting (their neighbours merge)
    assert action_occurrences(np.r_[np.zeros(50), [1], np.zeros(49)], min_length=4) == (1, 1)


@pytest.mark.parametrize("seg", [10, 40, 160])
def test_measured_rule_follows_the_feature_decay_when_actions_recur(seg):
    rng = np.random.default_rng(seg)
    truth = np.repeat(np.arange(30) % 5, seg)
    x = np.eye(5)[truth] + 0.3 * rng.standard_normal((len(truth), 5))
    recurring, median = is_recurring([truth])
    assert recurring and median == 6.0
    r = measure_radius(x, truth)
    assert r == decay_radius(x)
    assert seg / 16 <= r * len(truth) <= seg / 2, (seg, r * len(truth))


def test_solve_auto_measures_each_video_on_its_own_cost():
    rng = np.random.default_rng(0)
    truth = np.repeat([0, 1, 2, 3], 60)
    cost = (0.6 + 0.1 * rng.standard_normal((240, 4))).astype(np.float32)
    cost[np.arange(240), truth] -= 0.4
    cfg = asot.SolverConfig(eps=0.04, alpha=0.6, lambda_actions=0.01)
    auto = asot.solve(cost, config=cfg.replace(radius="auto"))
    # the rule: ASOT labels at the paper radius -> 4 segments -> r = 1/12
    expected = asot.solve(cost, config=cfg, radii=[1 / 12])
    np.testing.assert_array_equal(auto.labels.numpy(), expected.labels.numpy())
    batch = asot.solve(np.stack([cost, cost[::-1].copy()]), config=cfg.replace(radius="auto"))
    np.testing.assert_array_equal(batch.labels[0].numpy(), auto.labels.numpy())


def test_training_clips_carry_their_videos_radius():
    from asot.data import Video
    from asot.data.sampling import FrameDataset, collate_videos

    videos = [Video(f"v{i}", "a", np.zeros((50 + i, 3), np.float32)) for i in range(3)]
    ds = FrameDataset(videos, mode="train", n_frames=10, radii=[0.1, 0.2, 0.3])
    batch = collate_videos([ds[0], ds[2]])
    assert batch.radii.tolist() == [0.1, 0.3]
    assert torch.isnan(collate_videos([FrameDataset(videos, mode="test")[1]]).radii).all()
    with pytest.raises(ValueError, match="one radius per video"):
        FrameDataset(videos, radii=[0.1])


def test_module_radius_ignores_names_and_uses_known_radii():
    from asot.models import ASOTModule

    cfg = asot.SolverConfig(radius="auto")
    module = ASOTModule((4, 8, 4), 3, cfg, cfg.replace(eps=0.04, alpha=0.6, lambda_actions=0.01)).eval()
    feats = torch.from_numpy(np.repeat(np.eye(4, dtype=np.float32)[[0, 1, 2]], 40, axis=0))[None]
    mask = torch.ones(1, 120, dtype=torch.bool)
    measured = module.radii(module.eval_solver, feats, mask)
    assert measured == module.radii(module.eval_solver, feats, mask, [float("nan")])
    assert module.radii(module.eval_solver, feats, mask, torch.tensor([0.3], dtype=torch.float64)) == [0.3]
    assert module.radii(asot.SolverConfig(), feats, mask) is None
