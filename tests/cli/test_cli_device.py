"""``--device`` on the commands that train: mapped onto Lightning's accelerator and devices."""

from __future__ import annotations

import pytest
import typer
from typer.testing import CliRunner

from asot.cli import app
from asot.cli._device import parse_devices, trainer_devices

runner = CliRunner()


@pytest.mark.parametrize(
    "device, devices, expected",
    [
        ("cpu", None, ("cpu", 1)),
        ("cuda", None, ("cuda", 1)),
        ("cuda", "2", ("cuda", 2)),
        ("cuda:1", None, ("cuda", [1])),
        ("GPU", "auto", ("gpu", "auto")),
        ("auto", "0,1", ("auto", "0,1")),
        ("mps", None, ("mps", 1)),
    ],
)
def test_trainer_devices(device, devices, expected):
    assert trainer_devices(device, devices) == expected


@pytest.mark.parametrize("device, devices, message", [("cuda:x", None, "cuda:1"), ("cuda:1", "2", "names one device")])
def test_trainer_devices_errors_name_the_flag(device, devices, message):
    with pytest.raises(typer.BadParameter, match=message) as info:
        trainer_devices(device, devices)
    assert info.value.param_hint == "--device"


def test_parse_devices():
    assert parse_devices(" 3 ") == 3 and parse_devices("auto") == "auto" and parse_devices("0,1") == "0,1"


@pytest.mark.parametrize("command", ["train", "demo"])
def test_device_with_an_index_and_devices_is_a_usage_error(command, tmp_path):
    argv = [command, "--out", str(tmp_path / "run"), "--device", "cuda:0", "--devices", "2"]
    if command == "train":
        argv += ["--data", str(tmp_path), "--dataset", "x"]
    result = runner.invoke(app, argv)
    assert result.exit_code == 2 and "names one device" in result.output
    assert not (tmp_path / "run").exists()


def test_predict_bad_device_is_a_one_line_error(tmp_path):
    result = runner.invoke(app, ["predict", "--checkpoint", str(tmp_path / "none.ckpt"), "--data", str(tmp_path),
                                 "--dataset", "x", "--out", str(tmp_path / "p"), "--device", "nonsense"])
    assert result.exit_code == 2, result.output
    assert "device" in result.output and "nonsense" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "p").exists()
