"""Per-frame outputs are written a block at a time: the files and values are those of the
whole-array forms, and the decoders hand back one unpadded video without copying it."""

from __future__ import annotations

import numpy as np
import pytest

from asot.decoders import ASOTDecoder, pad_batch
from asot.io import labels as L
from asot.io import segments as S
from asot.io.labels import LabelMapping, write_label_file


@pytest.mark.parametrize("block", [1, 3, 1 << 16])
def test_label_file_is_one_line_per_frame_whatever_the_block(tmp_path, monkeypatch, block):
    monkeypatch.setattr(L, "_LINES_PER_BLOCK", block)
    arr = np.array([3, 3, 0, 12, 12, 12, 7, 0, 3, -1])
    write_label_file(tmp_path / "ids", arr)
    assert (tmp_path / "ids").read_text() == "".join(f"{v}\n" for v in arr.tolist())
    mapping = LabelMapping.from_pairs([(0, "SIL"), (1, "pour"), (2, "stir")])
    write_label_file(tmp_path / "names", np.array([2, 0, 0, 1]), mapping)
    assert (tmp_path / "names").read_text() == "stir\nSIL\nSIL\npour\n"
    with pytest.raises(KeyError, match="id 5"):
        write_label_file(tmp_path / "bad", np.array([0, 5]), mapping)
    write_label_file(tmp_path / "empty", np.zeros(0, dtype=np.int64))
    assert (tmp_path / "empty").read_text() == ""


def test_confidence_by_blocks_equals_the_whole_coupling(monkeypatch):
    rng = np.random.default_rng(0)
    coupling = rng.random((1000, 6)).astype(np.float32)
    coupling[5] = 0.0  # a row without mass
    labels = rng.integers(-1, 6, 1000)
    t = coupling.astype(np.float64)
    mass = t.sum(axis=1)
    expected = np.where((mass > 0) & (labels >= 0), t[np.arange(1000), np.clip(labels, 0, 5)] / np.where(mass > 0, mass, 1.0), 0.0)
    monkeypatch.setattr(S, "_CONFIDENCE_ROWS", 7)
    got = S.coupling_confidence(coupling, labels)
    assert got.dtype == np.float64 and np.array_equal(got, expected)


def test_one_video_is_decoded_without_padding_copies():
    cost = np.random.default_rng(1).random((300, 4)).astype(np.float32)
    padded, mask = pad_batch([cost])
    assert np.shares_memory(padded, cost) and padded.shape == (1, 300, 4) and mask.all()
    seen = []
    kept = ASOTDecoder().decode_many([cost, cost[:200]], batch_size=1, callback=lambda i, d: seen.append((i, d)), keep=False)
    assert kept == [None, None] and sorted(i for i, _ in seen) == [0, 1]
    whole = ASOTDecoder().decode(cost)
    first = dict(seen)[0]
    assert np.array_equal(first.labels, whole.labels) and np.array_equal(first.coupling, whole.coupling)
