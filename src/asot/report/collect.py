r"""What a report shows, gathered from a run folder or a folder of predictions.

:func:`collect` reads a folder into a :class:`ReportData` (plain, JSON-ready values):

* a **run folder** (``asot train``: ``config.json``, ``metrics.json``, ``predictions/``,
  ``logs/``, ``checkpoints/``): ASOT's predictions, ground truth and mapping from the dataset
  named in ``config.json`` (or ``gt`` / ``mapping``), the metrics and baselines of
  ``metrics.json``, the settings used and those chosen from the data (K, rho, radius per
  activity, read from the checkpoints), the loss curves;
* a **prediction folder** (``asot predict`` / ``asot segment``: ``<video>`` label files):
  those labels, and ground truth when ``gt`` is given.

Extra prediction rows (baselines) come from sub-folders of label files (e.g.
``baselines/<method>/<video>``) or from the ``rows`` argument (in memory, e.g. the k-means
baseline of a run being written).

**Colours and matching.** Predictions are cluster ids. Where ground truth exists, the clusters
of each activity (of the whole folder for a prediction folder) are matched to classes by one
Hungarian matching (the "full" protocol); matched clusters take their class's name and colour
and unmatched clusters are drawn as *unmatched*. Each video shows two MoF values per method:
``mof`` (frames whose drawn label is the ground truth, i.e. the activity-level matching, what
the timeline shows) and ``mof_pv`` (its own per-video matching, the "per video" protocol).
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from asot.io.labels import LabelFileError, LabelMapping, read_labels, read_mapping
from asot.runs import run_starts

__all__ = ["ReportData", "ReportError", "collect", "segments_of"]

#: sub-folders of a run that never hold prediction rows
_NOT_ROWS = {"checkpoints", "logs", "figures", "couplings", "features", "report"}
_LABEL_SUFFIXES = (".txt", ".npy")
#: the row name of the main prediction
MAIN_ROW = "ASOT"


class ReportError(ValueError):
    """A folder that cannot be reported (names the file and what was expected).

    ``usage``: the command line is wrong (a missing folder, an output that would replace a
    file); otherwise a file's contents are (exit codes 2 and 1 in the command line)."""

    def __init__(self, message: str, *, usage: bool = True) -> None:
        super().__init__(message)
        self.usage = usage


@dataclass
class ReportData:
    """Everything a report shows (JSON-ready: lists, dicts, numbers, strings).

    Attributes:
        title: page title.
        source: the folder reported.
        classes: ``[{"name", "color"}]``; every track value is an index into it.
        rows: the timeline rows in order (``"GT"`` first when present).
        videos: per video ``{"name", "activity", "n", "fps", "tracks": {row: [start, code, ...]},
            "mof": {row: %}, "mof_pv": {row: %}}``; a track is a flat list of segment starts and
            class codes (a segment ends where the next starts, the last at ``n``).
        metrics: ``{method: {"full": {...}, "per_video": {...}}}`` in percent.
        activity_metrics: ``{activity: {method: {"full": ..., "per_video": ...}}}``.
        settings: ``{"used": {...}, "chosen": {activity: {...}}}``.
        loss: ``{activity: [[epoch, loss], ...]}``.
        thumbnails: ``{video: {row: [data-URI or None per segment]}}`` (optional).
    """

    title: str
    source: str
    classes: list[dict[str, str]] = field(default_factory=list)
    rows: list[str] = field(default_factory=list)
    videos: list[dict[str, Any]] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    activity_metrics: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    loss: dict[str, list[list[float]]] = field(default_factory=dict)
    thumbnails: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ("title", "source", "classes", "rows", "videos", "metrics",
                                              "activity_metrics", "settings", "loss", "thumbnails", "notes")}  # fmt: skip


def segments_of(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(starts, values)`` of the runs of equal labels."""
    labels = np.asarray(labels)
    starts = run_starts(labels)
    return starts, labels[starts]


# ------------------------------------------------------------------------------------------
# reading folders


def _video_name(path: Path) -> str:
    return path.stem if path.suffix in _LABEL_SUFFIXES else path.name


def _label_files(folder: Path) -> dict[str, Path]:
    out: dict[str, Path] = {}
    for p in sorted(folder.iterdir()):
        if p.name.startswith(".") or not p.is_file() or p.suffix in (".json", ".csv", ".png", ".html", ".ckpt", ".npz"):
            continue
        if p.name.startswith("mapping"):
            continue
        out.setdefault(_video_name(p), p)
    return out


def _read_folder(folder: Path, mapping: LabelMapping | None) -> dict[str, np.ndarray]:
    out = {}
    for name, path in _label_files(folder).items():
        try:
            out[name] = read_labels(path, mapping)
        except LabelFileError as err:
            raise ReportError(str(err), usage=False) from None
    return out


def _extra_rows(root: Path, videos: Sequence[str], mapping: LabelMapping | None, skip: set[str]) -> dict[str, dict[str, np.ndarray]]:
    """Sub-folders (and their sub-folders, e.g. ``baselines/kmeans``) of label files for the
    same videos: one prediction row each, named by the folder."""
    rows: dict[str, dict[str, np.ndarray]] = {}
    wanted = set(videos)
    candidates = []
    for sub in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if sub.name in _NOT_ROWS or sub.name in skip:
            continue
        candidates.append((sub.name.removeprefix("predictions_").removeprefix("predictions-"), sub))
        candidates += [(inner.name, inner) for inner in sorted(p for p in sub.iterdir() if p.is_dir() and not p.name.startswith("."))]
    for name, folder in candidates:
        files = _label_files(folder)
        if files and set(files) <= wanted | set(files) and set(files) & wanted:
            try:
                rows[name] = _read_folder(folder, mapping)
            except ReportError:
                continue  # not a label folder after all
    return rows


def _read_json(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise ReportError(f"{path}: not a readable JSON file ({err})", usage=False) from None
    if not isinstance(value, dict):
        raise ReportError(f"{path}: expected a JSON object", usage=False)
    return value


def _fps_of(video: str, feature_dirs: Sequence[Path]) -> float | None:
    """fps from a ``features/[<activity>/]<video>.json`` sidecar (``asot features``)."""
    for folder in feature_dirs:
        for sidecar in (folder / f"{video}.json", *folder.glob(f"*/{video}.json")):
            if sidecar.is_file():
                try:
                    fps = float(json.loads(sidecar.read_text(encoding="utf-8")).get("fps"))
                except (OSError, ValueError, TypeError, AttributeError):
                    continue
                if math.isfinite(fps) and fps > 0:
                    return fps
    return None


def _fps_from_segment_tables(tables: Sequence[Path]) -> dict[str, float]:
    """fps per video from ``segments.csv`` tables (start/end frame and seconds columns)."""
    out: dict[str, float] = {}
    for table in tables:
        try:
            with open(table, newline="", encoding="utf-8") as fh:
                reader = csv.DictReader(fh)
                cols = reader.fieldnames or []
                fps_col = next((c for c in cols if c.lower() == "fps"), None)
                f0 = next((c for c in cols if c.lower() in ("start_frame", "start")), None)
                f1 = next((c for c in cols if c.lower() in ("end_frame", "end")), None)
                s0 = next((c for c in cols if c.lower() in ("start_s", "start_sec", "start_seconds", "start_time")), None)
                s1 = next((c for c in cols if c.lower() in ("end_s", "end_sec", "end_seconds", "end_time")), None)
                for row in reader:
                    video = row.get("video")
                    if not video or video in out:
                        continue
                    try:
                        if fps_col and row.get(fps_col):
                            fps = float(row[fps_col])
                        elif f0 and f1 and s0 and s1 and row.get(s0) and row.get(s1):
                            fps = (float(row[f1]) - float(row[f0])) / (float(row[s1]) - float(row[s0]))
                        else:
                            continue
                    except (ValueError, ZeroDivisionError):
                        continue
                    if math.isfinite(fps) and fps > 0:
                        out[video] = fps
        except (OSError, csv.Error, UnicodeDecodeError):
            continue
    return out


def _activity_of(video: str, dataset: str | None, data_dir: Path | None, activities: Sequence[str]) -> str:
    if len(activities) == 1:
        return activities[0]
    if dataset:
        from asot.data.dataset import DatasetError, dataset_kind, parse_activity

        try:
            act = parse_activity(video, dataset_kind(dataset), dataset)
        except (DatasetError, ValueError):
            act = None
        if act:
            return act
    if data_dir is not None:
        for act in activities:
            if any((data_dir / "features" / act / f"{video}{s}").is_file() for s in (".npy", ".txt")):
                return act
    return activities[0] if activities else "all"


def _loss_curves(run: Path) -> dict[str, list[list[float]]]:
    from asot.io.training_logs import read_loss_curve

    out = {}
    logs = run / "logs"
    if logs.is_dir():
        for act_dir in sorted(p for p in logs.iterdir() if p.is_dir()):
            curve = read_loss_curve(act_dir)
            if curve:
                out[act_dir.name] = [[float(e), float(v)] for e, v in curve]
    return out


def _chosen_settings(run: Path, config: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """K, rho and the structure radius per activity as the trained models hold them."""
    chosen: dict[str, dict[str, Any]] = {}
    for act, k in (config.get("n_clusters") or {}).items():
        chosen.setdefault(act, {})["K"] = k
    preset = config.get("preset") or {}
    ckpts = sorted(run.glob("checkpoints/*/last.ckpt"))
    if ckpts:
        import torch

        for ckpt in ckpts:
            act = ckpt.parent.name
            try:
                state = torch.load(str(ckpt), map_location="cpu", weights_only=False)
            except Exception:  # noqa: BLE001 - an unreadable checkpoint only loses this table row
                continue
            entry = chosen.setdefault(act, {})
            weights = state.get("state_dict", {})
            if "rho_used" in weights:
                entry["rho"] = float(weights["rho_used"])
                if preset.get("rho_auto"):
                    entry["rho"] = f"{entry['rho']:g} (auto)"
            if "recurring" in weights:
                entry["actions recur"] = bool(weights["recurring"])
            radii = state.get("training_radii") or state.get("video_radius") or []  # measured per video (radius "auto")
            if isinstance(radii, Mapping):
                radii = list(radii.values())
            if len(radii):
                r = np.asarray(radii, dtype=np.float64)
                entry["radius (auto)"] = f"{np.median(r):.4g} median, {r.min():.4g}-{r.max():.4g} over {r.size} videos"
            else:
                for which in ("train_solver", "eval_solver"):
                    solver = preset.get(which) or {}
                    if solver.get("radius") is not None:
                        entry[f"radius ({which.split('_')[0]})"] = solver.get("radius_frames") or solver["radius"]
            hp = state.get("hyper_parameters", {})
            if "n_clusters" in hp:
                entry["K"] = int(hp["n_clusters"])
    for key in ("chosen", "auto", "selected"):  # settings a run may record itself
        for source in (config.get(key),):
            if isinstance(source, Mapping):
                for act, values in source.items():
                    if isinstance(values, Mapping):
                        chosen.setdefault(act, {}).update(values)
    return chosen


def _flatten(d: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping):
            out.update(_flatten(v, key + "."))
        else:
            out[key] = v if isinstance(v, (int, float, str, bool)) or v is None else json.dumps(v)
    return out


def _metric_entry(value: Any) -> dict[str, Any] | None:
    if isinstance(value, Mapping) and isinstance(value.get("full"), Mapping):
        return {"full": dict(value["full"]), "per_video": dict(value.get("per_video") or {})}
    return None


# ------------------------------------------------------------------------------------------
# the report data


def collect(
    source: str | Path,
    *,
    gt: str | Path | None = None,
    mapping: str | Path | None = None,
    rows: Mapping[str, Mapping[str, np.ndarray]] | None = None,
    activities: Mapping[str, str] | None = None,
    fps: float | None = None,
    exclude: Sequence[int] | None = None,
    thumbnails: bool = True,
    data: str | Path | None = None,
) -> ReportData:
    """Read a run folder or a prediction folder into a :class:`ReportData` (see the module doc).

    Args:
        source: run folder or folder of ``<video>`` label files.
        gt: ground-truth folder (default for a run: ``<data>/<dataset>/groundTruth`` of its
            ``config.json``, when it exists).
        mapping: mapping file (default for a run: the dataset's).
        rows: extra prediction rows ``{method: {video: cluster ids}}``.
        activities: ``{video: activity}`` (default: from the run's dataset naming rule).
        fps: frames per second of every video (default: ``features/<video>.json`` sidecars or
            ``segments.csv`` when they exist; otherwise no seconds are shown).
        exclude: class ids not scored (default: the run preset's ``exclude_labels``).
        thumbnails: add a thumbnail per segment when the videos' source files can be decoded.
        data: the dataset folder ``ROOT/<dataset>`` the predictions were made from (a
            prediction folder; a run names it in ``config.json``): its ``groundTruth/`` and
            ``mapping/mapping.txt`` are the defaults of ``gt`` / ``mapping``, its naming rule
            gives each video's activity, its ``features/`` sidecars the fps.
    """
    root = Path(source)
    if not root.is_dir():
        raise ReportError(f"{root}: not a folder (expected a run folder or a folder of prediction files)")
    is_run = (root / "config.json").is_file() and (root / "predictions").is_dir()
    config = _read_json(root / "config.json") if is_run else {}
    metrics_file = root / "metrics.json"
    metrics_json = _read_json(metrics_file) if metrics_file.is_file() else {}
    preset = config.get("preset") or {}
    data_dir: Path | None = None
    if is_run and config.get("data") and config.get("dataset"):
        data_dir = Path(config["data"]) / config["dataset"]
    elif data is not None:
        data_dir = Path(data)
        config = {"dataset": data_dir.name}
        if (data_dir / "features").is_dir():
            config["activities"] = sorted(p.name for p in (data_dir / "features").iterdir() if p.is_dir())
    gt_dir = Path(gt) if gt is not None else (data_dir / "groundTruth" if data_dir is not None else None)
    if gt is None and gt_dir is not None and not gt_dir.is_dir():
        gt_dir = None
    if gt is not None and not gt_dir.is_dir():  # type: ignore[union-attr]
        raise ReportError(f"--gt {gt_dir}: not a folder")
    map_path = Path(mapping) if mapping is not None else None
    if map_path is None and data_dir is not None:
        candidate = data_dir / "mapping" / str(preset.get("mapping") or "mapping.txt")
        map_path = candidate if candidate.is_file() else None
    if map_path is None and gt_dir is not None and (gt_dir.parent / "mapping" / "mapping.txt").is_file():
        map_path = gt_dir.parent / "mapping" / "mapping.txt"
    label_map = None
    if map_path is not None:
        try:
            label_map = read_mapping(map_path)
        except LabelFileError as err:
            raise ReportError(f"--mapping: {err}", usage=False) from None
    exclude = tuple(int(e) for e in (exclude if exclude is not None else preset.get("exclude_labels") or ()))

    main_dir = root / "predictions" if is_run else root
    preds: dict[str, dict[str, np.ndarray]] = {MAIN_ROW: _read_folder(main_dir, label_map)}
    if not preds[MAIN_ROW]:
        raise ReportError(f"{main_dir}: no prediction files (<video>, <video>.txt or <video>.npy)")
    names = sorted(preds[MAIN_ROW])
    preds.update(_extra_rows(root, names, label_map, {"predictions"}))
    for key, value in (rows or {}).items():
        preds[str(key)] = {n: np.asarray(v) for n, v in value.items()}

    truth: dict[str, np.ndarray] = {}
    if gt_dir is not None and gt_dir.is_dir():
        files = _label_files(gt_dir)
        for name in names:
            if name in files:
                try:
                    truth[name] = read_labels(files[name], label_map)
                except LabelFileError as err:
                    raise ReportError(str(err), usage=False) from None
                if truth[name].shape != preds[MAIN_ROW][name].shape:
                    raise ReportError(f"video {name!r}: {files[name]} has {truth[name].size} frames, "
                                      f"the prediction {preds[MAIN_ROW][name].size}", usage=False)  # fmt: skip

    act_list = list(config.get("activities") or [])
    video_activity = {n: (activities or {}).get(n) or _activity_of(n, config.get("dataset"), data_dir, act_list or ["all"]) for n in names}

    # classes: every ground-truth id (named by the mapping), then one code per unmatched / cluster
    classes: list[dict[str, str]] = []
    code_of: dict[Any, int] = {}

    def code(key: Any, name: str) -> int:
        if key not in code_of:
            code_of[key] = len(classes)
            classes.append({"name": name})
        return code_of[key]

    def class_name(c: int) -> str:
        if label_map is not None:
            try:
                return label_map.name_of(c)
            except KeyError:
                pass
        return f"class {c}"

    gt_ids = sorted({int(c) for g in truth.values() for c in np.unique(g)}) if truth else []
    for c in gt_ids:
        code(("class", c), class_name(c))

    tracks: dict[str, dict[str, np.ndarray]] = {n: {} for n in names}
    mof: dict[str, dict[str, float | None]] = {n: {} for n in names}
    mof_pv: dict[str, dict[str, float | None]] = {n: {} for n in names}
    from asot.metrics import functional as MF
    from asot.metrics.matching import match_full
    from asot.plot import UNMATCHED_LABEL, UNMATCHED_NAME

    by_activity: dict[str, list[str]] = {}
    for n in names:
        by_activity.setdefault(video_activity[n], []).append(n)
    for row, row_preds in preds.items():
        for act, vids in by_activity.items():
            vids = [v for v in vids if v in row_preds]
            labelled = [v for v in vids if v in truth and row_preds[v].shape == truth[v].shape]
            matching = None
            if labelled:
                matching = match_full([row_preds[v] for v in labelled], [truth[v] for v in labelled], exclude=exclude)
            for v in vids:
                p = np.asarray(row_preds[v], dtype=np.int64)
                if matching is not None:
                    drawn = matching.apply(p, fill=UNMATCHED_LABEL)
                    lut = {c: code(("class", c), class_name(c)) for c in np.unique(drawn) if c != UNMATCHED_LABEL}
                    if (drawn == UNMATCHED_LABEL).any():
                        lut[UNMATCHED_LABEL] = code("unmatched", UNMATCHED_NAME)
                    starts, values = segments_of(drawn)
                    tracks[v][row] = np.stack([starts, [lut[int(x)] for x in values]], 1).ravel()
                    if v in truth and p.shape == truth[v].shape:
                        keep = ~np.isin(truth[v], exclude)
                        hits = (drawn == truth[v])[keep]
                        mof[v][row] = round(100.0 * float(hits.mean()), 2) if hits.size else None
                        mof_pv[v][row] = round(100.0 * MF.mof([p], [truth[v]], exclude=exclude, per_video=True), 2) if keep.any() else None
                else:
                    starts, values = segments_of(p)
                    names_for = {int(x): code(("cluster", int(x)), f"cluster {int(x)}" if label_map is None or truth else class_name(int(x)))
                                 for x in np.unique(values)}  # fmt: skip
                    tracks[v][row] = np.stack([starts, [names_for[int(x)] for x in values]], 1).ravel()
    for v, g in truth.items():
        starts, values = segments_of(g)
        tracks[v] = {"GT": np.stack([starts, [code(("class", int(x)), class_name(int(x))) for x in values]], 1).ravel(), **tracks[v]}

    _color_classes(classes, code_of)
    row_names = (["GT"] if truth else []) + list(preds)
    feature_dirs = [data_dir / "features"] if data_dir is not None else []
    if gt_dir is not None:
        feature_dirs.append(gt_dir.parent / "features")
    table_fps = _fps_from_segment_tables([p for p in (root / "segments.csv", root / "predictions" / "segments.csv") if p.is_file()])
    videos = []
    for n in names:
        v_fps = fps if fps is not None else (table_fps.get(n) or _fps_of(n, feature_dirs))
        videos.append({
            "name": n, "activity": video_activity[n], "n": int(preds[MAIN_ROW][n].size), "fps": v_fps,
            "tracks": {r: [int(x) for x in t] for r, t in tracks[n].items()}, "mof": mof[n], "mof_pv": mof_pv[n],
        })  # fmt: skip

    metrics, act_metrics = _metrics(metrics_json, preds, truth, by_activity, exclude)
    settings: dict[str, Any] = {}
    if is_run:
        used = {k: v for k, v in config.items() if k not in ("preset", "n_clusters", "layer_sizes", "chosen", "auto", "selected")}
        used.update(_flatten(preset, "preset."))
        settings = {"used": _flatten(used), "chosen": _chosen_settings(root, config)}
    notes = [str(metrics_json["advice"])] if metrics_json.get("advice") else []  # a baseline beat the model
    if not truth:
        notes.append("no ground truth found: clusters are shown as predicted, without metrics")
    from asot.io.runfolder import NEW_NAME

    shown = root.resolve().parent if root.resolve().name == NEW_NAME else root.resolve()  # a run being replaced
    data = ReportData(
        title=f"asot report: {shown.name}", source=str(shown), classes=classes, rows=row_names,
        videos=videos, metrics=metrics, activity_metrics=act_metrics, settings=settings,
        loss=_loss_curves(root) if is_run else {}, notes=notes,
    )  # fmt: skip
    if thumbnails:
        from asot.report.thumbnails import add_thumbnails

        add_thumbnails(data, feature_dirs)
    return data


def _color_classes(classes: list[dict[str, str]], code_of: Mapping[Any, int]) -> None:
    """Colours as in the PNG figures (same id, same colour); a negative ground-truth id
    (background) light grey, unmatched clusters near-black."""
    from asot.plot import BACKGROUND_CLASS_COLOR, UNMATCHED_COLOR, class_colors

    ids = [key[1] for key in code_of if isinstance(key, tuple)]
    palette = class_colors(max(ids, default=-1) + 1)
    for key, c in code_of.items():
        rgba = UNMATCHED_COLOR if key == "unmatched" else (palette[key[1]] if key[1] >= 0 else BACKGROUND_CLASS_COLOR)
        classes[c]["color"] = "#%02x%02x%02x" % tuple(int(round(255 * x)) for x in rgba[:3])


def _metrics(metrics_json: Mapping[str, Any], preds: Mapping[str, Mapping[str, np.ndarray]], truth: Mapping[str, np.ndarray],
             by_activity: Mapping[str, list[str]], exclude: Sequence[int]) -> tuple[dict[str, Any], dict[str, Any]]:  # fmt: skip
    """Full and per-video metrics per method: the run's own ``metrics.json`` where it has them,
    otherwise computed here (the run's protocol: per activity, aggregated)."""
    metrics: dict[str, Any] = {}
    act_metrics: dict[str, Any] = {}
    main = _metric_entry(metrics_json)
    if main:
        metrics[MAIN_ROW] = main
    if isinstance(metrics_json.get("baselines"), Mapping):  # {method: {full, per_video, [activities]}}
        for name, value in metrics_json["baselines"].items():
            entry = _metric_entry(value)
            if entry:
                metrics[str(name)] = entry
                for act, per_act in (value.get("activities") or {}).items():
                    if _metric_entry(per_act):
                        act_metrics.setdefault(act, {})[str(name)] = _metric_entry(per_act)
    else:  # older runs: one baseline, k-means + argmax on the input features
        baseline = _metric_entry(metrics_json.get("baseline"))
        if baseline:
            metrics["k-means + argmax"] = baseline
    for act, value in (metrics_json.get("activities") or {}).items():
        entry = _metric_entry(value)
        if entry:
            act_metrics.setdefault(act, {})[MAIN_ROW] = entry
    if not truth:
        return metrics, act_metrics
    from asot.metrics.protocol import aggregate_activities, evaluate_protocols as evaluate_predictions

    for row, row_preds in preds.items():
        if row in metrics and (len(by_activity) == 1 or all(row in act_metrics.get(a, {}) for a in by_activity)):
            continue
        per_act = {}
        for act, vids in by_activity.items():
            p = {v: row_preds[v] for v in vids if v in row_preds and v in truth and row_preds[v].shape == truth[v].shape}
            if p:
                g = {v: truth[v] for v in p}
                m = evaluate_predictions(p, g, exclude)
                per_act[act] = (p, g, m)
                if len(by_activity) > 1:
                    act_metrics.setdefault(act, {})[row] = m
        if per_act and row not in metrics:
            metrics[row] = aggregate_activities(per_act, exclude)
    return metrics, act_metrics
