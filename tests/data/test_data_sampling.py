"""Frame sampling and batching (spec section 4)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.utils.data import DataLoader

from asot.data import IGNORE_INDEX, Batch, FrameDataset, Video, collate_videos, sample_frames


def make_videos(lengths=(10, 700, 300), dim=3, labelled=True) -> list[Video]:
    out = []
    for i, n in enumerate(lengths):
        feats = np.arange(n * dim, dtype=np.float32).reshape(n, dim) + 1000 * i
        labels = (np.arange(n) * 4 // n).astype(np.int64) if labelled else None
        out.append(Video(f"v{i}", "act", feats, labels))
    return out


@settings(max_examples=60, deadline=None, derandomize=True)
@given(n_total=st.integers(1, 3000), n_samples=st.integers(1, 400), seed=st.integers(0, 2**32 - 1))
def test_train_sampling_one_frame_per_equal_bin(n_total, n_samples, seed):
    idx = sample_frames(n_total, n_samples, "train", np.random.default_rng(seed))
    assert idx.dtype == np.int64
    if n_total <= n_samples:
        np.testing.assert_array_equal(idx, np.arange(n_total))
        return
    assert idx.shape == (n_samples,)
    edges = (np.arange(n_samples + 1) * n_total) // n_samples
    assert ((idx >= edges[:-1]) & (idx < edges[1:])).all()  # exactly one frame in each bin
    assert (np.diff(idx) > 0).all()


@settings(max_examples=60, deadline=None, derandomize=True)
@given(n_total=st.integers(1, 3000), n_samples=st.integers(1, 400))
def test_val_sampling_evenly_spaced(n_total, n_samples):
    idx = sample_frames(n_total, n_samples, "val")
    if n_total <= n_samples:
        np.testing.assert_array_equal(idx, np.arange(n_total))
        return
    assert idx.shape == (n_samples,) and idx[0] == 0 and (n_samples == 1 or idx[-1] == n_total - 1)
    assert (np.diff(idx) > 0).all()
    if n_samples > 1:
        gaps = np.diff(idx)
        assert gaps.max() - gaps.min() <= 1  # evenly spaced up to rounding
    np.testing.assert_array_equal(idx, sample_frames(n_total, n_samples, "val"))


def test_test_mode_takes_every_frame_and_validation():
    np.testing.assert_array_equal(sample_frames(1000, 256, "test"), np.arange(1000))
    np.testing.assert_array_equal(sample_frames(50, None, "train"), np.arange(50))
    with pytest.raises(ValueError, match="mode"):
        sample_frames(10, 5, "bogus")
    with pytest.raises(ValueError, match="n_total"):
        sample_frames(0, 5, "val")
    with pytest.raises(ValueError, match="n_samples"):
        sample_frames(10, 0, "val")
    with pytest.raises(ValueError, match="Generator"):
        sample_frames(10, 5, "train")


def test_train_sampling_is_random_across_bins():
    rng = np.random.default_rng(0)
    draws = np.stack([sample_frames(1000, 10, "train", rng) for _ in range(400)])
    # each bin of 100 frames is covered roughly uniformly
    offsets = draws - (np.arange(10) * 100)
    assert offsets.min() == 0 and offsets.max() == 99
    assert abs(offsets.mean() - 49.5) < 3


def test_frame_dataset_modes():
    videos = make_videos()
    train = FrameDataset(videos, "train", n_frames=64, seed=3)
    s = train[1]
    assert s.features.shape == (64, 3) and s.labels.shape == (64,) and s.n_total == 700
    np.testing.assert_array_equal(s.features.numpy(), videos[1].features[s.frame_indices.numpy()])
    np.testing.assert_array_equal(s.labels.numpy(), videos[1].labels[s.frame_indices.numpy()])
    assert train[0].features.shape == (10, 3)  # short video: all frames
    val = FrameDataset(videos, "val", n_frames=64)
    np.testing.assert_array_equal(val[1].frame_indices.numpy(), sample_frames(700, 64, "val"))
    test = FrameDataset(videos, "test", n_frames=64)
    assert test[1].features.shape == (700, 3)
    assert len(train) == 3
    with pytest.raises(ValueError, match="mode"):
        FrameDataset(videos, "bogus")
    with pytest.raises(ValueError, match="n_frames"):
        FrameDataset(videos, n_frames=0)
    with pytest.raises(ValueError, match="seed"):
        FrameDataset(videos, seed=-1)
    with pytest.raises(ValueError, match="no videos"):
        FrameDataset([])


def test_frame_dataset_seeding_is_deterministic_and_global_rng_free():
    videos = make_videos()
    a, b = FrameDataset(videos, "train", 32, seed=7), FrameDataset(videos, "train", 32, seed=7)
    np.random.seed(123)
    first = a[1].frame_indices
    np.random.seed(999)  # the global RNG has no influence
    assert torch.equal(first, b[1].frame_indices)
    assert not torch.equal(first, a[1].frame_indices)  # a second read of the same item differs
    a.set_epoch(1)
    b.set_epoch(1)
    e1 = a[1].frame_indices
    assert torch.equal(e1, b[1].frame_indices) and not torch.equal(e1, first)
    a.set_epoch(0)
    assert torch.equal(a[1].frame_indices, first)  # set_epoch resets the draw counter
    assert not torch.equal(FrameDataset(videos, "train", 32, seed=8)[1].frame_indices, first)


def test_collate_pads_with_mask():
    videos = make_videos(lengths=(10, 700, 30))
    ds = FrameDataset(videos, "train", n_frames=64, seed=0)
    batch = collate_videos([ds[0], ds[1], ds[2]])
    assert isinstance(batch, Batch)
    assert batch.features.shape == (3, 64, 3) and batch.features.dtype == torch.float32
    assert batch.mask.dtype == torch.bool and batch.mask.sum(1).tolist() == [10, 64, 30]
    assert batch.lengths.tolist() == [10, 64, 30] and batch.n_total.tolist() == [10, 700, 30]
    assert (batch.features[0, 10:] == 0).all() and (batch.labels[0, 10:] == IGNORE_INDEX).all()
    assert (batch.frame_indices[2, 30:] == -1).all()
    assert (batch.labels[batch.mask] >= 0).all()
    assert batch.names == ["v0", "v1", "v2"] and batch.activities == ["act"] * 3
    with pytest.raises(ValueError, match="empty batch"):
        collate_videos([])
    other = FrameDataset([Video("w", "a", np.zeros((5, 4), np.float32))], "test")[0]
    with pytest.raises(ValueError, match="different feature dims"):
        collate_videos([ds[0], other])


def test_unlabelled_videos_get_ignore_index():
    ds = FrameDataset(make_videos(lengths=(20,), labelled=False), "val", n_frames=8)
    assert (ds[0].labels == IGNORE_INDEX).all()


def _indices(num_workers: int) -> list[list[int]]:
    videos = make_videos(lengths=(500, 700, 300, 900))
    ds = FrameDataset(videos, "train", n_frames=16, seed=11)
    out = []
    for epoch in range(2):
        ds.set_epoch(epoch)
        loader = DataLoader(ds, batch_size=2, shuffle=False, collate_fn=collate_videos, num_workers=num_workers)
        for batch in loader:
            out += batch.frame_indices.tolist()
    return out


def test_dataloader_workers_draw_the_same_frames():
    single = _indices(0)
    assert single == _indices(2)
    assert len(single) == 8 and single[:4] != single[4:]  # the two epochs differ
