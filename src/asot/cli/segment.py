"""``asot segment``: ASOT (or a baseline decoder) as post-processing of any model's outputs.

Thin wrapper over :func:`asot.postprocess.segment_videos`; see its docstring for the details.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Any, Optional

import typer

from asot.cli._device import DEVICE_HELP
from asot.cli._solver_options import solver_options
from asot.cli.errors import fail, run_library, usage_error
from asot.ot.config import SolverConfig
from asot.presets import DEFAULT_DECODE_CONFIG
from asot.scores import DEFAULT_PROB_COST

__all__ = ["segment", "Kind", "ProbCost", "DecoderName", "DECODER_NAMES", "fail", "decoder_options", "run_library"]

#: the registered decoders (``asot.decoders.DECODERS``, which imports torch), in table order;
#: named here so that ``--help`` is fast (a test checks that the two agree)
DECODER_NAMES: tuple[str, ...] = ("asot", "argmax", "sinkhorn", "viterbi", "median")


class Kind(str, Enum):
    prob = "prob"
    logit = "logit"
    affinity = "affinity"
    cost = "cost"


class ProbCost(str, Enum):
    one_minus = "one-minus"
    neg_log = "neg-log"


DecoderName = Enum("DecoderName", {name: name for name in DECODER_NAMES}, type=str)  # type: ignore[misc]

KIND_HELP = "what the arrays hold: prob (cost 1-p or -log p), logit (softmax first), affinity (cost 1-a), cost (as is)"
PROB_COST_HELP = "cost of a probability p: one-minus = 1 - p (bounded, ASOT's scale), neg-log = -log p"
TRANSPOSE_HELP = "arrays are classes x frames (the MS-TCN convention) instead of frames x classes"
INPUTS_HELP = "model outputs: .npy files (one video each, frames x classes), .npz bundles (one video per key), or folders of them"


#: the command-line flag of each baseline-decoder option (errors name the flag)
DECODER_FLAGS = {"window": "--median-window", "order": "--viterbi-order", "allow_skip": "--viterbi-no-skip",
                 "eps": "--sinkhorn-eps"}


def decoder_options(name: str, median_window: int, viterbi_order: str, viterbi_no_skip: bool, sinkhorn_eps: float) -> dict[str, Any]:
    """The options of baseline decoder ``name`` from the command-line flags, checked by building
    the decoder once (a bad value is reported against its flag)."""
    from asot.decoders import get_decoder

    options = _decoder_options(name, median_window, viterbi_order, viterbi_no_skip, sinkhorn_eps)
    try:
        get_decoder(name, **options)
    except (ValueError, TypeError) as err:
        field, _, rest = str(err).partition(": ")
        if field in DECODER_FLAGS:
            raise typer.BadParameter(rest, param_hint=DECODER_FLAGS[field]) from None
        raise typer.BadParameter(str(err), param_hint=f"--decoder {name}") from None
    return options


def _decoder_options(name: str, median_window: int, viterbi_order: str, viterbi_no_skip: bool, sinkhorn_eps: float) -> dict[str, Any]:
    if name == "median":
        return {"window": median_window}
    if name == "viterbi":
        order: Any = viterbi_order
        if viterbi_order not in ("video", "global"):
            try:
                order = [int(x) for x in viterbi_order.split(",") if x.strip()]
            except ValueError:
                raise typer.BadParameter(
                    f"expected 'video', 'global' or comma-separated class ids, got {viterbi_order!r}", param_hint="--viterbi-order"
                ) from None
        return {"order": order, "allow_skip": not viterbi_no_skip}
    if name == "sinkhorn":
        return {"eps": sinkhorn_eps}
    return {}


@solver_options(base=DEFAULT_DECODE_CONFIG)
def segment(
    inputs: list[Path] = typer.Argument(..., help=INPUTS_HELP, show_default=False),
    kind: Kind = typer.Option(..., "--kind", "--pred-kind", help=KIND_HELP, case_sensitive=False),
    out: Path = typer.Option(..., "--out", help="output folder: OUT/<video> label files (groundTruth format)"),
    prob_cost: ProbCost = typer.Option(ProbCost(DEFAULT_PROB_COST), "--prob-cost", help=PROB_COST_HELP),
    transpose: bool = typer.Option(False, "--transpose", help=TRANSPOSE_HELP),
    decoder: DecoderName = typer.Option("asot", "--decoder", help=f"asot, or a baseline to compare with: {', '.join(DECODER_NAMES[1:])}"),  # type: ignore[valid-type]
    mapping: Optional[Path] = typer.Option(None, "--mapping", help="'<id> <name>' file: write class names instead of ids"),
    save_coupling: bool = typer.Option(False, "--save-coupling", help="also write the soft coupling as OUT/couplings/<video>.npy"),
    skip_existing: bool = typer.Option(False, "--skip-existing", help="leave videos whose outputs exist and are complete (resume a run)"),
    overwrite: bool = typer.Option(False, "--overwrite", help="replace output files that exist (never the inputs)"),
    plot: bool = typer.Option(False, "--plot", help="also write a figure per video to OUT/figures/<video>.png"),
    gt: Optional[Path] = typer.Option(None, "--gt", help="ground-truth folder: shown in the --plot figures and the --report"),
    report_html: bool = typer.Option(False, "--report", help="also write OUT/report.html (see asot report)"),
    device: Optional[str] = typer.Option(None, "--device", help=DEVICE_HELP),
    batch_size: int = typer.Option(16, "--batch-size", min=1, help="videos decoded together (padded)"),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="progress bar over videos (stderr)"),
    fps: Optional[float] = typer.Option(None, "--fps", help="frames per second for the seconds in OUT/segments.csv (default: no seconds)", show_default=False),
    median_window: int = typer.Option(15, "--median-window", help="median decoder: odd window in frames", rich_help_panel="Baselines"),
    viterbi_order: str = typer.Option(
        "video", "--viterbi-order", help="viterbi decoder: 'video' (estimated per video), 'global' (from all inputs) or ids '3,0,2,...'",
        rich_help_panel="Baselines",
    ),
    viterbi_no_skip: bool = typer.Option(False, "--viterbi-no-skip", help="viterbi decoder: every class of the order must occur", rich_help_panel="Baselines"),
    sinkhorn_eps: float = typer.Option(0.05, "--sinkhorn-eps", help="sinkhorn decoder: entropy weight", rich_help_panel="Baselines"),
    solver_config: SolverConfig = DEFAULT_DECODE_CONFIG,
) -> None:
    """Segment model outputs with ASOT (paper section 7.4) and write groundTruth-format labels.

    Example: asot segment outputs/ --kind logit --transpose --out pred/ --mapping mapping.txt --eps 0.02
    """
    from asot.postprocess import segment_videos

    name = decoder.value
    if name != "asot" and solver_config != DEFAULT_DECODE_CONFIG:
        usage_error(f"solver flags (--eps, --alpha, ...) apply to --decoder asot, not {name}")
    options = decoder_options(name, median_window, viterbi_order, viterbi_no_skip, sinkhorn_eps)
    report = run_library(
        lambda: segment_videos(
            [str(p) for p in inputs],
            kind.value,
            out=out,
            fps=fps,
            prob_cost=prob_cost.value,
            transpose=transpose,
            decoder=name,
            config=solver_config if name == "asot" else None,
            device=device,
            batch_size=batch_size,
            mapping=mapping,
            save_coupling=save_coupling,
            skip_existing=skip_existing,
            overwrite=overwrite,
            plot=plot,
            gt=gt,
            progress=progress,
            decoder_options=options,
        )
    )
    skipped = len(report.skipped)
    note = f" ({skipped} skipped: outputs exist)" if skipped else ""
    typer.echo(f"{name}: wrote {len(report.written)} video(s) to {out}{note}", err=True)
    if report_html:
        from asot.cli.report import report_or_warn

        report_or_warn(out, gt=gt, mapping=mapping)
