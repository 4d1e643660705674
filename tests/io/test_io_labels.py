"""Label files, mapping files, label arrays and atomic writers (asot.io.labels)."""

from __future__ import annotations

import json
import os
import stat

import numpy as np
import pytest
import torch

from asot.io.labels import (
    LabelFileError,
    LabelMapping,
    atomic_write_text,
    read_label_file,
    read_labels,
    read_mapping,
    save_label_array,
    write_json,
    write_label_file,
)
from conftest import require_shared

# A 50 Salads-like many-to-one mapping: two names share id 4 (class identity is the id).
MAPPING = "0 action_start\n1 add_oil\n4 cut_tomato\n4 cut_cheese\n2 action_end\n"


@pytest.fixture
def mapping(tmp_path):
    path = tmp_path / "mapping.txt"
    path.write_text(MAPPING)
    return read_mapping(path)


def test_read_mapping_many_to_one(mapping):
    assert mapping.id_of("cut_tomato") == mapping.id_of("cut_cheese") == 4
    assert mapping.ids == [0, 1, 2, 4]
    assert mapping.name_of(4) == "cut_tomato"  # first listed name is canonical
    assert len(mapping) == 5 and "add_oil" in mapping and "salt" not in mapping
    assert mapping.id_to_names[4] == ("cut_tomato", "cut_cheese")


def test_read_mapping_errors_name_file_and_line(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("0 a\nnot_an_id b\n")
    with pytest.raises(LabelFileError, match=r"bad\.txt:2: expected '<id> <name>'"):
        read_mapping(bad)
    bad.write_text("0 a\n1 a\n")
    with pytest.raises(LabelFileError, match="two ids"):
        read_mapping(bad)
    bad.write_text("\n\n")
    with pytest.raises(LabelFileError, match="empty mapping"):
        read_mapping(bad)
    with pytest.raises(LabelFileError, match="no such file"):
        read_mapping(tmp_path / "missing.txt")


def test_read_mapping_tolerates_crlf_and_blank_lines(tmp_path):
    path = tmp_path / "m.txt"
    path.write_bytes(b"0 SIL\r\n\r\n1 pour_milk\r\n")
    m = read_mapping(path)
    assert m.name_to_id == {"SIL": 0, "pour_milk": 1}


def test_read_groundtruth_names(tmp_path, mapping):
    path = tmp_path / "video"
    path.write_text("action_start\naction_start\ncut_cheese\ncut_tomato\naction_end\n\n")
    assert read_label_file(path) == ["action_start", "action_start", "cut_cheese", "cut_tomato", "action_end"]
    labels = read_labels(path, mapping)
    assert labels.dtype == np.int64
    np.testing.assert_array_equal(labels, [0, 0, 4, 4, 2])


def test_unknown_label_names_file_and_line(tmp_path, mapping):
    path = tmp_path / "video"
    path.write_text("action_start\nstir_tea\n")
    with pytest.raises(LabelFileError, match=r"video:2: unknown label 'stir_tea'") as info:
        read_labels(path, mapping)
    assert info.value.path == path and info.value.line == 2
    assert "mapping.txt" in str(info.value)


def test_names_without_mapping_is_an_error(tmp_path):
    path = tmp_path / "video"
    path.write_text("a\nb\n")
    with pytest.raises(LabelFileError, match="no mapping"):
        read_labels(path)


def test_blank_line_in_the_middle_is_an_error(tmp_path):
    path = tmp_path / "video"
    path.write_text("a\n\nb\n")
    with pytest.raises(LabelFileError, match=r"video:2: empty label"):
        read_label_file(path)


def test_integer_label_files(tmp_path):
    path = tmp_path / "video.txt"
    path.write_text("3\n3\n-1\n0\n")
    np.testing.assert_array_equal(read_labels(path), [3, 3, -1, 0])


def test_npy_labels(tmp_path):
    path = tmp_path / "v.npy"
    np.save(path, np.array([1, 2, 2], dtype=np.int32))
    np.testing.assert_array_equal(read_labels(path), [1, 2, 2])
    np.save(path, np.array([1.0, 2.0]))
    np.testing.assert_array_equal(read_labels(path), [1, 2])
    np.save(path, np.array([1.5, 2.0]))
    with pytest.raises(LabelFileError, match="integer labels"):
        read_labels(path)
    np.save(path, np.zeros((3, 2)))
    with pytest.raises(LabelFileError, match=r"1-D label array"):
        read_labels(path)
    path.write_text("garbage")
    with pytest.raises(LabelFileError, match=r"v\.npy: not a \.npy file"):
        read_labels(path)


def test_write_label_file_roundtrip(tmp_path, mapping):
    path = tmp_path / "out" / "video"  # parent created
    write_label_file(path, np.array([0, 4, 4, 2]), mapping)
    assert path.read_text() == "action_start\ncut_tomato\ncut_tomato\naction_end\n"
    np.testing.assert_array_equal(read_labels(path, mapping), [0, 4, 4, 2])
    write_label_file(path, torch.tensor([5, -1]))
    assert path.read_text() == "5\n-1\n"
    with pytest.raises(KeyError, match="id 7"):
        write_label_file(path, [7], mapping)
    assert path.read_text() == "5\n-1\n"  # a failed write leaves the old file intact


def test_write_label_file_streams_long_videos_over_several_blocks(tmp_path):
    """More frames than one write block, small ids and large or negative ones: the same text as
    one line per frame."""
    from asot.io import labels as labels_io

    rng = np.random.default_rng(0)
    n = 3 * labels_io._LINES_PER_BLOCK + 17
    for ids in (rng.integers(0, 12, n), rng.choice([-1, 3, 10**9], n)):
        path = write_label_file(tmp_path / "video", ids)
        assert path.read_text() == "".join(f"{int(v)}\n" for v in ids)
        np.testing.assert_array_equal(read_labels(path), ids)


def test_save_label_array_roundtrip(tmp_path):
    path = save_label_array(tmp_path / "v.npy", torch.tensor([3, 1, 2]))
    loaded = np.load(path)
    assert loaded.dtype == np.int64
    np.testing.assert_array_equal(loaded, [3, 1, 2])


def test_atomic_writers_leave_no_temporary_files(tmp_path):
    target = tmp_path / "report.json"
    write_json(target, {"mof": 77.05, "videos": {"a": {"mof": None}}})
    assert json.loads(target.read_text()) == {"mof": 77.05, "videos": {"a": {"mof": None}}}
    with pytest.raises(ValueError):
        write_json(target, {"mof": float("nan")})  # NaN is not JSON
    assert json.loads(target.read_text())["mof"] == 77.05
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]
    mode = stat.S_IMODE(os.stat(target).st_mode)
    assert mode == 0o666 & ~_umask()  # the usual permissions, not mkstemp's 0600


def test_atomic_write_replaces_through_os_replace(tmp_path, monkeypatch):
    target = tmp_path / "f.txt"
    target.write_text("old")
    calls = []
    real_replace = os.replace

    def spy(src, dst):
        calls.append((os.path.dirname(src), os.fspath(dst)))
        assert open(src).read() == "new"  # complete before it becomes visible
        assert target.read_text() == "old"
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    atomic_write_text(target, "new")
    assert target.read_text() == "new"
    assert calls == [(str(tmp_path), str(target))]  # temporary file in the same folder


def test_label_mapping_from_pairs_and_decode():
    m = LabelMapping.from_pairs([(0, "a"), (1, "b")])
    assert m.decode([1, 0]) == ["b", "a"]
    with pytest.raises(LabelFileError, match="unknown label 'c'"):
        m.encode(["a", "c"])


def test_real_mapping_files():
    gt = require_shared("data", "asot_examples", "gt")
    fse = read_mapping(gt / "mapping_fse.txt")
    # every cut_* is 4, add_salt and add_vinegar share 10: 19 names, 12 ids
    assert len(fse) == 19 and fse.ids == list(range(12))
    assert {fse.id_of(n) for n in ("cut_cucumber", "cut_tomato", "cut_cheese", "cut_lettuce")} == {4}
    assert fse.id_of("add_salt") == fse.id_of("add_vinegar") == 10
    labels = read_labels(gt / "rgb-18-2", fse)
    assert labels.shape == (7555,) and labels[0] == 0 and labels[-1] == 11


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_atomic_writes_name_a_folder_or_file_in_the_way(tmp_path):
    from asot.io.labels import atomic_write_text

    (tmp_path / "a_folder").mkdir()
    with pytest.raises(IsADirectoryError, match="is a folder; expected a file path"):
        atomic_write_text(tmp_path / "a_folder", "x")
    (tmp_path / "a_file").write_text("x")
    with pytest.raises(NotADirectoryError, match="is a file; expected a folder"):
        atomic_write_text(tmp_path / "a_file" / "sub" / "out.json", "x")
    assert (tmp_path / "a_file").read_text() == "x"


def test_mapping_with_a_byte_order_mark(tmp_path):
    (tmp_path / "mapping.txt").write_bytes(b"\xef\xbb\xbf0 a\n1 b\n")
    assert read_mapping(tmp_path / "mapping.txt").id_to_names == {0: ("a",), 1: ("b",)}
