"""One name for the frames left out of scoring: ``exclude=`` (``ignore=`` kept as its earlier
name on frame accuracy)."""

from __future__ import annotations

import numpy as np
import pytest

from asot.metrics import FrameAccuracy, frame_accuracy, mof

PRED = [np.array([0, 0, 0, 1, 1, 2])]
GT = [np.array([9, 9, 0, 1, 1, 1])]


def test_frame_accuracy_exclude_and_its_earlier_name_agree():
    assert frame_accuracy(PRED, GT, exclude=9) == frame_accuracy(PRED, GT, ignore=9) == pytest.approx(75.0)
    assert frame_accuracy(PRED, GT) == pytest.approx(50.0)
    with pytest.raises(TypeError, match="not both"):
        frame_accuracy(PRED, GT, exclude=9, ignore=9)


def test_frame_accuracy_metric_object_takes_both_names():
    new, old = FrameAccuracy(exclude=[9]), FrameAccuracy(ignore=[9])
    for metric in (new, old):
        metric.update(PRED, GT)
    assert new.compute() == old.compute() == pytest.approx(75.0)
    assert new.exclude == old.ignore == (9,) and "exclude=(9,)" in repr(new)


def test_exclude_means_the_same_frames_for_accuracy_and_mof():
    # identity labels: after dropping ground-truth label 9, MoF (matched) and accuracy agree
    pred, gt = [np.array([5, 0, 1, 1])], [np.array([9, 0, 1, 1])]
    assert mof(pred, gt, exclude=9) * 100 == pytest.approx(frame_accuracy(pred, gt, exclude=9))
