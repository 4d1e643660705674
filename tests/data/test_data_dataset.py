"""The standard-layout reader (spec section 6): naming rules, mappings, validation, real data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import require_shared

from asot.data import (
    DatasetError,
    Video,
    dataset_kind,
    load_dataset,
    parse_activity,
    read_features,
    read_ground_truth,
    read_mapping,
    standardise_features,
)

# ---------------------------------------------------------------------------------------------
# writing small datasets in the standard layout


def write_dataset(
    root: Path,
    dataset: str,
    videos: dict[str, list[str]],
    mapping: dict[str, int] | list[tuple[int, str]],
    *,
    subdir=lambda name: None,
    fmt: str = "npy",
    dim: int = 4,
    extra_mappings: dict[str, list[tuple[int, str]]] | None = None,
    seed: int = 0,
) -> Path:
    """Write ROOT/<dataset>/{features,groundTruth,mapping}; features are random (N, dim)."""
    rng = np.random.default_rng(seed)
    base = root / dataset
    (base / "groundTruth").mkdir(parents=True, exist_ok=True)
    (base / "mapping").mkdir(parents=True, exist_ok=True)
    pairs = list(mapping.items()) if isinstance(mapping, dict) else [(n, i) for i, n in mapping]
    (base / "mapping" / "mapping.txt").write_text("".join(f"{i} {n}\n" for n, i in pairs))
    for fname, lines in (extra_mappings or {}).items():
        (base / "mapping" / fname).write_text("".join(f"{i} {n}\n" for i, n in lines))
    for name, labels in videos.items():
        (base / "groundTruth" / name).write_text("\n".join(labels) + "\n")
        folder = base / "features" / (subdir(name) or "")
        folder.mkdir(parents=True, exist_ok=True)
        feats = rng.standard_normal((len(labels), dim)).astype(np.float32)
        if fmt == "npy":
            np.save(folder / f"{name}.npy", feats)
        else:
            np.savetxt(folder / f"{name}.txt", feats)
    return base


def segs(*pairs: tuple[str, int]) -> list[str]:
    return [name for name, n in pairs for _ in range(n)]


# ---------------------------------------------------------------------------------------------
# naming rules


def test_dataset_kind_and_parse_activity():
    assert dataset_kind("Breakfast") == "breakfast"
    assert dataset_kind("YTI") == "yti"
    assert dataset_kind("FS") == dataset_kind("FSeval") == dataset_kind("50 Salads") == "50salads"
    assert dataset_kind("desktop_assembly") == dataset_kind("Desktop-Assembly") == "desktop_assembly"
    assert dataset_kind("Synthetic") == "breakfast"
    assert dataset_kind("ActRecTut") == "generic"
    assert parse_activity("P03_cam01_P03_coffee", "breakfast") == "coffee"
    assert parse_activity("changing_tire_0003", "yti") == "changing_tire"
    assert parse_activity("rgb-18-2", "50salads", "FS") == "FS"
    assert parse_activity("2020-04-19_14-03-25", "desktop_assembly", "DA") == "DA"
    assert parse_activity("anything", "generic") is None
    with pytest.raises(DatasetError, match="_<activity>"):
        parse_activity("nounderscore", "breakfast")
    with pytest.raises(ValueError, match="unknown dataset kind"):
        parse_activity("a_b", "nope")


def test_breakfast_layout_txt_and_activity_filter(tmp_path):
    mapping = {"SIL": 0, "take_cup": 1, "pour_milk": 2, "crack_egg": 3}
    videos = {
        "P01_cam01_P01_coffee": segs(("SIL", 3), ("take_cup", 5), ("pour_milk", 4), ("SIL", 2)),
        "P02_webcam02_P02_coffee": segs(("take_cup", 6), ("pour_milk", 6)),
        "P01_cam01_P01_friedegg": segs(("SIL", 2), ("crack_egg", 7)),
    }
    write_dataset(tmp_path, "Breakfast", videos, mapping, subdir=lambda n: n.rsplit("_", 1)[1], fmt="txt", dim=3)
    ds = load_dataset(tmp_path, "Breakfast")
    assert ds.kind == "breakfast" and len(ds) == 3
    assert ds.activities == ("coffee", "friedegg")
    v = ds["P01_cam01_P01_coffee"]
    assert v.activity == "coffee" and v.features.shape == (14, 3) and v.features.dtype == np.float32
    assert v.labels.dtype == np.int64
    assert v.labels.tolist() == [0] * 3 + [1] * 5 + [2] * 4 + [0] * 2
    assert v.label_names[3] == "take_cup"
    assert v.path.parent.name == "coffee"
    coffee = load_dataset(tmp_path, "Breakfast", activities="coffee")
    assert [x.name for x in coffee] == ["P01_cam01_P01_coffee", "P02_webcam02_P02_coffee"]
    assert coffee.classes() == (0, 1, 2)
    assert ds.select(["friedegg"]).classes(exclude=[0]) == (3,)
    assert set(ds.by_activity()) == {"coffee", "friedegg"}
    with pytest.raises(DatasetError, match=r"unknown activity \['tea'\].*available: \['coffee', 'friedegg'\]"):
        load_dataset(tmp_path, "Breakfast", activities=["tea"])
    with pytest.raises(DatasetError, match="available"):
        ds.select("tea")
    with pytest.raises(DatasetError, match="no activities selected"):
        load_dataset(tmp_path, "Breakfast", activities=[])


def test_yti_layout_background_and_idt_files(tmp_path):
    mapping = [(-1, "background"), (0, "loosen_nut"), (1, "jack_up"), (2, "compress")]
    videos = {
        "changing_tire_0001": segs(("background", 4), ("loosen_nut", 5), ("background", 2), ("jack_up", 6)),
        "changing_tire_0002": segs(("loosen_nut", 3), ("jack_up", 3), ("background", 5)),
        "cpr_0001": segs(("background", 2), ("compress", 9)),
    }
    # YTI features under features/<activity>/ and (for cpr) directly under features/
    base = write_dataset(tmp_path, "YTI", videos, mapping,
                         subdir=lambda n: n.rsplit("_", 1)[0] if n.startswith("changing") else None)  # fmt: skip
    # *_idt files are not videos: ignored even though their labels are not in the mapping
    (base / "groundTruth" / "changing_tire_0001_idt").write_text("not_a_label\n")
    np.save(base / "features" / "changing_tire" / "changing_tire_0001_idt.npy", np.zeros((3, 4), np.float32))
    (base / "groundTruth" / ".DS_Store").write_text("junk")
    ds = load_dataset(tmp_path, "YTI")
    assert ds.kind == "yti"
    assert [v.name for v in ds] == ["changing_tire_0001", "changing_tire_0002", "cpr_0001"]
    assert ds.activities == ("changing_tire", "cpr")
    v = ds["changing_tire_0001"]
    assert v.labels.tolist()[:6] == [-1, -1, -1, -1, 0, 0]
    assert (v.labels == -1).sum() == 6
    assert ds.mapping.name_to_id["background"] == -1
    assert ds.classes() == (-1, 0, 1, 2)
    assert ds.classes(exclude=[-1]) == (0, 1, 2)
    assert load_dataset(tmp_path, "YTI", activities=["cpr"])[0].name == "cpr_0001"


SALADS_MID = ["action_start", "add_oil", "cut_tomato", "cut_cheese", "place_tomato_into_bowl",
              "place_cheese_into_bowl", "add_salt", "add_vinegar", "mix_ingredients", "action_end"]  # fmt: skip
SALADS_EVAL = [(0, "action_start"), (1, "add_oil"), (2, "cut_tomato"), (2, "cut_cheese"),
               (3, "place_tomato_into_bowl"), (3, "place_cheese_into_bowl"), (4, "add_salt"),
               (4, "add_vinegar"), (5, "mix_ingredients"), (6, "action_end")]  # fmt: skip


@pytest.fixture
def salads(tmp_path) -> Path:
    videos = {
        "rgb-01-1": segs(("action_start", 2), ("cut_tomato", 4), ("cut_cheese", 3), ("add_salt", 2),
                         ("add_vinegar", 2), ("mix_ingredients", 3), ("action_end", 1)),
        "rgb-18-2": segs(("action_start", 1), ("add_oil", 2), ("place_tomato_into_bowl", 3),
                         ("place_cheese_into_bowl", 4), ("action_end", 2)),
    }  # fmt: skip
    write_dataset(tmp_path, "FS", videos, {n: i for i, n in enumerate(SALADS_MID)}, extra_mappings={"mappingeval.txt": SALADS_EVAL})
    return tmp_path


def test_50salads_mid_granularity(salads):
    for kwargs in ({}, {"granularity": "mid"}, {"mapping": "mapping.txt"}):
        ds = load_dataset(salads, "FS", **kwargs)
        assert ds.kind == "50salads" and ds.activities == ("FS",)
        assert len(ds.mapping.ids) == 10
        assert ds["rgb-01-1"].labels.tolist()[:9] == [0, 0, 2, 2, 2, 2, 3, 3, 3]
        assert len(np.unique(ds["rgb-01-1"].labels)) == 7


def test_50salads_eval_granularity_is_many_to_one(salads):
    for ds in (load_dataset(salads, "FS", granularity="eval"), load_dataset(salads, "FS", mapping="mappingeval.txt"),
               load_dataset(salads, "FSeval")):  # fmt: skip
        assert ds.name == "FS" and len(ds.mapping.ids) == 7 and len(ds.mapping.name_to_id) == 10
        v = ds["rgb-01-1"]
        # cut_tomato and cut_cheese are one class; add_salt and add_vinegar are one class
        assert v.labels.tolist() == [0, 0] + [2] * 7 + [4] * 4 + [5] * 3 + [6]
        assert v.label_names[2] == "cut_tomato" and v.label_names[6] == "cut_cheese"
        assert ds["rgb-18-2"].labels.tolist() == [0, 1, 1] + [3] * 7 + [6, 6]
    m = load_dataset(salads, "FS", granularity="eval").mapping
    assert m.id_to_names[2] == ("cut_tomato", "cut_cheese") and m.name_of(2) == "cut_tomato"
    assert m.decode([2, 4]) == ["cut_tomato", "add_salt"]
    with pytest.raises(ValueError, match="granularity"):
        load_dataset(salads, "FS", granularity="coarse")
    with pytest.raises(ValueError, match="contradicts"):
        load_dataset(salads, "FS", granularity="eval", mapping="mapping.txt")


def test_desktop_assembly_single_activity(tmp_path):
    mapping = {"Pick_up_chip": 0, "Place_chip_on_motherboard": 1, "Close_cover": 2, "Background": 22}
    videos = {
        "2020-04-19_14-03-25": segs(("Pick_up_chip", 3), ("Place_chip_on_motherboard", 4), ("Background", 2)),
        "2020-03-01_10-00-00": segs(("Pick_up_chip", 2), ("Close_cover", 5)),
    }
    write_dataset(tmp_path, "desktop_assembly", videos, mapping, dim=5)
    ds = load_dataset(tmp_path, "desktop_assembly")
    assert ds.kind == "desktop_assembly"
    assert ds.activities == ("desktop_assembly",)  # names contain '_' but there is one activity
    assert ds["2020-04-19_14-03-25"].labels.tolist() == [0] * 3 + [1] * 4 + [22] * 2
    assert ds.dim == 5


def test_generic_mode_flat_and_subfolders(tmp_path):
    mapping = {"a": 0, "b": 1}
    write_dataset(tmp_path, "MyData", {"x1": segs(("a", 3), ("b", 3)), "x2": segs(("b", 4))}, mapping)
    ds = load_dataset(tmp_path, "MyData")
    assert ds.kind == "generic" and ds.activities == ("MyData",)
    write_dataset(tmp_path, "Nested", {"run_1": segs(("a", 3)), "run_2": segs(("b", 2)), "walk": segs(("a", 2))}, mapping,
                  subdir=lambda n: "grp1" if n.startswith("run") else "grp2")  # fmt: skip
    ds = load_dataset(tmp_path, "Nested")
    assert {v.name: v.activity for v in ds} == {"run_1": "grp1", "run_2": "grp1", "walk": "grp2"}
    assert [v.name for v in load_dataset(tmp_path, "Nested", activities="grp2")] == ["walk"]
    # any layout can be read with another naming rule
    assert load_dataset(tmp_path, "MyData", kind="desktop_assembly").activities == ("MyData",)


def test_features_only_without_labels(tmp_path):
    base = write_dataset(tmp_path, "Breakfast", {"P01_tea": ["SIL"] * 3, "P02_tea": ["SIL"] * 5}, {"SIL": 0},
                         subdir=lambda n: "tea")  # fmt: skip
    import shutil

    shutil.rmtree(base / "groundTruth")
    shutil.rmtree(base / "mapping")
    ds = load_dataset(tmp_path, "Breakfast", labels=False)
    assert [v.name for v in ds] == ["P01_tea", "P02_tea"]
    assert all(v.labels is None and v.label_names is None for v in ds) and ds.mapping is None
    assert ds.classes() == ()


def test_npy_preferred_over_txt_and_float32(tmp_path):
    base = write_dataset(tmp_path, "MyData", {"v": ["a"] * 3}, {"a": 0}, dim=2)
    np.savetxt(base / "features" / "v.txt", np.full((3, 2), 7.0))
    np.save(base / "features" / "v.npy", np.ones((3, 2), dtype=np.float64))
    v = load_dataset(tmp_path, "MyData")[0]
    assert v.path.suffix == ".npy" and v.features.dtype == np.float32 and (v.features == 1).all()


# ---------------------------------------------------------------------------------------------
# standardisation


def test_standardise_keeps_zero_rows_and_normalises_others():
    rng = np.random.default_rng(0)
    x = rng.normal(3.0, 5.0, size=(50, 8))
    x[[0, 1, 17]] = 0.0
    x[:, 5] = 2.5  # a constant dimension
    x[[0, 1, 17], 5] = 0.0
    z = standardise_features(x)
    assert z.dtype == np.float32 and z.shape == x.shape
    assert (z[[0, 1, 17]] == 0).all()
    rows = np.delete(z, [0, 1, 17], axis=0) * np.sqrt(8)
    np.testing.assert_allclose(rows.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(np.delete(rows.std(0), 5), 1, atol=1e-4)
    assert (rows[:, 5] == 0).all()
    z2 = standardise_features(x, scale_by_dim=False)
    np.testing.assert_allclose(z2, z * np.sqrt(8), rtol=1e-5, atol=1e-6)
    assert (standardise_features(np.zeros((4, 3))) == 0).all()
    with pytest.raises(ValueError, match="frames, dims"):
        standardise_features(np.zeros(3))


def test_load_dataset_standardise_flag(tmp_path):
    write_dataset(tmp_path, "MyData", {"v": ["a"] * 10}, {"a": 0}, dim=3)
    raw, std = load_dataset(tmp_path, "MyData")[0], load_dataset(tmp_path, "MyData", standardise=True)[0]
    np.testing.assert_allclose(std.features, standardise_features(raw.features), rtol=1e-6)


# ---------------------------------------------------------------------------------------------
# validation: every bad input names the file


@pytest.fixture
def good(tmp_path) -> Path:
    return write_dataset(tmp_path, "Breakfast", {"P01_tea": segs(("SIL", 2), ("pour", 3)), "P02_tea": segs(("pour", 4))},
                         {"SIL": 0, "pour": 1}, subdir=lambda n: "tea", fmt="txt")  # fmt: skip


@pytest.mark.parametrize("folder", ["features", "groundTruth", "mapping"])
def test_missing_folder(good, folder):
    import shutil

    shutil.rmtree(good / folder)
    with pytest.raises(DatasetError, match=rf"{folder}.*missing {folder} folder"):
        load_dataset(good.parent, "Breakfast")


def test_missing_dataset_and_mapping_file(good):
    with pytest.raises(DatasetError, match=r"Nope: dataset folder not found"):
        load_dataset(good.parent, "Nope")
    (good / "mapping" / "mapping.txt").unlink()
    with pytest.raises(DatasetError, match=r"mapping\.txt: mapping file not found"):
        load_dataset(good.parent, "Breakfast")


def test_missing_eval_mapping(salads):
    (salads / "FS" / "mapping" / "mappingeval.txt").unlink()
    with pytest.raises(DatasetError, match=r"mappingeval\.txt: mapping file not found"):
        load_dataset(salads, "FS", granularity="eval")


def test_label_not_in_mapping(good):
    (good / "groundTruth" / "P01_tea").write_text("SIL\nSIL\nstir\npour\npour\n")
    with pytest.raises(DatasetError, match=r"groundTruth/P01_tea:3: unknown label 'stir' \(not in mapping .*mapping\.txt"):
        load_dataset(good.parent, "Breakfast")


def test_length_mismatch(good):
    (good / "groundTruth" / "P02_tea").write_text("pour\npour\npour\n")
    with pytest.raises(DatasetError, match=r"P02_tea\.txt: 4 feature frames but .*groundTruth/P02_tea has 3 labels"):
        load_dataset(good.parent, "Breakfast")


def test_transposed_features_hint(good):
    np.savetxt(good / "features" / "tea" / "P02_tea.txt", np.ones((1, 4)))  # 1 frame x 4 dims: transposed
    with pytest.raises(DatasetError, match="transposed"):
        load_dataset(good.parent, "Breakfast")


def test_empty_video(good, tmp_path):
    (good / "groundTruth" / "P02_tea").write_text("\n\n")
    with pytest.raises(DatasetError, match=r"groundTruth/P02_tea: empty video"):
        load_dataset(good.parent, "Breakfast")
    (good / "groundTruth" / "P02_tea").write_text("pour\n" * 4)
    (good / "features" / "tea" / "P02_tea.txt").write_text("")
    with pytest.raises(DatasetError, match=r"P02_tea\.txt: empty video"):
        load_dataset(good.parent, "Breakfast")
    np.save(tmp_path / "empty.npy", np.zeros((0, 4), np.float32))
    with pytest.raises(DatasetError, match=r"empty\.npy: empty video"):
        read_features(tmp_path / "empty.npy")
    with pytest.raises(DatasetError, match="empty video"):
        Video("v", "a", np.zeros((0, 3), np.float32))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_features(good, bad):
    x = np.ones((4, 3))
    x[2, 1] = bad
    np.savetxt(good / "features" / "tea" / "P02_tea.txt", x)
    with pytest.raises(DatasetError, match=r"P02_tea\.txt: 1 non-finite feature value\(s\) \(NaN/Inf\), first at line 3, column 2"):
        load_dataset(good.parent, "Breakfast")


def test_non_finite_npy(tmp_path):
    x = np.zeros((3, 2), np.float32)
    x[0, 0] = np.nan
    np.save(tmp_path / "v.npy", x)
    with pytest.raises(DatasetError, match=r"v\.npy: .*NaN/Inf"):
        read_features(tmp_path / "v.npy")


def test_ragged_txt_rows(good):
    (good / "features" / "tea" / "P02_tea.txt").write_text("1 2 3\n4 5 6\n7 8\n1 2 3\n")
    with pytest.raises(DatasetError, match=r"P02_tea\.txt: ragged rows: line 3 has 2 values, line 1 has 3"):
        load_dataset(good.parent, "Breakfast")


def test_unreadable_files(good, tmp_path):
    (good / "features" / "tea" / "P02_tea.txt").write_text("1 2 x\n4 5 6\n")
    with pytest.raises(DatasetError, match=r"P02_tea\.txt: unreadable feature file \(not numbers"):
        load_dataset(good.parent, "Breakfast")
    (good / "features" / "tea" / "P02_tea.txt").write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(DatasetError, match=r"P02_tea\.txt: unreadable text file"):
        load_dataset(good.parent, "Breakfast")
    bad_npy = tmp_path / "bad.npy"
    bad_npy.write_bytes(b"this is not a numpy file")
    with pytest.raises(DatasetError, match=r"bad\.npy: not a \.npy file \(no NumPy header"):  # not "pickled data"
        read_features(bad_npy)
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object))
    with pytest.raises(DatasetError, match=r"obj\.npy: holds an object \(pickled\) array"):
        read_features(tmp_path / "obj.npy")
    np.save(tmp_path / "cube.npy", np.zeros((2, 3, 4)))
    with pytest.raises(DatasetError, match=r"cube\.npy: expected a 2-D \(frames x dims\) array, got shape \(2, 3, 4\)"):
        read_features(tmp_path / "cube.npy")
    np.save(tmp_path / "text.npy", np.array([["a", "b"]]))
    with pytest.raises(DatasetError, match=r"text\.npy: expected real-valued features"):
        read_features(tmp_path / "text.npy")
    (tmp_path / "v.csv").write_text("1,2\n")
    with pytest.raises(DatasetError, match="unsupported feature format"):
        read_features(tmp_path / "v.csv")
    with pytest.raises(DatasetError, match="feature file not found"):
        read_features(tmp_path / "missing.npy")
    (good / "groundTruth" / "P01_tea").write_bytes(b"SIL\n\xff\xfeSIL\n")
    with pytest.raises(DatasetError, match=r"groundTruth/P01_tea: not a UTF-8 text file"):
        load_dataset(good.parent, "Breakfast")


def test_missing_feature_file_for_a_video(good):
    (good / "features" / "tea" / "P02_tea.txt").unlink()
    with pytest.raises(DatasetError, match=r"groundTruth/P02_tea: no feature file for video 'P02_tea' \(looked for .*tea/P02_tea\.\{npy,txt\}"):
        load_dataset(good.parent, "Breakfast")


def test_no_videos_and_mixed_dims(good):
    np.savetxt(good / "features" / "tea" / "P02_tea.txt", np.ones((4, 5)))
    with pytest.raises(DatasetError, match="different feature dimensions: 4 .*, 5 "):
        load_dataset(good.parent, "Breakfast")
    for f in (good / "groundTruth").iterdir():
        f.unlink()
    with pytest.raises(DatasetError, match="groundTruth: no videos found"):
        load_dataset(good.parent, "Breakfast")


def test_bad_groundtruth_lines(tmp_path):
    p = tmp_path / "gt"
    p.write_text("a\n\nb\n")
    with pytest.raises(DatasetError, match=r"gt:2: empty label \(blank line\)"):
        read_ground_truth(p)
    p.write_text("a\nb\n\n\n")
    assert read_ground_truth(p) == ["a", "b"]
    p.write_text("\n")
    with pytest.raises(DatasetError, match=r"gt: empty video"):
        read_ground_truth(p)
    with pytest.raises(DatasetError, match=r"missing: no such file"):
        read_ground_truth(tmp_path / "missing")


def test_bad_mapping_files(tmp_path):
    p = tmp_path / "mapping.txt"
    p.write_text("0 a\n1\n")
    with pytest.raises(DatasetError, match=r"mapping\.txt:2: expected '<id> <name>'"):
        read_mapping(p)
    p.write_text("0 a\nx b\n")
    with pytest.raises(DatasetError, match=r"mapping\.txt:2: expected '<id> <name>', got 'x b'"):
        read_mapping(p)
    p.write_text("0 a\n1 a\n")
    with pytest.raises(DatasetError, match=r"label 'a' has two ids, 0 and 1"):
        read_mapping(p)
    p.write_text("\n")
    with pytest.raises(DatasetError, match="empty mapping file"):
        read_mapping(p)
    p.write_bytes(b"0 \xff\xfe\n")
    with pytest.raises(DatasetError, match=r"mapping\.txt: not a UTF-8 text file"):
        read_mapping(p)
    p.write_text("-1 background\n0 a\n\n2 b\n2 c\n")
    m = read_mapping(p)
    assert m.ids == [-1, 0, 2] and m.name_of(2) == "b" and m.id_to_names[2] == ("b", "c")
    np.testing.assert_array_equal(m.encode(["a", "c", "background"]), [0, 2, -1])


def test_video_record_validation():
    x = np.zeros((5, 2), np.float32)
    with pytest.raises(DatasetError, match="2-D"):
        Video("v", "a", np.zeros(5, np.float32))
    with pytest.raises(DatasetError, match=r"labels must be a \(5,\) array"):
        Video("v", "a", x, labels=np.zeros(4, np.int64))
    with pytest.raises(DatasetError, match="4 label names for 5 frames"):
        Video("v", "a", x, label_names=("a",) * 4)
    v = Video("v", "a", x, labels=np.zeros(5, np.int64))
    assert v.n_frames == 5 and v.dim == 2 and v.replace(name="w").name == "w"


# ---------------------------------------------------------------------------------------------
# real data in ../shared


def test_real_breakfast_coffee(data_dir):
    root = require_shared("data", "breakfast_coffee")
    ds = load_dataset(root, "Breakfast", activities=["coffee"])
    assert ds.kind == "breakfast" and len(ds) == 5 and ds.activities == ("coffee",)
    assert [v.name for v in ds] == ["P03_cam01_P03_coffee", "P05_cam01_P05_coffee", "P06_cam01_P06_coffee",
                                   "P08_webcam01_P08_coffee", "P09_cam01_P09_coffee"]  # fmt: skip
    assert [v.n_frames for v in ds] == [917, 1119, 472, 271, 571]
    assert ds.dim == 64 and all(v.features.dtype == np.float32 for v in ds)
    assert len(ds.mapping.ids) == 48
    m = ds.mapping.name_to_id
    assert ds.classes() == tuple(sorted(m[n] for n in ("SIL", "take_cup", "pour_coffee", "pour_milk", "pour_sugar")))
    v = ds["P03_cam01_P03_coffee"]
    assert v.labels[0] == m["SIL"] and v.labels[100] == m["take_cup"]
    # per-video standardisation: the all-zero frames stay zero, the rest is standardised
    std = load_dataset(root, "Breakfast", standardise=True)["P03_cam01_P03_coffee"]
    zero = ~np.any(v.features != 0, axis=1)
    assert zero.sum() > 0 and (std.features[zero] == 0).all()
    rows = std.features[~zero].astype(np.float64) * 8.0
    np.testing.assert_allclose(rows.mean(0), 0, atol=1e-4)
    assert np.allclose(rows.std(0)[rows.std(0) > 0], 1, atol=1e-3)


def test_real_actrectut_npy(data_dir):
    root = require_shared("data", "actrectut")
    ds = load_dataset(root, "ActRecTut")
    assert ds.kind == "generic" and ds.activities == ("ActRecTut",)
    assert [v.name for v in ds] == ["subject1_walk", "subject2_walk"]
    assert [v.features.shape for v in ds] == [(31392, 24), (32577, 24)]
    assert len(ds.mapping.ids) == 6 and ds.classes() == (0, 1, 2, 3, 4, 5)
    v = ds[0]
    assert v.path.suffix == ".npy" and v.labels.dtype == np.int64
    assert v.label_names[0] == "state_1" and v.labels[0] == 0
    # 43 labelled segments per recording (many repeats of 6 states)
    assert int((np.diff(v.labels) != 0).sum()) + 1 == 43
