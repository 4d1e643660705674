"""Command-line interface: ``asot <command> --help``.

Thin on top of the library: each command lives in its own module and only parses arguments,
calls library functions and writes files. Commands are registered below.
"""

from __future__ import annotations

from asot.cli._help import App
from asot.cli.errors import AsotGroup

app = App(
    cls=AsotGroup,
    name="asot",
    help="Temporally consistent action segmentation with optimal transport (ASOT).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# --- command registrations (one line per command module) ---
from asot.cli.evaluate import evaluate as _evaluate; app.command("evaluate")(_evaluate)  # noqa: E402,E702
from asot.cli.segment import segment as _segment; app.command("segment")(_segment)  # noqa: E402,E702
from asot.cli.compare import compare as _compare; app.command("compare")(_compare)  # noqa: E402,E702
from asot.cli.train import train as _train; app.command("train")(_train)  # noqa: E402,E702
from asot.cli.predict import predict as _predict; app.command("predict")(_predict)  # noqa: E402,E702
from asot.cli.demo import demo as _demo; app.command("demo")(_demo)  # noqa: E402,E702
from asot.cli.features import features as _features; app.command("features")(_features)  # noqa: E402,E702
from asot.cli.report import report as _report; app.command("report")(_report)  # noqa: E402,E702
from asot.cli.video import video as _video; app.command("video")(_video)  # noqa: E402,E702


def main() -> None:
    """Console-script entry point."""
    import warnings

    # Lightning's own deprecation noise (not actionable by users of this command line)
    warnings.filterwarnings("ignore", message=r".*LeafSpec.*", category=DeprecationWarning)
    warnings.filterwarnings("ignore", message=r".*isinstance\(treespec, LeafSpec\).*")
    app()
