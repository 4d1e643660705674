"""``--help`` of every command: plain metavars, whole words at 80 columns, one name per concept.

The help is rendered as a user sees it (``COLUMNS=80``) and checked for Python type names
(``<bool>``, ``<list[Path]>``), brace-wrapped arguments (``{inputs}...``), words cut by the
layout (``…`` or a help word missing from the output) and developer references; the option
table is checked for the shared vocabulary (the same flag for the same thing on every command,
further names only as hidden aliases).
"""

from __future__ import annotations

import re

import pytest
import typer.main
from typer.testing import CliRunner

from asot.cli import app
from asot.cli._help import metavar_of

runner = CliRunner()
GROUP = typer.main.get_command(app)
COMMANDS = sorted(GROUP.commands)
#: commands that compute (run the solver or a model) and so take --device
COMPUTING = ("segment", "compare", "train", "predict", "demo")
#: hidden aliases: (command, alias, the option's name in help)
ALIASES = [
    ("segment", "--pred-kind", "--kind"),
    ("compare", "--pred-kind", "--kind"),
    ("train", "--accelerator", "--device"),
    ("demo", "--accelerator", "--device"),
    ("evaluate", "--ignore", "--exclude"),
    ("evaluate", "--background", "--exclude"),
    ("compare", "--ignore", "--exclude"),
    ("compare", "--background", "--exclude"),
]


def _help(*argv: str, columns: int = 80) -> str:
    result = runner.invoke(app, [*argv, "--help"], env={"COLUMNS": str(columns), "TERMINAL_WIDTH": str(columns)})
    assert result.exit_code == 0, result.output
    return result.output


def _options(command: str) -> list:
    return [p for p in GROUP.commands[command].params if getattr(p, "opts", None) and p.opts[0].startswith("--")]


@pytest.mark.parametrize("argv", [(), *((c,) for c in COMMANDS)], ids=lambda a: " ".join(a) or "asot")
def test_help_shows_no_python_types_braces_or_cut_words(argv: tuple[str, ...]) -> None:
    text = _help(*argv)
    for bad in ("<bool>", "<list[", "<int>", "<str>", "<float>", "<path>", "{inputs", "…", "../shared", "shared/"):
        assert bad not in text, f"{bad!r} in the help of {' '.join(argv) or 'asot'}"
    assert not re.search(r"\bissues?\s+\d", text, re.IGNORECASE)
    if argv:
        words = {w for p in GROUP.commands[argv[0]].params for w in (getattr(p, "help", None) or "").split()}
        flat = " ".join(text.split())
        cut = sorted(w for w in words if w not in text and "[" not in w and "]" not in w)
        assert not cut, f"words cut by the layout in {argv[0]} --help: {cut}"
        assert "Usage: asot" in flat


@pytest.mark.parametrize("command", COMMANDS)
def test_choice_metavars_list_their_choices_in_the_help(command: str) -> None:
    for param in _options(command):
        desc = getattr(param, "type_descriptor", None)
        if desc is None or not getattr(desc, "is_choice", False) or "|" in (param.metavar or ""):
            continue
        values = [str(getattr(c, "value", c)) for c in desc.choices]
        missing = [v for v in values if v not in (param.help or "")]
        assert not missing, f"{command} {param.opts[0]}: choices {missing} shown nowhere"


def test_metavars_are_classic_names() -> None:
    seen = {metavar_of(p) for c in COMMANDS for p in _options(c)} - {None}
    assert "" in seen and {"INT", "FLOAT", "PATH", "TEXT"} <= seen
    assert all(not m or re.fullmatch(r"[A-Z][A-Z-]*|[a-z0-9-]+(\|[a-z0-9-]+)+", m) for m in seen), seen


@pytest.mark.parametrize("command, alias, name", ALIASES)
def test_aliases_parse_but_are_not_listed(command: str, alias: str, name: str) -> None:
    [option] = [p for p in _options(command) if alias in p.opts]
    assert option.opts[0] == name
    text = _help(command, columns=200)
    assert name in text and alias not in text


def test_one_flag_per_concept_across_commands() -> None:
    primary: dict[str, set[str]] = {}
    for command in COMMANDS:
        for param in _options(command):
            primary.setdefault(param.name, set()).add(param.opts[0])
    assert {name: flags for name, flags in primary.items() if len(flags) > 1} == {}
    for command in COMPUTING:
        assert "--device" in {p.opts[0] for p in _options(command)}, f"{command} has no --device"


def test_hidden_pred_kind_alias_still_works_on_segment(tmp_path) -> None:
    import numpy as np

    np.save(tmp_path / "v.npy", np.eye(4)[np.repeat(np.arange(4), 5)])
    for flag in ("--kind", "--pred-kind"):
        out = tmp_path / flag.strip("-")
        result = runner.invoke(app, ["segment", str(tmp_path / "v.npy"), flag, "prob", "--out", str(out), "--decoder", "argmax",
                                     "--no-progress"])
        assert result.exit_code == 0, result.output
        assert (out / "v").read_text().split() == [str(i) for i in np.repeat(np.arange(4), 5)]
