"""Start-up: ``import asot`` and ``asot [<command>] --help`` load none of the heavy libraries.

torch, Lightning, matplotlib, scikit-learn, numba and scipy take seconds to import; the command
line imports them inside the commands that compute, and ``asot`` resolves its public names on
first access (PEP 562). The checks are on ``sys.modules`` in a fresh interpreter, not on timings
(``benchmarks/startup.py`` measures those).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import asot

REPO = Path(__file__).resolve().parents[2]
HEAVY = ("torch", "lightning", "pytorch_lightning", "matplotlib", "sklearn", "numba", "scipy")


def _fresh(code: str) -> dict:
    """Run ``code`` in a fresh interpreter; it prints one JSON line last."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO / "src"), env.get("PYTHONPATH", "")) if p)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


_REPORT = f"import json, sys; print(json.dumps({{'heavy': sorted(m for m in {HEAVY!r} if m in sys.modules), 'extra': extra}}))"


def test_import_asot_loads_no_heavy_library() -> None:
    result = _fresh(f"import asot\nextra = None\n{_REPORT}")
    assert result["heavy"] == []


def test_every_command_help_loads_no_heavy_library() -> None:
    code = f"""
from typer.testing import CliRunner
from asot.cli import app
import typer.main

runner = CliRunner()
commands = sorted(typer.main.get_command(app).commands)
extra = {{}}
for argv in ([], *([name] for name in commands)):
    result = runner.invoke(app, [*argv, "--help"])
    extra[" ".join(argv) or "(top)"] = [result.exit_code, "Usage" in result.output]
extra["commands"] = commands
{_REPORT}
"""
    result = _fresh(code)
    helps = {k: v for k, v in result["extra"].items() if k != "commands"}
    assert {"segment", "compare", "train", "predict", "demo", "evaluate"} <= set(result["extra"]["commands"])
    assert all(v == [0, True] for v in helps.values()), helps
    assert result["heavy"] == [], f"--help imported {result['heavy']}"


def test_lazy_public_names_all_resolve() -> None:
    names = set(asot.__all__)
    assert set(asot._SOURCES) | {"metrics"} == names
    assert names <= set(dir(asot))
    for name in sorted(names):
        value = getattr(asot, name)
        assert value is getattr(__import__(asot._SOURCES.get(name, "asot"), fromlist=[name]), name)
    from asot import SolverConfig, solve  # noqa: F401  (``from asot import`` goes through __getattr__ too)


def test_submodule_attribute_and_unknown_name() -> None:
    result = _fresh("import asot\nextra = [asot.presets.__name__, hasattr(asot, 'no_such_name')]\n" + _REPORT)
    assert result["extra"] == ["asot.presets", False]
    with pytest.raises(AttributeError, match="no_such_name"):
        asot.no_such_name  # noqa: B018


def test_cli_names_agree_with_the_library() -> None:
    from asot.cli.segment import DECODER_NAMES
    from asot.decoders import DECODERS, DEFAULT_DECODE_CONFIG
    from asot.presets import DEFAULT_DECODE_CONFIG as preset_default, get_preset

    assert DECODER_NAMES == tuple(DECODERS)
    assert DEFAULT_DECODE_CONFIG is preset_default
    # the default preset's evaluation solver is the decoding default with the radius measured per video
    # and a looser action marginal (lambda 0.10 instead of 0.01, docs/defaults.md)
    evaluate = get_preset("default").eval_solver
    assert evaluate.lambda_actions == 0.10
    assert DEFAULT_DECODE_CONFIG == evaluate.replace(radius=DEFAULT_DECODE_CONFIG.radius, lambda_actions=DEFAULT_DECODE_CONFIG.lambda_actions)
