"""ASOT as a post-processing step for any model's per-frame output (paper section 7.4).

:func:`segment_videos` is the library form of ``asot segment``: it reads per-video model
outputs (``.npy`` files, one ``.npz`` bundle, folders of them, or arrays in memory), turns them
into costs (:func:`asot.scores.to_cost`), decodes them in batches with ASOT or a baseline
decoder (:mod:`asot.decoders`) and, given an output folder, writes for every video

* ``OUT/<video>`` -- the labels in the groundTruth format (one per line; class names with a
  mapping, else integer ids),
* ``OUT/couplings/<video>.npy`` -- the soft coupling ``(N, K)`` (``save_coupling=True``),
* ``OUT/figures/<video>.png`` -- a figure (``plot=True``),

each file atomically (a crash never leaves a half-written file), so an interrupted run can be
resumed with ``skip_existing=True``.

Example::

    import numpy as np, asot
    probs = {"video1": np.load("video1.npy")}              # (frames, classes)
    result = asot.segment_videos(probs, kind="prob")      # nothing written
    result["video1"].labels                               # (frames,) int64

    asot.segment_videos(["outputs/"], kind="logit", transpose=True, out="pred/",
                        mapping="mapping.txt", eps=0.02)
"""

from __future__ import annotations

import io
import os
import re
import zipfile
from collections.abc import Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from asot._arrays import to_numpy
from asot.ot.config import SolverConfig
from asot.decoders import ASOTDecoder, Decoded, Decoder, get_decoder
from asot.io.arrays import NpyFileError, load_npy
from asot.io.segments import coupling_confidence
from asot.runs import count_runs
from asot.scores import DEFAULT_PROB_COST, KINDS, check_orientation, to_cost

__all__ = [
    "VideoInput",
    "SegmentedVideo",
    "SegmentReport",
    "find_inputs",
    "segment_videos",
    "save_array",
    "build_decoders",
    "compare_decoders",
    "UNSUPERVISED_KEYS",
    "SUPERVISED_KEYS",
    "COUPLING_DIR",
    "FIGURE_DIR",
]

#: sub-folder of the output folder holding the soft couplings
COUPLING_DIR = "couplings"
#: sub-folder of the output folder holding the figures
FIGURE_DIR = "figures"

_BAD_NAME = re.compile(r"[/\\\x00]|^\.")


# -- inputs ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class VideoInput:
    """One video's model output: where it comes from and how to load it.

    Attributes:
        name: video name (file stem, ``.npz`` key, or the key of an in-memory dict); the
            output label file is ``OUT/<name>``.
        source: human-readable origin for messages (``path`` or ``path[key]``).
        path: the file (``None`` for in-memory arrays).
        key: the ``.npz`` member (``None`` otherwise).
    """

    name: str
    source: str
    path: Path | None = None
    key: str | None = None
    array: Any = field(default=None, repr=False, compare=False)

    def shape(self) -> tuple[int, ...]:
        """The stored array's shape, read from the header only (no data loaded)."""
        if self.array is not None:
            return tuple(self.array.shape) if hasattr(self.array, "shape") else tuple(np.shape(self.array))
        assert self.path is not None
        with self._reading():
            if self.key is None:
                return tuple(load_npy(self.path, mmap_mode="r").shape)
            with zipfile.ZipFile(self.path) as bundle, bundle.open(f"{self.key}.npy") as member:
                version = np.lib.format.read_magic(member)
                reader = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
                shape, _, _ = reader(member)
                return tuple(shape)

    def load(self) -> np.ndarray:
        if self.array is not None:
            return to_numpy(self.array)
        assert self.path is not None
        with self._reading():
            if self.key is None:
                return load_npy(self.path)
            with np.load(self.path, allow_pickle=False) as bundle:
                return bundle[self.key]

    @contextmanager
    def _reading(self) -> Iterator[None]:
        """Any failure to read the file becomes a ``ValueError`` naming :attr:`source`."""
        try:
            yield
        except NpyFileError as exc:
            raise ValueError(f"{self.source}: {exc.reason}") from None
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
            raise ValueError(f"{self.source}: cannot read the array ({exc or 'empty file'})") from None


def _npz_members(path: Path) -> list[str]:
    try:
        with zipfile.ZipFile(path) as bundle:
            names = [n[: -len(".npy")] for n in bundle.namelist() if n.endswith(".npy")]
    except (OSError, zipfile.BadZipFile) as exc:
        raise ValueError(f"{path}: not a readable .npz bundle ({exc})") from None
    if not names:
        raise ValueError(f"{path}: the .npz bundle holds no arrays")
    return names


def _from_file(path: Path) -> list[VideoInput]:
    if path.suffix == ".npy":
        return [VideoInput(path.stem, str(path), path)]
    if path.suffix == ".npz":
        return [VideoInput(key, f"{path}[{key}]", path, key) for key in _npz_members(path)]
    raise ValueError(f"{path}: unsupported input file; expected a .npy array (one video), a .npz bundle or a folder of them")


def find_inputs(inputs: Any) -> list[VideoInput]:
    """The videos named by ``inputs``, in order.

    ``inputs`` is a path or a sequence of paths -- ``.npy`` files (one video each, named by the
    file stem), ``.npz`` bundles (one video per member), folders (their ``.npy`` and ``.npz``
    files, sorted, not recursive) -- or a mapping ``{name: array}`` of in-memory videos.

    Raises:
        ValueError: a missing path, an unsupported file, an empty folder, two videos with the
            same name, or a name unusable as a file name.
    """
    videos: list[VideoInput] = []
    if isinstance(inputs, Mapping):
        videos = [VideoInput(str(name), f"input[{name!r}]", array=array) for name, array in inputs.items()]
    else:
        if isinstance(inputs, (str, os.PathLike)):
            inputs = [inputs]
        if hasattr(inputs, "__array__"):  # a numpy array or tensor
            raise ValueError("inputs: expected paths or a {name: array} mapping, got an array; "
                             "for one video pass {'video': array}")
        for item in inputs:
            if not isinstance(item, (str, os.PathLike)):
                raise ValueError(f"inputs: expected paths (or a {{name: array}} mapping), got a {type(item).__name__} "
                                 "in the sequence; name in-memory videos: {'v0': array, ...}")
            path = Path(item)
            if path.is_dir():
                files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix in (".npy", ".npz"))
                if not files:
                    raise ValueError(f"{path}: the folder holds no .npy or .npz files")
                for f in files:
                    videos.extend(_from_file(f))
            elif path.is_file():
                videos.extend(_from_file(path))
            else:
                raise ValueError(f"{path}: no such file or folder")
    if not videos:
        raise ValueError("no input videos given")
    seen: dict[str, str] = {}
    for v in videos:
        if not v.name or _BAD_NAME.search(v.name):
            raise ValueError(f"{v.source}: video name {v.name!r} cannot be used as a file name (no '/', '\\', or leading '.')")
        if v.name in seen:
            raise ValueError(f"two inputs are both named {v.name!r}: {seen[v.name]} and {v.source}; rename one")
        seen[v.name] = v.source
    return videos


# -- outputs --------------------------------------------------------------------------------


def save_array(path: str | os.PathLike[str], array: Any) -> Path:
    """Save ``array`` as ``.npy`` atomically (temporary file, then rename)."""
    from asot.io.labels import atomic_write_bytes

    buffer = io.BytesIO()
    np.save(buffer, np.asarray(array), allow_pickle=False)
    return atomic_write_bytes(path, buffer.getvalue())


@dataclass
class SegmentedVideo:
    """What :func:`segment_videos` did for one video.

    Attributes:
        name: the video name.
        labels: ``(N,)`` int64 class ids (``None`` when skipped).
        coupling: ``(N, K)`` soft coupling, kept when ``return_couplings`` (``None`` otherwise,
            when skipped, or for a decoder without one).
        paths: the files written (``labels``, ``coupling``, ``figure``).
        skipped: the outputs already existed and ``skip_existing`` was set.
    """

    name: str
    labels: np.ndarray | None = None
    coupling: np.ndarray | None = None
    paths: dict[str, Path] = field(default_factory=dict)
    skipped: bool = False
    #: per-frame confidence (:func:`asot.io.segments.coupling_confidence`; ``None`` without a coupling)
    confidence: np.ndarray | None = None


class SegmentReport(dict):
    """``{video name: SegmentedVideo}`` in input order, plus the settings used."""

    def __init__(self, videos: Sequence[SegmentedVideo], decoder: Decoder, kind: str, prob_cost: str) -> None:
        super().__init__((v.name, v) for v in videos)
        self.decoder = decoder
        self.kind = kind
        self.prob_cost = prob_cost

    @property
    def written(self) -> list[str]:
        return [n for n, v in self.items() if not v.skipped]

    @property
    def skipped(self) -> list[str]:
        return [n for n, v in self.items() if v.skipped]


def _output_paths(out: Path, name: str, save_coupling: bool, plot: bool) -> dict[str, Path]:
    paths = {"labels": out / name}
    if save_coupling:
        paths["coupling"] = out / COUPLING_DIR / f"{name}.npy"
    if plot:
        paths["figure"] = out / FIGURE_DIR / f"{name}.png"
    return paths


def _outputs_complete(paths: Mapping[str, Path], video: VideoInput, transpose: bool) -> bool:
    """Whether every output of ``video`` exists and is whole (``skip_existing``)."""
    from asot.io.outputs import label_file_complete, npy_complete, png_complete

    try:
        shape = video.shape()
    except ValueError:
        return False  # unreadable input: not skipped, so that its error is reported
    if len(shape) != 2:
        return False
    n, k = (shape[1], shape[0]) if transpose else shape
    checks = {"labels": lambda p: label_file_complete(p, n), "coupling": lambda p: npy_complete(p, (n, k)), "figure": png_complete}
    return all(checks[key](path) for key, path in paths.items())


def _check_mapping(mapping: Any, n_classes: int, source: str, *, other: int | None = None, transpose: bool = False) -> None:
    """Every class id ``0..K-1`` must have a name; when the other dimension (``other``) fits the
    mapping instead, the array is the wrong way round and the message says so."""
    missing = [k for k in range(n_classes) if k not in mapping.id_to_names]
    if missing:
        where = f"mapping {mapping.path}" if mapping.path is not None else "the mapping"
        shown = ", ".join(map(str, missing[:10])) + (" ..." if len(missing) > 10 else "")
        if other is not None and all(k in mapping.id_to_names for k in range(other)):
            flip = "drop --transpose (it is frames x classes already)" if transpose else "pass --transpose (it is classes x frames)"
            fix = f"its other dimension ({other}) matches the mapping: the array looks transposed; {flip}"
        else:
            fix = "use the mapping the model was trained with, or leave --mapping out to write integer ids"
        raise ValueError(
            f"{where} names {len(mapping.id_to_names)} class(es), but {source} has K = {n_classes} classes: "
            f"id(s) {shown} have no name; {fix}"
        )


def _resolve_decoder(decoder: str | Decoder, config: SolverConfig | None, device: Any, options: Mapping[str, Any]) -> Decoder:
    if isinstance(decoder, Decoder):
        if config is not None or options:
            raise ValueError("pass either a Decoder object or solver settings, not both")
        return decoder
    if decoder == "asot":
        return ASOTDecoder(config, device=device, **options)
    if config is not None:
        raise ValueError(f"config: solver settings apply to the 'asot' decoder, not {decoder!r}")
    opts = dict(options)
    if decoder == "sinkhorn":
        opts.setdefault("device", device)
    return get_decoder(decoder, **opts)


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def segment_videos(
    inputs: Any,
    kind: str = "prob",
    *,
    out: str | os.PathLike[str] | None = None,
    prob_cost: str = DEFAULT_PROB_COST,
    transpose: bool = False,
    decoder: str | Decoder = "asot",
    config: SolverConfig | None = None,
    device: Any = None,
    batch_size: int = 16,
    mapping: Any = None,
    save_coupling: bool = False,
    skip_existing: bool = False,
    overwrite: bool = False,
    plot: bool = False,
    gt: str | os.PathLike[str] | None = None,
    progress: bool = False,
    return_couplings: bool | None = None,
    decoder_options: Mapping[str, Any] | None = None,
    on_video: Callable[[SegmentedVideo], None] | None = None,
    fps: float | None = None,
    **solver_overrides: Any,
) -> SegmentReport:
    """Segment many videos' model outputs (the library form of ``asot segment``).

    Args:
        inputs: paths (``.npy``, ``.npz``, folders) or ``{name: array}``; see :func:`find_inputs`.
            Each array is ``(frames, classes)``, or ``(classes, frames)`` with ``transpose``.
        kind: ``"prob"``, ``"logit"``, ``"affinity"`` or ``"cost"`` (:func:`asot.scores.to_cost`).
        out: output folder; ``None`` writes nothing (results are returned).
        prob_cost: ``"one-minus"`` (``1 - p``, default) or ``"neg-log"`` for prob/logit.
        transpose: inputs are classes x frames (MS-TCN convention).
        decoder: ``"asot"`` (default) or a baseline name (``argmax``, ``sinkhorn``, ``viterbi``,
            ``median``), or a :class:`~asot.decoders.Decoder`.
        config: ASOT settings (default :data:`asot.decoders.DEFAULT_DECODE_CONFIG`);
            ``**solver_overrides`` change single fields (``eps=0.02``).
        device: torch device for the solver.
        batch_size: videos solved together (padded; results do not depend on it).
        mapping: mapping file path or :class:`asot.io.labels.LabelMapping`; labels are written as
            class names. Every class id ``0..K-1`` must have a name.
        save_coupling: also write the soft coupling (decoders with one: asot, sinkhorn).
        skip_existing: leave videos whose outputs all exist and are complete untouched (resume a
            run); a video with a missing, empty or truncated output is done again.
        overwrite: replace output files that exist (without it an existing output is an error,
            so nothing the command did not write is lost). An output that is one of the inputs
            is always an error.
        plot: also write a figure per video.
        gt: ground-truth folder (``<video>`` / ``<video>.txt`` label files): the figures show
            its segments (boundaries on the coupling, a GT row in the bars).
        progress: show a progress bar over videos (tqdm, on stderr).
        return_couplings: keep couplings in the result (default: only when ``out`` is None).
        decoder_options: options of a baseline decoder (e.g. ``{"window": 31}``).
        on_video: called with each :class:`SegmentedVideo` once it is written.
        fps: frames per second for the seconds columns of ``out/segments.csv`` and
            ``out/segments.json`` (written with ``out``, one row per segment,
            :mod:`asot.io.segments`); ``None``: those columns are empty.

    Returns:
        :class:`SegmentReport` ``{name: SegmentedVideo}`` in input order.

    Raises:
        ValueError naming the file for unreadable, mis-shaped or invalid inputs (NaN, negative
        probabilities, rows not summing to 1), a mapping that does not name every class, and
        bad settings.
    """
    if kind not in KINDS:
        raise ValueError(f"kind: expected one of {', '.join(KINDS)}, got {kind!r}")
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size: expected an integer >= 1, got {batch_size!r}")
    if solver_overrides:
        config = (config if config is not None else ASOTDecoder().config).replace(**solver_overrides)
    dec = _resolve_decoder(decoder, config, device, decoder_options or {})
    if save_coupling and not dec.has_coupling:
        raise ValueError(f"save_coupling: the {dec.name!r} decoder has no soft coupling (use asot or sinkhorn)")
    if (save_coupling or plot or skip_existing) and out is None:
        raise ValueError("save_coupling, plot and skip_existing need an output folder (out=...)")
    if mapping is not None and not hasattr(mapping, "id_to_names"):
        from asot.io.labels import read_mapping

        mapping = read_mapping(mapping)
    if gt is not None and not Path(gt).is_dir():
        raise ValueError(f"gt: {gt} is not a folder of ground-truth label files")
    keep_couplings = (out is None) if return_couplings is None else bool(return_couplings)
    out_dir = None if out is None else Path(out)
    if out_dir is not None:
        if out_dir.exists() and not out_dir.is_dir():
            raise ValueError(f"{out_dir}: the output path exists and is not a folder")
        # created by the first write: an input error leaves no empty folder behind

    if fps is not None:
        from asot.io.timing import check_fps

        fps = check_fps(fps)
    videos = find_inputs(inputs)
    results = {v.name: SegmentedVideo(v.name) for v in videos}
    pending: list[VideoInput] = []
    for v in videos:
        if out_dir is not None and skip_existing:
            paths = _output_paths(out_dir, v.name, save_coupling, plot)
            if _outputs_complete(paths, v, transpose):
                results[v.name].skipped = True
                results[v.name].paths = paths
                continue
        pending.append(v)
    if out_dir is not None:  # before any work: never an input, nor (without overwrite) an existing file
        from asot.io.outputs import check_targets

        targets = [p for v in pending for p in _output_paths(out_dir, v.name, save_coupling, plot).values()]
        from asot.io.segments import foreign_tables

        targets += foreign_tables(out_dir)  # our own tables are rewritten, anything else by that name is protected
        check_targets(targets, inputs=[v.path for v in videos if v.path is not None], overwrite=overwrite or skip_existing)

    # cheap pre-pass (headers only): wrong rank and mapping mismatches fail before any work
    for v in pending:
        shape = v.shape()
        if len(shape) != 2:
            layout = "(classes, frames)" if transpose else "(frames, classes)"
            raise ValueError(f"{v.source}: expected a 2-D array {layout} for one video, got shape {shape}")
        check_orientation((shape[1], shape[0]) if transpose else shape, transpose, v.source)
        if mapping is not None:
            n_classes, n_frames = (shape[0], shape[1]) if transpose else (shape[1], shape[0])
            _check_mapping(mapping, n_classes, v.source, other=n_frames, transpose=transpose)

    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(videos), initial=len(videos) - len(pending), unit="video", desc=f"segment ({dec.name})")
    if isinstance(dec, Decoder) and type(dec).fit is not Decoder.fit and pending:
        # data-dependent decoders (viterbi with a global order) see every video first
        dec.fit(to_cost(v.load(), kind, prob_cost=prob_cost, transpose=transpose, name=v.source) for v in pending)
    try:
        for chunk in _chunks(pending, batch_size):
            raw = [v.load() for v in chunk]
            # the arrays are this call's own (read from files or given): a cost input is not copied
            costs = [to_cost(r, kind, prob_cost=prob_cost, transpose=transpose, name=v.source, copy=False) for r, v in zip(raw, chunk)]
            if not plot:  # only the figures read the inputs again: not held through the solve
                raw = [None] * len(chunk)

            def finish(i: int, decoded: Decoded) -> None:
                v = chunk[i]
                item = results[v.name]
                item.labels = decoded.labels
                if decoded.coupling is not None:
                    item.confidence = coupling_confidence(decoded.coupling, decoded.labels)
                if keep_couplings:
                    item.coupling = decoded.coupling
                if out_dir is not None:
                    item.paths = _write_outputs(
                        out_dir, v.name, decoded, raw[i], costs[i], kind, transpose, dec.name, mapping, save_coupling, plot,
                        _ground_truth(gt, v.name, mapping, decoded.labels.size) if plot else None,
                    )
                if on_video is not None:
                    on_video(item)
                if bar is not None:
                    bar.update(1)

            dec.decode_many(costs, batch_size=batch_size, callback=finish, keep=False)
            del costs, raw
    finally:
        if bar is not None:
            bar.close()
    if out_dir is not None:
        _write_segment_tables(out_dir, [results[v.name] for v in videos], mapping, fps)
    return SegmentReport([results[v.name] for v in videos], dec, kind, prob_cost)


def _write_segment_tables(out: Path, items: Sequence[SegmentedVideo], mapping: Any, fps: float | None) -> None:
    """``out/segments.csv`` and ``out/segments.json`` over every video; a skipped video keeps
    its rows of the previous table, else they are rebuilt from its label file (no confidence)."""
    from asot.io.labels import LabelFileError, read_labels
    from asot.io.segments import SEGMENTS_JSON, merged_with_previous, read_segment_table, segment_rows, write_segment_tables
    from asot.io.timing import FrameTiming

    names = None if mapping is None else {k: v[0] for k, v in mapping.id_to_names.items()}
    timing = None if fps is None else FrameTiming(fps=fps)
    previous: dict[str, list[dict[str, Any]]] = {}
    if any(item.skipped for item in items) and (out / SEGMENTS_JSON).is_file():
        try:
            for row in read_segment_table(out / SEGMENTS_JSON):
                previous.setdefault(row["video"], []).append(row)
        except LabelFileError:
            previous = {}
    rows: list[dict[str, Any]] = []
    for item in items:
        if item.labels is not None:
            rows += segment_rows(item.name, item.labels, confidence=item.confidence, timing=timing, names=names)
        else:  # skipped: its label file, with the confidence of the previous table where it agrees
            path = item.paths.get("labels", out / item.name)
            try:
                labels = read_labels(path, mapping)
            except LabelFileError as err:
                import warnings

                warnings.warn(f"{SEGMENTS_JSON}: skipped video {item.name!r} left out of the segment tables ({err})", stacklevel=3)
                continue
            fresh = segment_rows(item.name, labels, timing=timing, names=names)
            old = previous.get(item.name, [])
            same = [(r["id"], r["start_frame"], r["end_frame"]) for r in old] == [(r["id"], r["start_frame"], r["end_frame"]) for r in fresh]
            if same:
                for row, before in zip(fresh, old):
                    row["confidence"] = before["confidence"]
            rows += fresh
    others = [p.name for p in out.iterdir() if p.is_file() and p.name not in {i.name for i in items}]
    write_segment_tables(out, merged_with_previous(out, rows, keep=others))


def _ground_truth(gt: Any, name: str, mapping: Any, n_frames: int) -> np.ndarray | None:
    """The ground truth of video ``name`` from folder ``gt`` (``None``: no folder or no file)."""
    if gt is None:
        return None
    from asot.io.labels import read_labels

    folder = Path(gt)
    path = next((p for p in (folder / name, folder / f"{name}.txt") if p.is_file()), None)
    if path is None:
        return None
    labels = read_labels(path, mapping)
    if labels.size != n_frames:
        raise ValueError(f"{path}: {labels.size} frames of ground truth, the model output has {n_frames}")
    return labels


def _write_outputs(
    out: Path,
    name: str,
    decoded: Decoded,
    raw: np.ndarray,
    cost: np.ndarray,
    kind: str,
    transpose: bool,
    decoder_name: str,
    mapping: Any,
    save_coupling: bool,
    plot: bool,
    gt: np.ndarray | None = None,
) -> dict[str, Path]:
    from asot.io.labels import write_label_file

    paths = _output_paths(out, name, save_coupling, plot)
    if save_coupling:
        save_array(paths["coupling"], decoded.coupling)
    if plot:
        from asot import plot as plotting

        names = None if mapping is None else {k: v[0] for k, v in mapping.id_to_names.items()}
        if decoded.coupling is not None:
            scores = raw.T if transpose else raw
            fig = plotting.plot_coupling(
                scores if kind != "cost" else -scores,
                decoded.coupling,
                gt,
                titles=(f"input ({kind})" if kind != "cost" else "input (negative cost)", f"{decoder_name} coupling"),
                title=name if gt is None else f"{name} (red: ground-truth boundaries)",
            )
        else:
            fig = plotting.plot_segmentation(gt, {decoder_name: decoded.labels}, n_classes=max(cost.shape[1], 1 + int(gt.max()) if gt is not None and gt.size else 0),
                                             names=names, title=name)  # fmt: skip
        plotting.save_figure(fig, paths["figure"])
    write_label_file(paths["labels"], decoded.labels, mapping)  # last: its presence marks the video done
    return paths


# -- side-by-side comparison ----------------------------------------------------------------

#: metrics reported by :func:`compare_decoders` (percent), unsupervised and supervised
UNSUPERVISED_KEYS = ("mof", "f1", "miou")
SUPERVISED_KEYS = ("accuracy", "edit", "f1@10", "f1@25", "f1@50")


def build_decoders(
    names: Sequence[str] | None = None,
    *,
    config: SolverConfig | None = None,
    device: Any = None,
    options: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, Decoder]:
    """``{name: decoder}`` for the named decoders (default: every registered one).

    ``config`` and ``device`` go to ``asot``; ``options[name]`` to the baseline ``name``.
    """
    from asot.decoders import DECODERS

    names = list(DECODERS) if names is None else [names] if isinstance(names, str) else list(names)  # "asot": one name
    options = dict(options or {})
    unknown = [n for n in [*names, *options] if n not in DECODERS]
    if unknown:
        raise ValueError(f"unknown decoder(s) {unknown}; expected some of {', '.join(DECODERS)}")
    out: dict[str, Decoder] = {}
    for name in names:
        opts = dict(options.get(name, {}))
        if name == "asot":
            out[name] = ASOTDecoder(config, device=device, **opts)
        else:
            if name == "sinkhorn" and device is not None:
                opts.setdefault("device", device)
            out[name] = get_decoder(name, **opts)
    return out


def _n_segments(labels: np.ndarray) -> int:
    return count_runs(labels)


def compare_decoders(
    costs: Mapping[str, Any] | Sequence[Any],
    gts: Mapping[str, Any] | Sequence[Any],
    decoders: Mapping[str, Decoder] | Sequence[str] | None = None,
    *,
    supervised: bool = False,
    per_video: bool = False,
    exclude: Sequence[int] = (),
    batch_size: int = 16,
    progress: bool = False,
    return_predictions: bool = False,
) -> dict[str, dict[str, Any]]:
    """Decode the same costs with every decoder and score each against the ground truth.

    Args:
        costs: ``{video: (N, K) cost}`` or a list (see :mod:`asot.scores` to make costs).
        gts: ground-truth class ids per video, same keys / order and lengths as ``costs``.
        decoders: ``{name: Decoder}``, names (built with defaults), or ``None`` for all.
        supervised: score with frame accuracy, edit and F1@{10,25,50} on the labels as given
            (class ids must mean the ground truth's classes: supervised models, paper Table 3);
            otherwise with MoF, segment F1 and mIoU after Hungarian matching (cluster ids).
        per_video: unsupervised: one matching per video, metrics averaged (else one matching
            over all videos).
        exclude: ground-truth ids left out of scoring (background).
        return_predictions: add each decoder's labels under ``"predictions"``.

    Returns:
        ``{decoder: {metric: value (percent), "segments": mean segments per video,
        "time_s": decoding time}}`` in decoder order.
    """
    import time

    from asot.metrics.functional import segmentation_report

    if isinstance(costs, Mapping):
        names = list(costs)
        cost_list = [np.asarray(costs[n]) for n in names]
        if not isinstance(gts, Mapping):
            raise TypeError("gts: expected a mapping keyed like costs")
        missing = [n for n in names if n not in gts]
        if missing:
            raise ValueError(f"no ground truth for video(s) {missing}")
        gt_list = [np.asarray(gts[n]).astype(np.int64) for n in names]
    else:
        cost_list = [np.asarray(c) for c in costs]
        gt_list = [np.asarray(g).astype(np.int64) for g in gts]  # type: ignore[union-attr]
        names = [str(i) for i in range(len(cost_list))]
        if len(gt_list) != len(cost_list):
            raise ValueError(f"expected one ground truth per video: {len(cost_list)} costs, {len(gt_list)} ground truths")
    for n, c, g in zip(names, cost_list, gt_list):
        if c.ndim != 2 or g.ndim != 1 or c.shape[0] != g.shape[0]:
            raise ValueError(f"video {n!r}: cost shape {c.shape} does not match ground truth of {g.shape} frames")
    if decoders is None or not isinstance(decoders, Mapping):
        decoders = build_decoders(decoders)
    keys = SUPERVISED_KEYS if supervised else UNSUPERVISED_KEYS
    table: dict[str, dict[str, Any]] = {}
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(decoders) * len(cost_list), unit="video", desc="compare")
    try:
        for name, dec in decoders.items():
            start = time.perf_counter()
            dec.fit(cost_list)
            decoded = dec.decode_many(cost_list, batch_size=batch_size, callback=(lambda i, d: bar.update(1)) if bar else None)
            elapsed = time.perf_counter() - start
            preds = [d.labels for d in decoded]
            report = segmentation_report(preds, gt_list, per_video=per_video, exclude=tuple(exclude), supervised_on="raw")
            row: dict[str, Any] = {k: report[k] for k in keys}
            row["segments"] = float(np.mean([_n_segments(p) for p in preds]))
            row["time_s"] = elapsed
            if return_predictions:
                row["predictions"] = dict(zip(names, preds))
            table[name] = row
    finally:
        if bar is not None:
            bar.close()
    return table
