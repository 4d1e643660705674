"""Property tests (hypothesis) for the matched metrics: bounds and invariances."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asot.metrics import (
    f1_legacy_sampled_details,
    match_full,
    match_per_video,
    miou,
    mof,
    segment_f1_details,
    segmentation_report,
)

SETTINGS = settings(max_examples=50, deadline=None)


@st.composite
def video_sets(draw, max_videos=3, max_frames=30, n_clusters=5, n_classes=4):
    """1-3 videos of paired cluster ids (0..n_clusters-1) and class ids (-1..n_classes-2)."""
    videos = []
    for _ in range(draw(st.integers(1, max_videos))):
        n = draw(st.integers(1, max_frames))
        pred = draw(st.lists(st.integers(0, n_clusters - 1), min_size=n, max_size=n))
        gt = draw(st.lists(st.integers(-1, n_classes - 2), min_size=n, max_size=n))
        videos.append((np.array(pred), np.array(gt)))
    return [p for p, _ in videos], [g for _, g in videos]


def _has_frames(gts, exclude):
    return any(np.any(~np.isin(g, exclude)) for g in gts)


@SETTINGS
@given(data=video_sets(), per_video=st.booleans(), exclude=st.sampled_from([(), (-1,)]))
def test_bounds(data, per_video, exclude):
    preds, gts = data
    if not _has_frames(gts, exclude):
        with pytest.raises(ValueError, match="no frames"):
            mof(preds, gts, exclude=exclude, per_video=per_video)
        return
    kw = dict(exclude=exclude, per_video=per_video)
    assert 0.0 <= mof(preds, gts, **kw) <= 1.0
    assert 0.0 <= miou(preds, gts, **kw) <= 1.0
    res = segment_f1_details(preds, gts, **kw)
    assert all(0.0 <= v <= 1.0 for v in res)
    # F1 is the harmonic mean: between min and max of P and R (per unit; averaged per video)
    if not per_video:
        assert min(res.precision, res.recall) - 1e-12 <= res.f1 <= max(res.precision, res.recall) + 1e-12
    legacy = f1_legacy_sampled_details(preds, gts, n_repeats=3, **kw)
    assert 0.0 <= legacy.recall <= 1.0 and legacy.precision >= 0.0
    report = segmentation_report(preds, gts, **kw)
    for key in ("mof", "f1", "miou", "edit", "f1@10", "f1@25", "f1@50", "accuracy"):
        assert 0.0 <= report[key] <= 100.0


@SETTINGS
@given(data=video_sets(), perm=st.permutations(range(5)), offset=st.integers(-50, 50))
def test_mof_invariant_to_cluster_relabelling(data, perm, offset):
    preds, gts = data
    perm = np.array(perm) + offset
    relabelled = [perm[p] for p in preds]
    for per_video in (False, True):
        assert mof(relabelled, gts, per_video=per_video) == pytest.approx(mof(preds, gts, per_video=per_video))


@SETTINGS
@given(data=video_sets(max_videos=2, max_frames=12, n_clusters=3, n_classes=3))
def test_all_matched_metrics_invariant_to_relabelling_when_the_matching_is_unique(data):
    # Ties between optimal matchings may legitimately change mIoU / F1; when the optimum is
    # unique, relabelling clusters must give exactly the same scores.
    preds, gts = data
    from scipy.optimize import linear_sum_assignment

    m = match_full(preds, gts)
    conf = m.confusion
    best = m.n_matched_frames
    # uniqueness check: forbidding any matched pair must lower the optimum
    for k, c in zip(m.clusters, m.classes):
        alt = conf.astype(float).copy()
        alt[np.searchsorted(m.all_clusters, k), np.searchsorted(m.all_classes, c)] = -1e9
        r, cc = linear_sum_assignment(alt, maximize=True)
        if alt[r, cc].sum() >= best:
            return
    perm = np.array([2, 0, 1])
    relabelled = [perm[p] for p in preds]
    assert miou(relabelled, gts) == pytest.approx(miou(preds, gts))
    assert segment_f1_details(relabelled, gts) == pytest.approx(segment_f1_details(preds, gts))


@SETTINGS
@given(data=video_sets(), shift=st.integers(1, 20))
def test_perfect_up_to_relabelling_scores_one(data, shift):
    _, gts = data
    preds = [g * 3 + shift for g in gts]  # an injective relabelling of the ground truth
    for per_video in (False, True):
        assert mof(preds, gts, per_video=per_video) == 1.0
        assert miou(preds, gts, per_video=per_video) == 1.0
        assert segment_f1_details(preds, gts, per_video=per_video) == (1.0, 1.0, 1.0)
    report = segmentation_report(gts, gts)
    assert all(report[k] == 100.0 for k in ("mof", "f1", "miou", "edit", "f1@10", "f1@25", "f1@50", "accuracy"))


@SETTINGS
@given(data=video_sets())
def test_per_video_matching_matches_at_least_as_many_frames_as_full(data):
    preds, gts = data
    full = match_full(preds, gts).n_matched_frames
    assert sum(m.n_matched_frames for m in match_per_video(preds, gts)) >= full


@SETTINGS
@given(data=video_sets(max_videos=1))
def test_exclusion_equals_dropping_the_frames(data):
    (pred,), (gt,) = data
    keep = gt != -1
    if not keep.any():
        return
    for fn in (mof, miou):
        assert fn(pred, gt, exclude=-1) == pytest.approx(fn(pred[keep], gt[keep]))
    assert segment_f1_details(pred, gt, exclude=-1) == pytest.approx(segment_f1_details(pred[keep], gt[keep]))
