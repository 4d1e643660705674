"""``asot compare``: every decoder side by side on the same model outputs and ground truth.

Thin wrapper over :func:`asot.postprocess.compare_decoders`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Optional

import numpy as np
import typer

from asot.cli._device import DEVICE_HELP
from asot.cli._solver_options import solver_options
from asot.cli.segment import (
    DECODER_NAMES,
    INPUTS_HELP,
    KIND_HELP,
    PROB_COST_HELP,
    TRANSPOSE_HELP,
    Kind,
    ProbCost,
    decoder_options,
)
from asot.cli.errors import run_library, usage_error, warn
from asot.ot.config import SolverConfig
from asot.presets import DEFAULT_DECODE_CONFIG
from asot.scores import DEFAULT_PROB_COST

__all__ = ["compare", "find_ground_truth", "format_table"]

_INT = re.compile(r"[+-]?\d+\Z")


def find_ground_truth(folder: Path, names: list[str]) -> dict[str, Path]:
    """``{video: file}``: ``FOLDER/<video>``, ``<video>.txt`` or ``<video>.npy`` for each name."""
    if not folder.is_dir():
        raise ValueError(f"{folder}: the ground-truth folder does not exist")
    found: dict[str, Path] = {}
    missing = []
    for name in names:
        for candidate in (folder / name, folder / f"{name}.txt", folder / f"{name}.npy"):
            if candidate.is_file():
                found[name] = candidate
                break
        else:
            missing.append(name)
    if missing:
        shown = ", ".join(missing[:10]) + (f", ... ({len(missing)} in all)" if len(missing) > 10 else "")
        raise ValueError(f"{folder}: no ground truth (<video>, <video>.txt or <video>.npy) for video(s) {shown}")
    return found


def _read_ground_truth(files: dict[str, Path], mapping: Any, supervised: bool) -> dict[str, np.ndarray]:
    from asot.io.labels import LabelMapping, read_label_file, read_labels

    if mapping is None:
        # names without a mapping: fine for Hungarian matching (ids only need to be consistent)
        texts = {n: read_label_file(p) for n, p in files.items() if p.suffix != ".npy"}
        tokens = sorted({t for lines in texts.values() for t in lines if not _INT.match(t)})
        if tokens:
            if supervised:
                raise ValueError(
                    "the ground truth holds class names; --supervised needs --mapping to know which name is class 0, 1, ..."
                )
            mapping = LabelMapping.from_pairs(enumerate(tokens))
    return {n: read_labels(p, mapping) for n, p in files.items()}


def _exclusions(values: list[str], mapping: Any) -> list[int]:
    ids = []
    for value in values:
        if mapping is not None and value in mapping:
            ids.append(mapping.id_of(value))
        elif _INT.match(value.strip()):
            ids.append(int(value))
        elif mapping is None:
            raise ValueError(f"--exclude {value!r}: a class name needs --mapping (the name-to-id file); "
                             "or give the integer id")
        else:
            raise ValueError(f"--exclude {value!r}: neither an integer id nor a class name of the mapping")
    return ids


def _fmt(value: Any, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def format_table(table: dict[str, dict[str, Any]], keys: tuple[str, ...]) -> str:
    """One row per decoder: the metrics, mean segments per video, and decoding time."""
    columns = [*keys, "segments", "time_s"]
    width = max(len("decoder"), *(len(n) for n in table))
    lines = [f"{'decoder':<{width}}" + "".join(f"  {c:>8}" for c in columns)]
    for name, row in table.items():
        cells = [_fmt(row[k]) for k in keys] + [_fmt(row["segments"], 1), _fmt(row["time_s"], 2)]
        lines.append(f"{name:<{width}}" + "".join(f"  {c:>8}" for c in cells))
    return "\n".join(lines)


@solver_options(base=DEFAULT_DECODE_CONFIG)
def compare(
    inputs: list[Path] = typer.Argument(..., help=INPUTS_HELP, show_default=False),
    kind: Kind = typer.Option(..., "--kind", "--pred-kind", help=KIND_HELP, case_sensitive=False),
    gt: Path = typer.Option(..., "--gt", help="ground-truth folder: <video> label files (groundTruth format)"),
    mapping: Optional[Path] = typer.Option(None, "--mapping", help="'<id> <name>' file; needed with --supervised when labels are names"),
    supervised: bool = typer.Option(
        False, "--supervised", help="accuracy, edit, F1@{10,25,50} on the labels as given (class ids = model classes); "
        "default: Hungarian-matched MoF, F1, mIoU",
    ),
    per_video: bool = typer.Option(False, "--per-video", help="unsupervised: one Hungarian matching per video (default: one over all videos)"),
    exclude: Optional[list[str]] = typer.Option(None, "--exclude", "--ignore", "--background", help="ground-truth label (name or id) left out of scoring; repeatable"),
    decoders: Optional[str] = typer.Option(None, "--decoders", help=f"comma-separated subset of {', '.join(DECODER_NAMES)} (default: all)"),
    json_path: Optional[Path] = typer.Option(None, "--json", help="also write the table as JSON here (metrics in percent)"),
    prob_cost: ProbCost = typer.Option(ProbCost(DEFAULT_PROB_COST), "--prob-cost", help=PROB_COST_HELP),
    transpose: bool = typer.Option(False, "--transpose", help=TRANSPOSE_HELP),
    device: Optional[str] = typer.Option(None, "--device", help=DEVICE_HELP),
    batch_size: int = typer.Option(16, "--batch-size", min=1, help="videos decoded together (padded)"),
    progress: bool = typer.Option(False, "--progress/--no-progress", help="progress bar (stderr)"),
    median_window: int = typer.Option(15, "--median-window", help="median decoder: odd window in frames", rich_help_panel="Baselines"),
    viterbi_order: str = typer.Option(
        "video", "--viterbi-order", help="viterbi decoder: 'video', 'global' (from all inputs) or ids '3,0,2,...'", rich_help_panel="Baselines"
    ),
    viterbi_no_skip: bool = typer.Option(False, "--viterbi-no-skip", help="viterbi decoder: every class of the order must occur", rich_help_panel="Baselines"),
    sinkhorn_eps: float = typer.Option(0.05, "--sinkhorn-eps", help="sinkhorn decoder: entropy weight", rich_help_panel="Baselines"),
    solver_config: SolverConfig = DEFAULT_DECODE_CONFIG,
) -> None:
    """Decode the same model outputs with every decoder and print one table of their metrics.

    Example: asot compare outputs/ --kind prob --transpose --gt groundTruth/ --mapping mapping.txt --supervised
    """
    from asot.decoders import DECODERS
    from asot.io.labels import read_mapping, write_json
    from asot.postprocess import SUPERVISED_KEYS, UNSUPERVISED_KEYS, build_decoders, compare_decoders, find_inputs
    from asot.scores import to_cost

    names = list(DECODERS) if not decoders else [d.strip() for d in decoders.split(",") if d.strip()]
    unknown = [n for n in names if n not in DECODERS]
    if unknown or not names:
        usage_error(f"--decoders: unknown decoder(s) {unknown}; expected some of {','.join(DECODERS)}")
    options = {n: decoder_options(n, median_window, viterbi_order, viterbi_no_skip, sinkhorn_eps) for n in names if n != "asot"}

    def load() -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], list[int], Any]:
        label_map = None if mapping is None else read_mapping(mapping)
        videos = find_inputs([str(p) for p in inputs])
        costs = {v.name: to_cost(v.load(), kind.value, prob_cost=prob_cost.value, transpose=transpose, name=v.source) for v in videos}
        files = find_ground_truth(gt, list(costs))
        truth = _read_ground_truth(files, label_map, supervised)
        for name, cost in costs.items():
            if truth[name].shape[0] != cost.shape[0]:
                raise ValueError(f"video {name!r}: {cost.shape[0]} frames of model output but {truth[name].shape[0]} ground-truth labels ({files[name]})")
        return costs, truth, _exclusions(list(exclude or []), label_map), label_map

    costs, truth, excluded, _ = run_library(load)
    if json_path is not None:  # the table never replaces one of the files it reads
        from asot.io.outputs import check_targets

        read = [v.path for v in find_inputs([str(p) for p in inputs]) if v.path is not None]
        run_library(lambda: check_targets([json_path], inputs=[*read, *find_ground_truth(gt, list(costs)).values(),
                                                                *([mapping] if mapping else [])], overwrite=True))  # fmt: skip
    if supervised:  # labels are compared as given: an id the model cannot output is never right
        n_classes = min(c.shape[1] for c in costs.values())
        beyond = sorted({int(x) for g in truth.values() for x in np.unique(g) if x >= n_classes} - set(excluded))
        if beyond:
            warn(f"ground-truth ids {beyond} are >= the {n_classes} classes of the model output; "
                 "their frames count as errors (check --mapping, or use the unsupervised protocol)")
    built = run_library(lambda: build_decoders(names, config=solver_config, device=device, options=options))
    table = run_library(
        lambda: compare_decoders(
            costs, truth, built, supervised=supervised, per_video=per_video, exclude=excluded, batch_size=batch_size, progress=progress
        )
    )
    keys = SUPERVISED_KEYS if supervised else UNSUPERVISED_KEYS
    from asot.runs import count_runs

    gt_segments = float(np.mean([count_runs(g) for g in truth.values()]))
    protocol = "supervised (labels as given)" if supervised else f"Hungarian matching {'per video' if per_video else 'over all videos'}"
    typer.echo(f"{len(costs)} video(s), {sum(c.shape[0] for c in costs.values())} frames; {protocol}; metrics in %")
    typer.echo(format_table(table, keys))
    typer.echo(f"ground truth: {gt_segments:.1f} segments per video")
    if json_path is not None:
        payload = {
            "protocol": "supervised" if supervised else ("per_video" if per_video else "full"),
            "kind": kind.value,
            "prob_cost": prob_cost.value,
            "n_videos": len(costs),
            "gt_segments": gt_segments,
            "solver": solver_config.to_dict(),
            "decoders": {name: {k: row[k] for k in (*keys, "segments", "time_s")} for name, row in table.items()},
        }
        run_library(lambda: write_json(json_path, payload))
