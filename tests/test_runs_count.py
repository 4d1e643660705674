"""The one run counter (asot.runs.count_runs) and the one k-means subsampling (asot.models.kmeans)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asot.runs import count_runs, run_length_encode


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 3), max_size=40), st.integers(1, 6))
def test_count_runs_agrees_with_the_encoder(labels, min_length):
    runs = run_length_encode(np.asarray(labels, dtype=np.int64))
    assert count_runs(labels) == runs.labels.size
    assert count_runs(labels, min_length) == int((runs.lengths >= min_length).sum())


def test_count_runs_hand_case():
    assert count_runs([5, 5, 1, 1, 1, 5]) == 3
    assert count_runs([5, 5, 1, 1, 1, 5], min_length=3) == 1
    assert count_runs([]) == 0


def test_kmeans_subsampling_is_even_and_bounded():
    from asot.models.kmeans import fit_kmeans, subsample_evenly

    frames = np.arange(10.0)[:, None]
    assert subsample_evenly(frames, 20) is frames
    picked = subsample_evenly(frames, 4)[:, 0]
    assert picked.tolist() == [0.0, 3.0, 6.0, 9.0]
    with pytest.raises(ValueError, match=r"^k-means init: 2 training frames for K = 3 clusters$"):
        fit_kmeans(frames[:2], 3, what="k-means init: {n} training frames")


def test_subsample_rows_of_videos_equals_subsampling_their_concatenation():
    from asot.models.kmeans import subsample_evenly, subsample_rows

    rng = np.random.default_rng(0)
    videos = [rng.standard_normal((n, 3)).astype(np.float32) for n in (7, 1, 30, 12)]
    whole = np.concatenate(videos).astype(np.float64)
    for keep in (5, 13, 49, 50, 80):
        picked = subsample_rows(videos, keep)
        assert picked.dtype == np.float64 and np.array_equal(picked, subsample_evenly(whole, keep))


def test_even_subsample_streamed_in_chunks_keeps_the_same_rows_and_checks_the_count():
    from asot.models.kmeans import EvenSubsample, subsample_rows

    rng = np.random.default_rng(1)
    videos = [rng.standard_normal((n, 2)).astype(np.float32) for n in (40, 3, 17, 60)]
    picker = EvenSubsample(120, max_frames=25)
    for v in videos:
        picker.add(v)
    assert np.array_equal(picker.rows(), subsample_rows(videos, 25)) and len(picker.rows()) == 25
    short = EvenSubsample(121, max_frames=25)
    for v in videos:
        short.add(v)
    with pytest.raises(ValueError, match="120 frames given, 121 announced"):
        short.rows()
    with pytest.raises(ValueError, match="more than the 10 frames"):
        EvenSubsample(10).add(videos[0])


def test_kmeans_of_videos_is_the_fit_of_their_float64_concatenation():
    from sklearn.cluster import KMeans

    from asot.models.kmeans import fit_kmeans

    rng = np.random.default_rng(2)
    videos = [(rng.standard_normal((n, 3)) + rng.integers(0, 4)).astype(np.float32) for n in (50, 80, 30)]
    whole = np.concatenate(videos).astype(np.float64)
    ref = KMeans(n_clusters=4, n_init=3, random_state=0).fit(whole)
    assert np.array_equal(fit_kmeans(videos, 4).cluster_centers_, ref.cluster_centers_)
    mine = whole.copy()
    fit_kmeans(mine, 4)  # an array given as float64 is the user's: scikit-learn may not centre it in place
    assert np.array_equal(mine, whole)
