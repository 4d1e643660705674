"""``asot segment`` and its library form ``asot.postprocess.segment_videos``."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from conftest import require_shared
from typer.testing import CliRunner

import asot
from asot.cli import app
from asot.decoders import DEFAULT_DECODE_CONFIG
from asot.io.labels import read_labels
from asot.postprocess import segment_videos
from asot.scores import to_cost

runner = CliRunner()


def _invoke(*args: object):
    return runner.invoke(app, ["segment", *map(str, args), "--no-progress"])


def _probs(seed: int = 0, lengths=(25, 15, 30), k: int = 4) -> np.ndarray:
    """Per-frame probabilities of a jittery model over a few blocks."""
    rng = np.random.default_rng(seed)
    gt = np.repeat(np.arange(len(lengths)) % k, lengths)
    logits = rng.normal(scale=1.0, size=(gt.size, k))
    logits[np.arange(gt.size), gt] += 1.5
    p = np.exp(logits)
    return p / p.sum(axis=1, keepdims=True)


def _expected(scores: np.ndarray, kind: str, **kwargs) -> np.ndarray:
    return asot.solve(to_cost(scores, kind, **kwargs), config=DEFAULT_DECODE_CONFIG).labels.numpy()


def _files(folder) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


# -- inputs ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["prob", "logit", "affinity", "cost"])
def test_each_input_kind(tmp_path, kind):
    p = _probs()
    scores = {"prob": p, "logit": np.log(p) + 3.0, "affinity": 2 * p - 1, "cost": 1 - p}[kind]
    np.save(tmp_path / "video1.npy", scores)
    result = _invoke(tmp_path / "video1.npy", "--kind", kind, "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    labels = read_labels(tmp_path / "out" / "video1")
    np.testing.assert_array_equal(labels, _expected(scores, kind))
    lines = (tmp_path / "out" / "video1").read_text().splitlines()
    assert len(lines) == p.shape[0] and all(line.isdigit() for line in lines)  # groundTruth format, integer ids


def test_pred_kind_is_an_alias_of_kind(tmp_path):  # `asot compare` spells it --pred-kind
    np.save(tmp_path / "v.npy", _probs())
    result = _invoke(tmp_path / "v.npy", "--pred-kind", "prob", "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    np.testing.assert_array_equal(read_labels(tmp_path / "out" / "v"), _expected(_probs(), "prob"))


def test_prob_cost_flag(tmp_path):
    p = _probs(seed=1)
    np.save(tmp_path / "v.npy", p)
    result = _invoke(tmp_path / "v.npy", "--kind", "prob", "--prob-cost", "neg-log", "--eps", "0.1", "--out", tmp_path / "o")
    assert result.exit_code == 0, result.output
    expected = asot.solve(to_cost(p, "prob", prob_cost="neg-log"), config=DEFAULT_DECODE_CONFIG.replace(eps=0.1)).labels.numpy()
    np.testing.assert_array_equal(read_labels(tmp_path / "o" / "v"), expected)


def test_transpose_flag_reads_classes_by_frames(tmp_path):
    p = _probs(seed=2)
    np.save(tmp_path / "mstcn.npy", np.log(p).T)  # MS-TCN writes (classes, frames) scores
    result = _invoke(tmp_path / "mstcn.npy", "--kind", "logit", "--transpose", "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    np.testing.assert_array_equal(read_labels(tmp_path / "out" / "mstcn"), _expected(np.log(p), "logit"))
    # without the flag the (K, N) array would read as K frames of N classes: refused with the fix
    result = _invoke(tmp_path / "mstcn.npy", "--kind", "logit", "--out", tmp_path / "raw")
    assert result.exit_code == 1 and "looks transposed" in result.output and "pass --transpose" in result.output
    assert not (tmp_path / "raw" / "mstcn").exists()


def test_npz_bundle_and_folder_inputs(tmp_path):
    videos = {f"vid{i}": _probs(seed=i, lengths=(10 + i, 20, 15)) for i in range(3)}
    np.savez(tmp_path / "bundle.npz", **{k: v for k, v in videos.items() if k != "vid2"})
    folder = tmp_path / "more"
    folder.mkdir()
    np.save(folder / "vid2.npy", videos["vid2"])
    (folder / "README.txt").write_text("not a video")
    result = _invoke(tmp_path / "bundle.npz", folder, "--kind", "prob", "--out", tmp_path / "out", "--batch-size", "2")
    assert result.exit_code == 0, result.output
    assert _files(tmp_path / "out") == ["segments.csv", "segments.json", "vid0", "vid1", "vid2"]
    for name, p in videos.items():
        np.testing.assert_array_equal(read_labels(tmp_path / "out" / name), _expected(p, "prob"))
    assert "wrote 3 video(s)" in result.output


def test_mapping_writes_class_names_and_coupling(tmp_path):
    p = _probs(seed=3)
    np.save(tmp_path / "v.npy", p)
    (tmp_path / "mapping.txt").write_text("0 cut\n1 peel\n2 mix\n3 serve\n")
    result = _invoke(tmp_path / "v.npy", "--kind", "prob", "--out", tmp_path / "out", "--mapping", tmp_path / "mapping.txt", "--save-coupling")
    assert result.exit_code == 0, result.output
    names = (tmp_path / "out" / "v").read_text().splitlines()
    expected = _expected(p, "prob")
    assert names == [["cut", "peel", "mix", "serve"][i] for i in expected]
    coupling = np.load(tmp_path / "out" / "couplings" / "v.npy")
    np.testing.assert_allclose(coupling, asot.solve(1 - p, config=DEFAULT_DECODE_CONFIG).coupling.numpy())


def test_baseline_decoders_and_plots(tmp_path):
    p = _probs(seed=4)
    np.save(tmp_path / "v.npy", p)
    for decoder in ("argmax", "median", "viterbi", "sinkhorn", "asot"):
        out = tmp_path / decoder
        result = _invoke(tmp_path / "v.npy", "--kind", "prob", "--out", out, "--decoder", decoder, "--plot")
        assert result.exit_code == 0, result.output
        assert read_labels(out / "v").shape == (p.shape[0],)
        assert (out / "figures" / "v.png").read_bytes()[:4] == b"\x89PNG"
    np.testing.assert_array_equal(read_labels(tmp_path / "argmax" / "v"), p.argmax(axis=1))


# -- resumable, atomic output ---------------------------------------------------------------


def test_skip_existing_resumes(tmp_path):
    for i in range(2):
        np.save(tmp_path / f"v{i}.npy", _probs(seed=i))
    out = tmp_path / "out"
    assert _invoke(tmp_path / "v0.npy", "--kind", "prob", "--out", out).exit_code == 0
    sentinel = "sentinel\n" * 70  # a finished video from an earlier run (one line per frame)
    (out / "v0").write_text(sentinel)
    result = _invoke(tmp_path / "v0.npy", tmp_path / "v1.npy", "--kind", "prob", "--out", out, "--skip-existing")
    assert result.exit_code == 0, result.output
    assert "1 skipped" in result.output
    assert (out / "v0").read_text() == sentinel
    assert read_labels(out / "v1").size == 70
    # an output requested now but missing before (the coupling) makes the video run again
    result = _invoke(tmp_path / "v0.npy", "--kind", "prob", "--out", out, "--skip-existing", "--save-coupling")
    assert result.exit_code == 0
    assert (out / "v0").read_text() != sentinel and (out / "couplings" / "v0.npy").exists()
    # without the flag everything is recomputed (replacing files needs --overwrite)
    (out / "v1").write_text("sentinel\n")
    assert _invoke(tmp_path / "v1.npy", "--kind", "prob", "--out", out).exit_code == 2
    assert _invoke(tmp_path / "v1.npy", "--kind", "prob", "--out", out, "--overwrite").exit_code == 0
    assert (out / "v1").read_text() != "sentinel\n"


def test_failed_write_leaves_no_partial_file(tmp_path, monkeypatch):
    np.save(tmp_path / "v.npy", _probs())
    out = tmp_path / "out"
    out.mkdir()
    real_replace = os.replace

    def failing_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", failing_replace)
    result = _invoke(tmp_path / "v.npy", "--kind", "prob", "--out", out, "--save-coupling", "--plot")
    assert result.exit_code != 0
    assert "disk full" in result.output and "Traceback" not in result.output  # one-line error
    assert _files(out) == []  # neither a partial file nor a temporary one
    monkeypatch.setattr(os, "replace", real_replace)
    assert _invoke(tmp_path / "v.npy", "--kind", "prob", "--out", out, "--save-coupling", "--plot").exit_code == 0
    assert _files(out) == ["couplings/v.npy", "figures/v.png", "segments.csv", "segments.json", "v"]


def test_interrupted_run_resumes_where_it_stopped(tmp_path, monkeypatch):
    videos = {f"v{i}": _probs(seed=i) for i in range(3)}
    import asot.io.labels as labels_io

    real = labels_io.atomic_write_with  # how label files are written
    calls = []

    def crash_on_second(path, write):
        calls.append(path)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(path, write)

    monkeypatch.setattr(labels_io, "atomic_write_with", crash_on_second)
    with pytest.raises(KeyboardInterrupt):
        segment_videos(videos, "prob", out=tmp_path, batch_size=1)
    assert _files(tmp_path) == ["v0"]
    monkeypatch.setattr(labels_io, "atomic_write_with", real)
    report = segment_videos(videos, "prob", out=tmp_path, skip_existing=True)
    assert report.skipped == ["v0"] and report.written == ["v1", "v2"]
    for name, p in videos.items():
        np.testing.assert_array_equal(read_labels(tmp_path / name), _expected(p, "prob"))


# -- errors ---------------------------------------------------------------------------------


def _error(result) -> str:
    assert result.exit_code != 0
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.output


def test_wrong_shape_is_a_clear_error(tmp_path):
    np.save(tmp_path / "bad.npy", np.zeros((2, 5, 3)))
    output = _error(_invoke(tmp_path / "bad.npy", "--kind", "prob", "--out", tmp_path / "out"))
    assert "bad.npy" in output and "expected a 2-D array (frames, classes)" in output and "(2, 5, 3)" in output
    assert not (tmp_path / "out").exists() or _files(tmp_path / "out") == []


def test_nan_is_a_clear_error_naming_the_npz_member(tmp_path):
    p = _probs()
    bad = p.copy()
    bad[5, 2] = np.nan
    np.savez(tmp_path / "b.npz", good=p, broken=bad)
    output = _error(_invoke(tmp_path / "b.npz", "--kind", "prob", "--out", tmp_path / "out"))
    assert "b.npz[broken]" in output and "NaN" in output and "frame 5" in output


def test_negative_probabilities_are_a_clear_error(tmp_path):
    np.save(tmp_path / "v.npy", np.log(_probs()))
    output = _error(_invoke(tmp_path / "v.npy", "--kind", "prob", "--out", tmp_path / "out"))
    assert "v.npy" in output and "non-negative" in output and "--kind logit" in output


def test_mismatched_mapping_is_a_clear_error(tmp_path):
    np.save(tmp_path / "v.npy", _probs(k=4))
    (tmp_path / "mapping.txt").write_text("0 cut\n1 peel\n2 mix\n")  # 3 names, K = 4
    output = _error(_invoke(tmp_path / "v.npy", "--kind", "prob", "--out", tmp_path / "out", "--mapping", tmp_path / "mapping.txt"))
    assert "mapping.txt" in output and "K = 4" in output and "id(s) 3" in output
    assert _files(tmp_path / "out") == []  # checked before anything is written


@pytest.mark.parametrize(
    "args, message",
    [
        (["--eps", "-1"], "--eps"),
        (["--balanced", "--unbalanced-frames"], "contradict"),
        (["--decoder", "argmax", "--save-coupling"], "no soft coupling"),
        (["--decoder", "median", "--alpha", "0.3"], "apply to --decoder asot"),
        (["--decoder", "median", "--median-window", "4"], "Invalid value for --median-window"),
        (["--decoder", "sinkhorn", "--sinkhorn-eps", "0"], "Invalid value for --sinkhorn-eps"),
        (["--decoder", "viterbi", "--viterbi-order", "1,1"], "Invalid value for --viterbi-order"),
        (["--decoder", "viterbi", "--viterbi-order", "1,x"], "--viterbi-order"),
        (["--kind", "probability"], "--kind"),
    ],
)
def test_bad_flags(tmp_path, args, message):
    np.save(tmp_path / "v.npy", _probs())
    base = ["--kind", "prob"] if "--kind" not in args else []
    result = runner.invoke(app, ["segment", str(tmp_path / "v.npy"), "--out", str(tmp_path / "out"), *base, *args])
    assert result.exit_code != 0
    assert message in result.output


def test_missing_and_unsupported_inputs(tmp_path):
    output = _error(_invoke(tmp_path / "nope.npy", "--kind", "prob", "--out", tmp_path / "out"))
    assert "nope.npy" in output and "no such file" in output
    (tmp_path / "v.csv").write_text("1,2")
    output = _error(_invoke(tmp_path / "v.csv", "--kind", "prob", "--out", tmp_path / "out"))
    assert "unsupported input file" in output


def test_solver_flags_reach_the_solver(tmp_path):
    p = _probs(seed=5)
    np.save(tmp_path / "v.npy", p)
    args = ["--eps", "0.05", "--alpha", "0.3", "--radius", "0.1", "--lambda-actions", "0.2", "--n-iters", "7", "--balanced", "--sinkhorn-iters", "3"]
    assert _invoke(tmp_path / "v.npy", "--kind", "prob", "--out", tmp_path / "o", *args).exit_code == 0
    config = DEFAULT_DECODE_CONFIG.replace(
        eps=0.05, alpha=0.3, radius=0.1, lambda_actions=0.2, n_iters=7, sinkhorn_iters=3, unbalanced_actions=False
    )
    np.testing.assert_array_equal(read_labels(tmp_path / "o" / "v"), asot.solve(1 - p, config=config).labels.numpy())
    help_text = runner.invoke(app, ["segment", "--help"]).output
    for flag in ("--eps", "--alpha", "--radius", "--lambda-actions", "--lambda-frames", "--balanced",
                 "--unbalanced-frames", "--n-iters", "--sinkhorn-iters", "--step-size"):
        assert flag in help_text


def test_library_call_in_memory():
    videos = {"a": _probs(seed=6), "b": _probs(seed=7, lengths=(5, 40))}
    report = segment_videos(videos, "prob", eps=0.05)
    assert list(report) == ["a", "b"]
    for name, p in videos.items():
        expected = asot.solve(1 - p, config=DEFAULT_DECODE_CONFIG.replace(eps=0.05))
        np.testing.assert_array_equal(report[name].labels, expected.labels.numpy())
        np.testing.assert_allclose(report[name].coupling, expected.coupling.numpy(), atol=1e-6)
    with pytest.raises(ValueError, match="need an output folder"):
        segment_videos(videos, "prob", skip_existing=True)


# -- the published example, from the command line -------------------------------------------

REAL_CASES = {
    "2020-04-19_14-03-25": "real_desktop_assembly_2020-04-19_14-03-25",
    "P36_webcam01_P36_salat": "real_breakfast_P36_webcam01_P36_salat",
}


def _flags_from_reference(params: dict) -> list[str]:
    """The command-line flags equivalent to a reference case's settings."""
    outer, inner = params["n_iters"]
    flags = [
        "--eps", params["eps"], "--alpha", params["alpha"], "--radius", params["radius"],
        "--lambda-actions", params["lambda_actions"], "--lambda-frames", params["lambda_frames"],
        "--n-iters", outer, "--sinkhorn-iters", inner,
    ]
    if not params["ub_actions"] and not params["ub_frames"]:
        flags.append("--balanced")
    elif params["ub_frames"]:
        assert params["ub_actions"], "frames-only unbalanced has no flag combination here"
        flags.append("--unbalanced-frames")
    if params.get("step_size") is not None:
        flags += ["--step-size", params["step_size"]]
    return [str(f) for f in flags]


@pytest.mark.parametrize("video", list(REAL_CASES))
def test_published_example_settings_reproduce_reference_labels_from_the_cli(tmp_path, video):
    affinity = require_shared("data", "asot_examples", "affinity", f"{video}.npy")
    reference = np.load(require_shared("reference", f"{REAL_CASES[video]}.npz"))
    params = json.loads(str(reference["params"]))
    result = _invoke(affinity, "--kind", "affinity", "--out", tmp_path, "--save-coupling", *_flags_from_reference(params))
    assert result.exit_code == 0, result.output
    labels = read_labels(tmp_path / video)
    np.testing.assert_array_equal(labels, reference["labels"])
    np.testing.assert_allclose(np.load(tmp_path / "couplings" / f"{video}.npy"), reference["coupling"], atol=1e-4)


def test_solver_options_helper_with_prefixes_and_a_callable_base():
    """The reusable flag helper (asot.cli._solver_options) as train/predict commands use it."""
    import typer

    from asot.cli._solver_options import solver_options

    seen = {}
    toy = typer.Typer()

    @toy.command()
    @solver_options(base=lambda **kw: asot.SolverConfig(eps=0.5 if kw["big"] else 0.1), prefix="train-", dest="train_config")
    @solver_options(base=DEFAULT_DECODE_CONFIG, prefix="eval-", dest="eval_config")
    def run(big: bool = typer.Option(False, "--big"), train_config: asot.SolverConfig = None, eval_config: asot.SolverConfig = None):
        seen.update(train=train_config, eval=eval_config)

    result = CliRunner().invoke(toy, ["--big", "--train-alpha", "0.2", "--eval-eps", "0.02", "--eval-unbalanced-frames"])
    assert result.exit_code == 0, result.output
    assert seen["train"] == asot.SolverConfig(eps=0.5, alpha=0.2)
    assert seen["eval"] == DEFAULT_DECODE_CONFIG.replace(eps=0.02, unbalanced_frames=True)
    result = CliRunner().invoke(toy, ["--train-n-iters", "-3"])
    assert result.exit_code != 0 and "--train-n-iters" in result.output


def test_library_form_rejects_unnamed_arrays_clearly():
    p = _probs()
    with pytest.raises(ValueError, match=r"inputs: expected paths or a \{name: array\} mapping, got an array"):
        segment_videos(p, kind="prob")
    with pytest.raises(ValueError, match="got a ndarray in the sequence"):
        segment_videos([p, p], kind="prob")


def test_input_errors_are_one_line_and_leave_no_output_folder(tmp_path):
    np.save(tmp_path / "flags.npy", np.random.default_rng(0).random((50, 5)) > 0.5)  # bool: not scores
    (tmp_path / "empty.npy").write_bytes(b"")
    bad = np.random.default_rng(0).random((50, 5))
    bad[3, 1] = np.nan
    np.save(tmp_path / "nan.npy", bad)
    for name in ("flags.npy", "empty.npy", "nan.npy"):
        out = tmp_path / f"out_{name}"
        result = _invoke(tmp_path / name, "--kind", "affinity", "--out", out)
        assert result.exit_code != 0 and "Traceback" not in result.output and "Aborted" not in result.output, result.output
        assert name.split(".")[0] in result.output or "empty" in result.output
        assert not out.exists()  # no empty folder left behind
