"""``asot evaluate``: score predicted frame labels on disk against ground truth.

Spec ``ASOT.md`` section 7: ``asot evaluate --pred DIR --gt DIR --mapping FILE [--per-video]
[--exclude L] [--json FILE]``. Metrics are defined in :mod:`asot.metrics.functional` (section 5);
this module only finds and reads the files, checks them, and prints / writes the report.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Optional

import numpy as np
import typer

from asot.cli.errors import fail, usage_error, warn
from asot.io.labels import LabelFileError, LabelMapping, read_labels, read_mapping, write_json

_MAPPING_NAME = re.compile(r"mapping.*\.txt\Z")
_LABEL_SUFFIXES = (".npy", ".txt")
_MAX_LISTED = 10


class SupervisedOn(str, enum.Enum):
    raw = "raw"
    matched = "matched"


def _listing(names: list[str]) -> str:
    shown = ", ".join(names[:_MAX_LISTED])
    return shown + (f", ... ({len(names)} in all)" if len(names) > _MAX_LISTED else "")


def _video_name(path: Path) -> str:
    return path.stem if path.suffix in _LABEL_SUFFIXES else path.name


def _video_files(folder: Path, what: str, skip: Callable[[Path], bool] = lambda path: False) -> dict[str, Path]:
    """``{video: file}`` for the visible files of ``folder`` not ``skip``-ped; two files of one
    video (e.g. ``<video>`` and ``<video>.txt``) are an error naming both."""
    files: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or not path.is_file() or skip(path):
            continue
        video = _video_name(path)
        if video in files:
            fail(f"two {what} files for video {video!r} in {folder}: {files[video].name} and {path.name}")
        files[video] = path
    return files


def _prediction_files(folder: Path) -> dict[str, Path]:
    """``{video: file}`` for ``<video>``, ``<video>.txt`` and ``<video>.npy`` in ``folder``
    (the segment tables written beside the labels are not videos)."""
    from asot.io.segments import SEGMENT_TABLES

    return _video_files(folder, "prediction", lambda path: path.name in SEGMENT_TABLES)


def _ground_truth_files(folder: Path, mapping: Path) -> dict[str, Path]:
    """``{video: file}`` for groundTruth files ``<video>`` / ``<video>.txt``; mapping files
    (``mapping*.txt`` and the ``--mapping`` file) are not videos."""
    mapping = mapping.resolve()
    return _video_files(folder, "ground-truth", lambda path: path.resolve() == mapping
                        or bool(_MAPPING_NAME.match(path.name)) or path.suffix == ".npy")


def _excluded_ids(labels: list[str], mapping: LabelMapping) -> list[int]:
    ids = []
    for label in labels:
        if label in mapping:
            ids.append(mapping.id_of(label))
        elif re.fullmatch(r"[+-]?\d+", label.strip()):
            ids.append(int(label))
        else:
            usage_error(f"unknown label to exclude: {label!r} (neither a name in {mapping.path} nor an integer id)")
    return ids


def _fmt(value: Any) -> str:
    return "-" if value is None else f"{value:.2f}"


#: raw accuracy this far (points) below the matched MoF, and under half of it: cluster ids
CLUSTER_ID_GAP = 20.0


def _cluster_id_hint(preds: list[np.ndarray], report: dict[str, Any], class_ids: list[int]) -> str | None:
    """Why the predictions look like cluster ids rather than class ids (``None`` if they do not):
    ids the mapping does not have, or raw accuracy far below the Hungarian-matched MoF."""
    used = set(np.unique(np.concatenate(preds)).tolist()) if preds else set()
    foreign = sorted(used - set(class_ids))
    if foreign:
        shown = ", ".join(map(str, foreign[:5])) + (" ..." if len(foreign) > 5 else "")
        return f"ids {shown} are not classes of the mapping"
    acc, mof = report.get("accuracy"), report.get("mof")
    if acc is not None and mof is not None and mof - acc >= CLUSTER_ID_GAP and acc < 0.5 * mof:
        return f"accuracy on the ids as given is {acc:.1f}% but {mof:.1f}% after matching"
    return None


def _print_table(report: dict[str, Any], per_video: bool, legacy: bool, supervised_on: str = "raw") -> None:
    from asot.metrics.functional import METRIC_KEYS

    keys = [*METRIC_KEYS, *(["f1_legacy"] if legacy else [])]
    supervised = "on the labels as given" if supervised_on == "raw" else "after the matching"
    typer.echo(
        f"{report['n_videos']} video(s), {report['n_frames']} frames evaluated; mof/f1/miou after "
        f"{'per-video' if per_video else 'full'} Hungarian matching, edit/f1@k/accuracy {supervised}; metrics in %"
    )
    if not per_video:
        width = max(len(k) for k in keys)
        typer.echo(f"{'metric':<{width}}  {'value':>7}")
        for key in keys:
            typer.echo(f"{key:<{width}}  {_fmt(report[key]):>7}")
        return
    rows = [(name, entry) for name, entry in report["videos"].items()]
    rows.append(("overall", report))
    width = max(len("video"), *(len(name) for name, _ in rows))
    typer.echo(f"{'video':<{width}}" + "".join(f"  {k:>8}" for k in keys))
    for name, entry in rows:
        typer.echo(f"{name:<{width}}" + "".join(f"  {_fmt(entry[k]):>8}" for k in keys))


_HELP = {
    "pred": "Folder of predicted labels: <video>, <video>.txt (one label per line) or <video>.npy (1-D int array).",
    "gt": "Folder of ground-truth label files (groundTruth format, <video> or <video>.txt).",
    "mapping": "Mapping file, '<id> <name>' per line (many-to-one allowed: class identity is the id).",
    "per_video": "Hungarian matching per video, metrics averaged over videos (default: one matching "
    "over all frames). Adds per-video values.",
    "exclude": "Label name or id whose frames are not evaluated (e.g. YTI background -1); repeatable.",
    "json": "Also write the report as JSON here (metrics in percent).",
    "supervised_on": "Accuracy, edit and F1@k on the labels as given ('raw': supervised predictions) "
    "or after mapping clusters through the matching ('matched').",
    "allow_missing": "Evaluate only the predicted videos when the ground-truth folder holds more (e.g. one activity).",
    "legacy_f1": "Also report the published sampled F1 estimator as f1_legacy.",
    "seed": "Seed of the legacy sampled F1.",
    "plot": "Also write a figure per video here (DIR/<video>.png): ground truth and the matched prediction, class names, MoF.",
    "figures": "With --plot: at most this many videos (in name order; default all).",
}


def evaluate(
    pred: Annotated[Path, typer.Option("--pred", help=_HELP["pred"])],
    gt: Annotated[Path, typer.Option("--gt", help=_HELP["gt"])],
    mapping: Annotated[Path, typer.Option("--mapping", help=_HELP["mapping"])],
    per_video: Annotated[bool, typer.Option("--per-video", help=_HELP["per_video"])] = False,
    exclude: Annotated[Optional[list[str]], typer.Option("--exclude", "--ignore", "--background", help=_HELP["exclude"])] = None,
    json_path: Annotated[Optional[Path], typer.Option("--json", help=_HELP["json"])] = None,
    supervised_on: Annotated[
        SupervisedOn, typer.Option("--supervised-on", help=_HELP["supervised_on"])
    ] = SupervisedOn.raw,
    allow_missing: Annotated[bool, typer.Option("--allow-missing", help=_HELP["allow_missing"])] = False,
    legacy_f1: Annotated[bool, typer.Option("--legacy-f1", help=_HELP["legacy_f1"])] = False,
    seed: Annotated[int, typer.Option("--seed", help=_HELP["seed"])] = 0,
    plot: Annotated[Optional[Path], typer.Option("--plot", help=_HELP["plot"], metavar="DIR")] = None,
    figures: Annotated[Optional[int], typer.Option("--figures", min=0, help=_HELP["figures"])] = None,
) -> None:
    """Score predicted frame labels against ground truth (MoF, F1, mIoU, edit, F1@k, accuracy).

    MoF, F1 and mIoU after Hungarian matching; edit, F1@{10,25,50} and accuracy; in percent.
    """
    from asot.metrics.functional import segmentation_report

    for folder, flag in ((pred, "--pred"), (gt, "--gt")):
        if not folder.is_dir():
            usage_error(f"{flag} {folder}: not a folder")
    try:
        label_map = read_mapping(mapping)
    except LabelFileError as err:
        usage_error(f"--mapping: {err}")
    excluded = _excluded_ids(list(exclude or []), label_map)

    pred_files = _prediction_files(pred)
    gt_files = _ground_truth_files(gt, mapping)
    if not pred_files:
        usage_error(f"no prediction files in {pred}")
    extra = sorted(set(pred_files) - set(gt_files))
    if extra:
        usage_error(f"no ground truth in {gt} for {len(extra)} predicted video(s): {_listing(extra)}")
    missing = sorted(set(gt_files) - set(pred_files))
    if missing and not allow_missing:
        usage_error(
            f"no prediction in {pred} for {len(missing)} ground-truth video(s): {_listing(missing)} "
            "(pass --allow-missing to evaluate only the predicted videos)"
        )

    if json_path is not None:  # the report never replaces one of the files it reads
        from asot.io.outputs import OutputConflict, check_targets

        try:
            check_targets([json_path], inputs=[*pred_files.values(), *gt_files.values(), mapping], overwrite=True)
        except OutputConflict as err:
            usage_error(f"--json {err}")
    videos = sorted(pred_files)
    preds: list[np.ndarray] = []
    gts: list[np.ndarray] = []
    for video in videos:
        try:
            p = read_labels(pred_files[video], label_map)
            g = read_labels(gt_files[video], label_map)
        except LabelFileError as err:
            fail(str(err))
        if p.shape != g.shape:
            fail(
                f"length mismatch for video {video!r}: {pred_files[video]} has {p.size} frames, "
                f"{gt_files[video]} has {g.size}"
            )
        preds.append(p)
        gts.append(g)

    try:
        report = segmentation_report(
            preds, gts, per_video=per_video, exclude=excluded, supervised_on=supervised_on.value,
            names=videos, legacy_f1=legacy_f1, seed=seed,
        )
    except ValueError as err:
        fail(str(err))
    _print_table(report, per_video, legacy_f1, supervised_on.value)
    hint = _cluster_id_hint(preds, report, label_map.ids) if supervised_on == SupervisedOn.raw else None
    if hint is not None:
        warn(f"the predictions look like cluster ids ({hint}): edit, f1@k and accuracy compare them as class ids; "
             "for unsupervised predictions pass --supervised-on matched")
    if json_path is not None:
        try:
            write_json(json_path, report)
        except OSError as err:
            fail(f"--json {json_path}: {err.strerror or err}")
    if plot is not None:
        from asot.report.figures import write_matched_figures

        names = {int(i): n[0] for i, n in label_map.id_to_names.items()}
        try:
            written = write_matched_figures(plot, dict(zip(videos, gts)), {"prediction": dict(zip(videos, preds))}, names=names,
                                            exclude=excluded, per_video=per_video, limit=figures)  # fmt: skip
        except OSError as err:
            fail(f"--plot {plot}: {err.strerror or err}")
        typer.echo(f"{len(written)} figure(s) -> {plot}", err=True)
