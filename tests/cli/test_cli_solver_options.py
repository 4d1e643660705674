"""Solver flags: --radius accepts a fraction or 'auto'; --radius-frames a width in frames."""

from __future__ import annotations

import pytest
import typer

from asot.cli._solver_options import config_from_flags
from asot.ot.config import SolverConfig


def test_radius_auto_and_frames():
    base = SolverConfig()
    assert config_from_flags(base, radius="auto").radius == "auto"
    assert config_from_flags(base, radius="0.01").radius == 0.01
    assert config_from_flags(base, radius_frames=12).radius_frames == 12


@pytest.mark.parametrize("values, match", [({"radius": "wide"}, "--radius: expected a number in \\(0, 1\\] or 'auto'"),
                                           ({"radius": "2"}, "--radius"), ({"radius_frames": 0}, "--radius-frames")])
def test_bad_radius_flags_name_the_flag(values, match):
    with pytest.raises(typer.BadParameter, match=match):
        config_from_flags(SolverConfig(), **values)
