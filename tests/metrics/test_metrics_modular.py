"""Accumulating metric objects: update / compute / reset, against the functional forms."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from asot import metrics as M
from asot.metrics import (
    METRIC_KEYS,
    EditScore,
    F1AtOverlap,
    FrameAccuracy,
    MeanIoU,
    MoF,
    SegmentationMetrics,
    SegmentF1,
    SegmentF1Legacy,
    edit_score,
    f1_at_overlap,
    f1_legacy_sampled,
    frame_accuracy,
    miou,
    mof,
    segment_f1,
    segmentation_report,
)


def _videos(seed, n_videos=5):
    rng = np.random.default_rng(seed)
    preds, gts = [], []
    for _ in range(n_videos):
        n = int(rng.integers(5, 40))
        gt = np.sort(rng.integers(-1, 4, n))  # sorted: few, long segments
        pred = np.where(rng.random(n) < 0.7, gt + 1, rng.integers(0, 6, n))
        preds.append(pred)
        gts.append(gt)
    return preds, gts


def _pairs():
    return [
        (lambda **kw: MoF(**kw), mof),
        (lambda **kw: MeanIoU(**kw), miou),
        (lambda **kw: SegmentF1(**kw), segment_f1),
    ]


@pytest.mark.parametrize("per_video", [False, True])
@pytest.mark.parametrize("exclude", [(), (-1,)])
def test_matched_metrics_equal_functional_over_any_batching(per_video, exclude):
    preds, gts = _videos(0)
    for make, fn in _pairs():
        metric = make(per_video=per_video, exclude=exclude)
        metric.update(preds[:2], gts[:2])  # a list of videos
        metric.update(torch.from_numpy(preds[2]), torch.from_numpy(gts[2]))  # one video, torch
        metric.update(preds[3:], gts[3:])
        expected = fn(preds, gts, per_video=per_video, exclude=exclude)
        assert metric.compute() == pytest.approx(expected)
        assert metric.compute() == pytest.approx(expected)  # compute() is repeatable
        metric.reset()
        with pytest.raises(RuntimeError, match="before update"):
            metric.compute()
        metric.update(preds[0], gts[0])
        assert metric.compute() == pytest.approx(fn(preds[0], gts[0], per_video=per_video, exclude=exclude))


def test_padded_batches_with_mask():
    # two videos of 4 and 3 frames padded to 4; the padding (label 0 in both) must be ignored
    pred = torch.tensor([[1, 1, 2, 2], [3, 3, 3, 0]])
    gt = torch.tensor([[0, 0, 1, 1], [0, 0, 1, 0]])
    mask = torch.tensor([[True] * 4, [True, True, True, False]])
    metric = MoF(per_video=True)
    metric.update(pred, gt, mask=mask)
    # video 1 perfect; video 2: 3 3 3 vs 0 0 1 -> 2 of 3; mean (1 + 2/3) / 2
    assert metric.compute() == pytest.approx(5 / 6)
    acc = FrameAccuracy()
    acc.update(pred, gt, mask=mask)
    # raw ids: video 1 frames equal nowhere (1 1 2 2 vs 0 0 1 1): 0; video 2: none -> 0 of 7
    assert acc.compute() == 0.0
    with pytest.raises(ValueError, match="mask"):
        MoF().update(pred, gt, mask=mask[:, :3])


def test_supervised_metrics_equal_functional():
    preds, gts = _videos(1)
    acc, edit = FrameAccuracy(ignore=-1), EditScore(background=-1)
    f1s = {k: F1AtOverlap(k, background=-1) for k in (0.1, 0.25, 0.5)}
    for p, g in zip(preds, gts):
        for metric in (acc, edit, *f1s.values()):
            metric.update(p, g)
    assert acc.compute() == pytest.approx(frame_accuracy(preds, gts, ignore=-1))
    assert edit.compute() == pytest.approx(edit_score(preds, gts, background=-1))
    for k, metric in f1s.items():
        assert metric.compute() == pytest.approx(f1_at_overlap(preds, gts, k, background=-1))
    # the state is sufficient statistics summed over videos: every non-background GT segment
    # is either a TP or a FN (the labels are sorted, so one segment per class present)
    assert f1s[0.5].tp + f1s[0.5].fn == sum(len(np.unique(g[g != -1])) for g in gts)


def test_legacy_metric_is_seeded_and_repeatable():
    preds, gts = _videos(2)
    metric = SegmentF1Legacy(seed=3)
    metric.update(preds, gts)
    assert metric.compute() == metric.compute() == f1_legacy_sampled(preds, gts, seed=3)
    per_video = SegmentF1Legacy(per_video=True, seed=3)
    per_video.update(preds, gts)
    first = per_video.compute()
    per_video.reset()
    per_video.update(preds, gts)
    assert per_video.compute() == first


def test_segmentation_metrics_collection():
    preds, gts = _videos(3)
    metric = SegmentationMetrics(per_video=True, exclude=[-1])
    for p, g in zip(preds, gts):
        metric.update(p, g)
    report = metric.compute()
    assert report == segmentation_report(preds, gts, per_video=True, exclude=[-1])
    assert set(METRIC_KEYS) <= set(report) and len(report["videos"]) == 5
    with pytest.raises(ValueError, match="supervised_on"):
        SegmentationMetrics(supervised_on="bogus")


def test_repr_and_validation():
    assert repr(MoF(per_video=True, exclude=-1)) == "MoF(per_video=True, exclude=(-1,))"
    with pytest.raises(ValueError, match="0.1 for F1@10"):
        F1AtOverlap(50)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), split=st.integers(1, 4))
def test_batching_never_changes_the_result(seed, split):
    preds, gts = _videos(seed)
    for make, fn in _pairs():
        for per_video in (False, True):
            metric = make(per_video=per_video)
            metric.update(preds[:split], gts[:split])
            metric.update(preds[split:], gts[split:])
            assert metric.compute() == pytest.approx(fn(preds, gts, per_video=per_video))


def test_an_all_padding_row_is_not_a_video():
    """A batch row with no valid frame is padding: it must not count as a (perfect) video."""
    pred = np.array([[0, 1, 1, 0], [2, 2, 2, 2]])
    gt = np.array([[0, 0, 1, 1], [5, 5, 5, 5]])
    mask = np.array([[True] * 4, [False] * 4])
    edit = M.EditScore()
    edit.update(pred, gt, mask=mask)
    assert edit.compute() == pytest.approx(M.edit_score(pred[0], gt[0]))
    report = M.SegmentationMetrics()
    report.update(pred, gt, mask=mask)
    assert report.compute()["n_videos"] == 1
    assert M.mof([5, 5, 6, 6], [-1, 0, 0, 1], exclude=[np.int64(-1)]) == pytest.approx(2 / 3)  # numpy ids in a list
