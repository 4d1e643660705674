r"""Reading pre-extracted features in the standard action-segmentation layout (spec section 6).

Layout::

    ROOT/<dataset>/features/[<activity>/]<video>.npy|.txt   frames x dims
    ROOT/<dataset>/groundTruth/<video>                       one label name per line, one line per frame
    ROOT/<dataset>/mapping/mapping.txt                       "<id> <name>" per line

Naming rules (chosen from the dataset's folder name, see :data:`DATASET_KINDS`):

============================  ==========================================  ===================
kind                          video name -> activity                      notes
============================  ==========================================  ===================
``breakfast``                 ``P03_cam01_P03_coffee`` -> ``coffee``      features under ``features/<activity>/``
``yti``                       ``changing_tire_0001`` -> ``changing_tire`` background id -1; ``*_idt`` files ignored
``50salads``                  one activity (the dataset name)             ``mapping.txt`` (Mid) or ``mappingeval.txt`` (Eval, many-to-one)
``desktop_assembly``          one activity (the dataset name)
``generic``                   ``features/<activity>/`` subfolder, else    any other dataset name
                              one activity (the dataset name)
============================  ==========================================  ===================

Every reader error is a :class:`DatasetError` (a ``ValueError``) that names the offending file
and says what was expected and what was found.

Example::

    ds = load_dataset("data", "Breakfast", activities=["coffee"], standardise=True)
    for video in ds:
        video.features   # (N, D) float32
        video.labels     # (N,) int64 class ids from the mapping
"""

from __future__ import annotations

import dataclasses
import math
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from asot.io.arrays import NpyFileError, load_npy
from asot.io.labels import LabelFileError, LabelMapping, read_label_file
from asot.io.labels import read_mapping as _read_mapping_file

__all__ = [
    "DATASET_KINDS",
    "DatasetError",
    "Video",
    "dataset_folder",
    "VideoCollection",
    "dataset_kind",
    "load_dataset",
    "parse_activity",
    "read_features",
    "read_ground_truth",
    "read_mapping",
    "standardise_features",
]

#: feature file suffixes, in order of preference when both exist
FEATURE_SUFFIXES = (".npy", ".txt")
#: YouTube Instructions files with this suffix (improved dense trajectories) are not videos
YTI_IGNORED_SUFFIX = "_idt"
#: folder names inside ``ROOT/<dataset>``
FEATURES_DIR, GROUND_TRUTH_DIR, MAPPING_DIR = "features", "groundTruth", "mapping"
#: default mapping file, and the 50 Salads mapping for each granularity
DEFAULT_MAPPING = "mapping.txt"
SALADS_MAPPINGS = {"mid": "mapping.txt", "eval": "mappingeval.txt"}

#: dataset folder names (lower case, ``-``/`` `` read as ``_``) -> naming rule; any other name is ``generic``
DATASET_KINDS: dict[str, str] = {
    "breakfast": "breakfast",
    "bf": "breakfast",
    "synthetic": "breakfast",
    "yti": "yti",
    "youtube_instructions": "yti",
    "fs": "50salads",
    "fseval": "50salads",
    "50salads": "50salads",
    "50_salads": "50salads",
    "salads": "50salads",
    "desktop_assembly": "desktop_assembly",
    "da": "desktop_assembly",
}
KINDS = ("breakfast", "yti", "50salads", "desktop_assembly", "generic")


class DatasetError(ValueError):
    """A dataset on disk does not follow the standard layout (the message names the file)."""

    #: whether the command line is at fault (an unknown activity) rather than the data
    usage = False


class UnknownActivityError(DatasetError):
    """An activity asked for that the dataset does not have."""

    usage = True


# --------------------------------------------------------------------------------------------
# records


@dataclass(frozen=True, eq=False)
class Video:
    """One video: features and (optionally) frame labels.

    Attributes:
        name: video name (the groundTruth file name, the feature file's stem).
        activity: activity (task) the video belongs to.
        features: ``(N, D)`` float32 array, one row per frame.
        labels: ``(N,)`` int64 class ids from the mapping, or ``None`` when unlabelled.
        label_names: the ``N`` label names as written in the groundTruth file, or ``None``.
        path: the feature file.
    """

    name: str
    activity: str
    features: np.ndarray
    labels: np.ndarray | None = None
    label_names: tuple[str, ...] | None = None
    path: Path | None = None

    def __post_init__(self) -> None:
        f = self.features
        if not isinstance(f, np.ndarray) or f.ndim != 2:
            raise DatasetError(f"video {self.name!r}: features must be a 2-D (frames x dims) array, got {_describe(f)}")
        if f.shape[0] == 0:
            raise DatasetError(f"video {self.name!r}: empty video (0 frames)")
        if self.labels is not None:
            lab = self.labels
            if not isinstance(lab, np.ndarray) or lab.ndim != 1 or lab.shape[0] != f.shape[0]:
                raise DatasetError(
                    f"video {self.name!r}: labels must be a ({f.shape[0]},) array matching the features, got {_describe(lab)}"
                )
        if self.label_names is not None and len(self.label_names) != f.shape[0]:
            raise DatasetError(f"video {self.name!r}: {len(self.label_names)} label names for {f.shape[0]} frames")

    @property
    def n_frames(self) -> int:
        return int(self.features.shape[0])

    @property
    def dim(self) -> int:
        return int(self.features.shape[1])

    def replace(self, **changes) -> "Video":
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True, eq=False)
class VideoCollection(Sequence):
    """The videos of one dataset (a sequence of :class:`Video`, sorted by name).

    Attributes:
        name: dataset folder name (``ROOT/<name>``).
        kind: naming rule, one of :data:`KINDS`.
        videos: the videos.
        mapping: the :class:`asot.io.labels.LabelMapping` (``None`` when loaded without labels).
        path: ``ROOT/<name>``.
    """

    name: str
    kind: str
    videos: tuple[Video, ...]
    mapping: LabelMapping | None = None
    path: Path | None = None
    _by_name: dict[str, Video] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "videos", tuple(self.videos))
        object.__setattr__(self, "_by_name", {v.name: v for v in self.videos})

    def __len__(self) -> int:
        return len(self.videos)

    def __iter__(self) -> Iterator[Video]:
        return iter(self.videos)

    def __getitem__(self, item):  # type: ignore[override]
        if isinstance(item, str):
            try:
                return self._by_name[item]
            except KeyError:
                raise KeyError(f"no video named {item!r} in dataset {self.name!r}") from None
        return self.videos[item]

    @property
    def activities(self) -> tuple[str, ...]:
        """Activities present, sorted."""
        return tuple(sorted({v.activity for v in self.videos}))

    @property
    def dim(self) -> int:
        """Feature dimension ``D``."""
        return self.videos[0].dim

    @property
    def unlabelled(self) -> tuple[str, ...]:
        """Names of the videos without labels (no groundTruth file), in order."""
        return tuple(v.name for v in self.videos if v.labels is None)

    def select(self, activities: str | Iterable[str]) -> "VideoCollection":
        """The videos of some activities (unknown names raise :class:`DatasetError`)."""
        wanted = _activity_list(activities)
        unknown = sorted(set(wanted) - set(self.activities))
        if unknown:
            raise UnknownActivityError(
                f"dataset {self.name!r}: unknown activit{'y' if len(unknown) == 1 else 'ies'} {unknown}; "
                f"available: {list(self.activities)}"
            )
        keep = tuple(v for v in self.videos if v.activity in wanted)
        return dataclasses.replace(self, videos=keep)

    def by_activity(self) -> dict[str, "VideoCollection"]:
        """One collection per activity (sorted by activity name)."""
        return {a: self.select([a]) for a in self.activities}

    def classes(self, exclude: Iterable[int] = ()) -> tuple[int, ...]:
        """Class ids that occur in the videos' labels, sorted, minus ``exclude``."""
        skip = set(int(e) for e in exclude)
        present: set[int] = set()
        for v in self.videos:
            if v.labels is not None:
                present.update(int(i) for i in np.unique(v.labels))
        return tuple(sorted(present - skip))


# --------------------------------------------------------------------------------------------
# naming rules


def _norm_name(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


def dataset_folder(root: str | Path, dataset: str) -> Path:
    """The folder that holds ``dataset`` under ``root``: ``root/dataset``, except that
    ``FSeval`` (50 Salads at the eval granularity) is ``root/FS`` when there is no
    ``root/FSeval`` folder. The one place of that rule (:func:`load_dataset` and the pipeline)."""
    root = Path(root)
    if _norm_name(dataset) == "fseval" and not (root / dataset).is_dir():
        return root / "FS"
    return root / dataset


def dataset_kind(name: str) -> str:
    """Naming rule for a dataset folder name: one of :data:`KINDS` (``generic`` when unknown)."""
    return DATASET_KINDS.get(_norm_name(name), "generic")


def parse_activity(video: str, kind: str, dataset: str = "") -> str | None:
    """Activity of a video from its name (spec section 6).

    ``breakfast``: the part after the last ``_``; ``yti``: everything before the last ``_``;
    ``50salads``/``desktop_assembly``: the dataset name (one activity); ``generic``: ``None``
    (decided by the features folder instead).
    """
    if kind == "breakfast":
        if "_" not in video:
            raise DatasetError(f"video {video!r}: Breakfast-style names end in '_<activity>'")
        return video.rsplit("_", 1)[1]
    if kind == "yti":
        if "_" not in video:
            raise DatasetError(f"video {video!r}: YouTube Instructions names are '<activity>_<n>'")
        return video.rsplit("_", 1)[0]
    if kind in ("50salads", "desktop_assembly"):
        return dataset
    if kind == "generic":
        return None
    raise ValueError(f"unknown dataset kind {kind!r}; expected one of {KINDS}")


def _is_ignored(name: str, kind: str) -> bool:
    if name.startswith(".") or name.startswith("~"):
        return True
    stem = name
    for suffix in FEATURE_SUFFIXES:
        if stem.endswith(suffix):
            stem = stem[: -len(suffix)]
    return kind == "yti" and stem.endswith(YTI_IGNORED_SUFFIX)


# --------------------------------------------------------------------------------------------
# file readers


def _describe(x) -> str:
    if isinstance(x, np.ndarray):
        return f"array of shape {x.shape} and dtype {x.dtype}"
    return type(x).__name__


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise DatasetError(f"{path}: unreadable text file (not UTF-8: {err.reason} at byte {err.start})") from None
    except OSError as err:
        raise DatasetError(f"{path}: unreadable file ({err.strerror or err})") from None


def read_mapping(path: str | Path) -> LabelMapping:
    """Parse a mapping file, ``"<id> <name>"`` per line (:func:`asot.io.labels.read_mapping`).

    Several names may share an id (50 Salads Eval); a name listed twice with different ids is an
    error. Ids may be negative (YTI background -1).

    Raises:
        DatasetError: naming the file (and line) when it is missing, unreadable or malformed.
    """
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"{path}: mapping file not found")
    try:
        return _read_mapping_file(path)
    except LabelFileError as err:
        raise DatasetError(str(err)) from err


def read_ground_truth(path: str | Path) -> list[str]:
    """The label names of a groundTruth file, one per frame (:func:`asot.io.labels.read_label_file`).

    Trailing blank lines are dropped; a blank line between labels is an error.

    Raises:
        DatasetError: naming the file (and line) when it is unreadable, malformed or empty.
    """
    path = Path(path)
    try:
        names = read_label_file(path)
    except LabelFileError as err:
        raise DatasetError(str(err)) from err
    if not names:
        raise DatasetError(f"{path}: empty video (the groundTruth file has no labels)")
    return names


def _load_txt(path: Path) -> np.ndarray:
    text = _read_text(path)
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise DatasetError(f"{path}: empty video (the feature file has no rows)")
    try:
        return np.loadtxt(lines, dtype=np.float64, ndmin=2, comments=None)
    except ValueError as err:
        # diagnose: ragged rows (the usual cause), else a token that is not a number
        width = len(lines[0].split())
        for lineno, line in enumerate(lines, 1):
            n = len(line.split())
            if n != width:
                raise DatasetError(
                    f"{path}: ragged rows: line {lineno} has {n} values, line 1 has {width} "
                    "(every row must be one frame with the same number of dims)"
                ) from None
        raise DatasetError(f"{path}: unreadable feature file (not numbers: {err})") from None


def _load_npy(path: Path) -> np.ndarray:
    try:
        arr = load_npy(path)
    except NpyFileError as err:
        raise DatasetError(str(err)) from None
    except (ValueError, OSError, EOFError) as err:
        raise DatasetError(f"{path}: unreadable .npy file ({err})") from None
    if not isinstance(arr, np.ndarray):
        raise DatasetError(f"{path}: expected one array, got {type(arr).__name__}")
    if not np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.complexfloating):
        raise DatasetError(f"{path}: expected real-valued features, got dtype {arr.dtype}")
    return arr


def read_features(path: str | Path) -> np.ndarray:
    """Read one video's features, ``(N, D)`` float32, from ``.npy`` or ``.txt`` (spec section 6).

    Raises:
        DatasetError: unreadable file, ragged ``.txt`` rows, not 2-D, no frames, NaN or Inf.
    """
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"{path}: feature file not found")
    if path.suffix == ".npy":
        arr = _load_npy(path)
    elif path.suffix == ".txt":
        arr = _load_txt(path)
    else:
        raise DatasetError(f"{path}: unsupported feature format {path.suffix!r}; expected one of {FEATURE_SUFFIXES}")
    if arr.ndim == 1 and path.suffix == ".txt":
        arr = arr[:, None]
    if arr.ndim != 2:
        raise DatasetError(f"{path}: expected a 2-D (frames x dims) array, got shape {arr.shape}")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise DatasetError(f"{path}: empty video (features of shape {arr.shape})")
    with np.errstate(over="ignore", invalid="ignore"):
        features = np.ascontiguousarray(arr, dtype=np.float32)
    _check_finite(path, arr, features)
    return features


def _check_finite(path: Path, raw: np.ndarray, features: np.ndarray) -> None:
    """Features must be finite after the cast to float32 (1e300 is finite in float64 but Inf in
    float32); a ``.txt`` position is its 1-based line and column, a ``.npy`` one its array index."""
    finite = np.isfinite(features)
    if finite.all():
        return
    bad_row, bad_col = (int(i) for i in np.argwhere(~finite)[0])
    n_bad = int((~finite).sum())
    where = (f"line {bad_row + 1}, column {bad_col + 1}" if path.suffix == ".txt"  # text: 1-based lines, like every line number
             else f"frame {bad_row}, dim {bad_col} (0-based array indices)")  # fmt: skip
    value = raw[bad_row, bad_col]
    if np.isfinite(value):
        raise DatasetError(f"{path}: {n_bad} feature value(s) beyond the float32 range (|x| > 3.4e38), first {value:.3g} "
                           f"at {where}; rescale the features")  # fmt: skip
    raise DatasetError(f"{path}: {n_bad} non-finite feature value(s) (NaN/Inf), first at {where}")


def standardise_features(features: np.ndarray, *, scale_by_dim: bool = True) -> np.ndarray:
    """Standardise one video's features per dimension (Breakfast preset, spec section 3).

    Mean and standard deviation are taken over the frames whose feature row is not all zero;
    those rows become zero-mean, unit-variance per dimension (constant dimensions become 0) and
    all-zero rows stay exactly zero. With ``scale_by_dim`` (the published convention) the result
    is divided by ``sqrt(D)`` so rows have unit mean squared norm.

    Args:
        features: ``(N, D)`` array.
    Returns:
        ``(N, D)`` float32 array.
    """
    x = np.asarray(features, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"standardise_features: expected a (frames, dims) array, got shape {x.shape}")
    out = np.zeros_like(x)
    nonzero = np.any(x != 0, axis=1)
    if nonzero.any():
        rows = x[nonzero]
        mean = rows.mean(axis=0)
        std = rows.std(axis=0)
        safe = np.where(std > 0, std, 1.0)
        z = (rows - mean) / safe
        z[:, std <= 0] = 0.0
        out[nonzero] = z
    if scale_by_dim:
        out /= math.sqrt(x.shape[1])
    return out.astype(np.float32)


# --------------------------------------------------------------------------------------------
# the reader


def _activity_list(activities: str | Iterable[str] | None) -> list[str] | None:
    if activities is None:
        return None
    if isinstance(activities, str):
        return [activities]
    out = list(activities)
    if any(not isinstance(a, str) for a in out):
        raise TypeError(f"activities: expected strings, got {out!r}")
    return out


def _find_features(features_dir: Path, video: str, activity: str | None) -> Path | None:
    folders = [features_dir / activity, features_dir] if activity else [features_dir]
    for folder in folders:
        for suffix in FEATURE_SUFFIXES:
            candidate = folder / f"{video}{suffix}"
            if candidate.is_file():
                return candidate
    return None


def _generic_index(features_dir: Path, dataset: str) -> dict[str, tuple[str, Path]]:
    """video -> (activity, feature path) for the generic kind (activity = features subfolder)."""
    index: dict[str, tuple[str, Path]] = {}
    for entry in sorted(features_dir.iterdir()):
        if _is_ignored(entry.name, "generic"):
            continue
        if entry.is_dir():
            files = [(entry.name, p) for p in sorted(entry.iterdir())]
        else:
            files = [(dataset, entry)]
        for activity, path in files:
            if path.suffix not in FEATURE_SUFFIXES or not path.is_file() or _is_ignored(path.name, "generic"):
                continue
            stem = path.stem
            if stem in index and index[stem][1].parent == path.parent:
                continue  # .npy preferred over .txt in the same folder (sorted order puts .npy first)
            if stem in index:
                raise DatasetError(f"{path}: video {stem!r} also found at {index[stem][1]}; video names must be unique")
            index[stem] = (activity, path)
    return index


def _feature_stems(features_dir: Path, kind: str, generic: dict[str, tuple[str, Path]] | None) -> list[str]:
    """Video names given by the feature files (sorted)."""
    if generic is not None:
        return sorted(generic)
    return sorted(
        {p.stem for p in features_dir.rglob("*") if p.is_file() and p.suffix in FEATURE_SUFFIXES and not _is_ignored(p.name, kind)}
    )


def ground_truth_files(base: Path, kind: str) -> dict[str, Path]:
    """``{video: groundTruth file}`` of ``base/groundTruth`` (empty when the folder is absent).

    A dangling symlink is no file: its video counts as one without a groundTruth file.
    """
    gt_dir = base / GROUND_TRUTH_DIR
    if not gt_dir.is_dir():
        return {}
    return {p.name: p for p in sorted(gt_dir.iterdir()) if p.is_file() and not _is_ignored(p.name, kind)}


def _check_dir(path: Path, what: str) -> None:
    if not path.is_dir():
        raise DatasetError(f"{path}: missing {what} folder (expected layout ROOT/<dataset>/{{features,groundTruth,mapping}})")


def load_dataset(
    root: str | Path,
    dataset: str,
    *,
    activities: str | Iterable[str] | None = None,
    kind: str | None = None,
    mapping: str | None = None,
    granularity: str | None = None,
    labels: bool | str = True,
    standardise: bool = False,
) -> VideoCollection:
    """Read ``ROOT/<dataset>`` in the standard layout (spec section 6).

    Args:
        root: the folder holding the dataset folder.
        dataset: the dataset folder name (``Breakfast``, ``YTI``, ``FS``, ``desktop_assembly``, ...);
            it selects the naming rule unless ``kind`` is given (see :func:`dataset_kind`).
        activities: keep only these activities (unknown names raise, listing the available ones).
        kind: naming rule override, one of :data:`KINDS`.
        mapping: mapping file name inside ``mapping/`` (default ``mapping.txt``, or chosen by
            ``granularity`` for 50 Salads).
        granularity: 50 Salads only: ``"mid"`` (``mapping.txt``) or ``"eval"`` (``mappingeval.txt``).
            The folder name ``FSeval`` is read as ``FS`` with ``granularity="eval"``.
        labels: read ``groundTruth`` and the mapping (``False``: features only, ``labels=None``;
            ``"optional"``: every video with features, labelled where its groundTruth file
            exists and ``labels=None`` otherwise; no ``groundTruth/`` folder means no labels at
            all, and then no mapping is needed). :attr:`VideoCollection.unlabelled` lists the
            videos without labels.
        standardise: standardise each video's features (:func:`standardise_features`).

    Returns:
        A :class:`VideoCollection` sorted by video name; each :class:`Video` holds ``(N, D)``
        float32 features and ``(N,)`` int64 class ids.

    Raises:
        DatasetError: naming the file, for missing folders or mapping, a label not in the
            mapping, features and labels of different lengths, an empty video, NaN/Inf features,
            ragged ``.txt`` rows, unreadable files, or a video without features.
    """
    root = Path(root)
    folder = dataset_folder(root, dataset).name
    kind = kind or dataset_kind(dataset)
    if kind not in KINDS:
        raise ValueError(f"load_dataset: unknown kind {kind!r}; expected one of {KINDS}")
    if folder != dataset:  # FSeval read from FS
        granularity = granularity or "eval"
    if granularity is not None:
        if kind != "50salads":
            raise ValueError(f"load_dataset: granularity applies to 50 Salads only, got it for {dataset!r} ({kind})")
        if granularity not in SALADS_MAPPINGS:
            raise ValueError(f"load_dataset: granularity must be one of {sorted(SALADS_MAPPINGS)}, got {granularity!r}")
        if mapping is not None and mapping != SALADS_MAPPINGS[granularity]:
            raise ValueError(f"load_dataset: mapping {mapping!r} contradicts granularity {granularity!r}")
        mapping = SALADS_MAPPINGS[granularity]
    mapping = mapping or DEFAULT_MAPPING

    base = root / folder
    if not base.is_dir():
        raise DatasetError(f"{base}: dataset folder not found (expected ROOT/<dataset> with features/, groundTruth/, mapping/)")
    features_dir = base / FEATURES_DIR
    _check_dir(features_dir, "features")
    wanted = _activity_list(activities)

    if labels not in (True, False, "optional"):
        raise ValueError(f"load_dataset: labels must be True, False or 'optional', got {labels!r}")
    optional = labels == "optional"
    label_map: LabelMapping | None = None
    generic = _generic_index(features_dir, folder) if kind == "generic" else None
    gt_files: dict[str, Path] = {}
    if labels is True or (optional and (base / GROUND_TRUTH_DIR).is_dir()):
        _check_dir(base / GROUND_TRUTH_DIR, "groundTruth")
        _check_dir(base / MAPPING_DIR, "mapping")
        label_map = read_mapping(base / MAPPING_DIR / mapping)
        gt_files = ground_truth_files(base, kind)
    if labels is True:
        names = sorted(gt_files)
    elif optional:
        names = sorted(set(gt_files) | set(_feature_stems(features_dir, kind, generic)))
    else:
        names = _feature_stems(features_dir, kind, generic)
    if not names:
        where = base / (GROUND_TRUTH_DIR if labels is True else FEATURES_DIR)
        raise DatasetError(f"{where}: no videos found")

    # decide activities first (cheap) so that filtering skips reading unwanted files
    plan: list[tuple[str, str, Path | None]] = []
    for name in names:
        if generic is not None:
            activity, feat_path = generic.get(name, (folder, None))
        else:
            activity = parse_activity(name, kind, folder)
            feat_path = None
        plan.append((name, activity, feat_path))
    available = sorted({a for _, a, _ in plan})
    if wanted is not None:
        unknown = sorted(set(wanted) - set(available))
        if unknown:
            raise UnknownActivityError(
                f"{base}: unknown activit{'y' if len(unknown) == 1 else 'ies'} {unknown}; available: {available}"
            )
        plan = [p for p in plan if p[1] in wanted]
        if not plan:
            raise UnknownActivityError(f"{base}: no activities selected (activities={wanted!r}); available: {available}")

    videos = []
    for name, activity, feat_path in plan:
        if feat_path is None:
            feat_path = _find_features(features_dir, name, activity if kind != "generic" else None)
        if feat_path is None:
            looked = [features_dir / activity, features_dir] if kind != "generic" else [features_dir, features_dir / "*"]
            tried = " or ".join(str(d / name) + ".{npy,txt}" for d in looked)
            source = gt_files[name] if name in gt_files else features_dir
            raise DatasetError(f"{source}: no feature file for video {name!r} (looked for {tried})")
        feats = read_features(feat_path)
        lab = lab_names = None
        if name in gt_files:
            gt_path = gt_files[name]
            lab_names = read_ground_truth(gt_path)
            if len(lab_names) != feats.shape[0]:
                hint = " (features transposed? they must be frames x dims)" if feats.shape[1] == len(lab_names) else ""
                raise DatasetError(
                    f"{feat_path}: {feats.shape[0]} feature frames but {gt_path} has {len(lab_names)} labels{hint}"
                )
            assert label_map is not None
            try:
                lab = label_map.encode(lab_names, gt_path)
            except LabelFileError as err:
                raise DatasetError(str(err)) from err
            lab_names = tuple(map(sys.intern, lab_names))  # one str per class, not per frame (~60 B each)
        if standardise:
            feats = standardise_features(feats)
        videos.append(Video(name, activity, feats, lab, lab_names, feat_path))

    dims = {v.dim for v in videos}
    if len(dims) > 1:
        by_dim = {d: next(v.path for v in videos if v.dim == d) for d in sorted(dims)}
        raise DatasetError(f"{base}: videos have different feature dimensions: " + ", ".join(f"{d} ({p})" for d, p in by_dim.items()))
    return VideoCollection(folder, kind, tuple(videos), label_map, base)
