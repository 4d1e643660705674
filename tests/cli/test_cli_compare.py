"""``asot compare`` and ``asot.postprocess.compare_decoders``: every decoder in one table."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import require_shared
from typer.testing import CliRunner

from asot.cli import app
from asot.decoders import DECODERS, DEFAULT_DECODE_CONFIG, get_decoder
from asot.metrics.functional import edit_score, frame_accuracy
from asot.postprocess import build_decoders, compare_decoders
from asot.scores import to_cost

runner = CliRunner()
NAMES = ["bg", "cut", "peel", "mix", "serve"]


def _jittery_video(rng: np.random.Generator, k: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities of a supervised-style model: right class mostly, short spurious flips."""
    classes = rng.permutation(k)[:4]
    gt = np.repeat(classes, rng.integers(30, 60, size=4))
    logits = 0.4 * rng.standard_normal((gt.size, k))
    logits[np.arange(gt.size), gt] += 2.0
    for _ in range(gt.size // 25):
        at = int(rng.integers(0, gt.size - 4))
        logits[at : at + int(rng.integers(1, 4)), int(rng.integers(0, k))] += 3.5
    p = np.exp(logits)
    return p / p.sum(axis=1, keepdims=True), gt


@pytest.fixture
def dataset(tmp_path):
    rng = np.random.default_rng(0)
    gt_dir = tmp_path / "groundTruth"
    gt_dir.mkdir()
    probs, gts = {}, {}
    for i in range(4):
        p, g = _jittery_video(rng)
        probs[f"v{i}"], gts[f"v{i}"] = p, g
        np.save(tmp_path / f"v{i}.npy", p.T)  # MS-TCN layout: classes x frames
        (gt_dir / f"v{i}").write_text("".join(NAMES[c] + "\n" for c in g))
    (tmp_path / "mapping.txt").write_text("".join(f"{i} {n}\n" for i, n in enumerate(NAMES)))
    return tmp_path, probs, gts


def _table_rows(output: str) -> dict[str, list[float]]:
    rows = {}
    for line in output.splitlines():
        parts = line.split()
        if parts and parts[0] in DECODERS:
            rows[parts[0]] = [float(x) for x in parts[1:]]
    return rows


def test_supervised_table_of_every_decoder(dataset):
    root, probs, gts = dataset
    inputs = [str(root / f"v{i}.npy") for i in range(4)]
    result = runner.invoke(
        app,
        ["compare", *inputs, "--pred-kind", "prob", "--transpose", "--gt", str(root / "groundTruth"),
         "--mapping", str(root / "mapping.txt"), "--supervised", "--json", str(root / "table.json")],
    )
    assert result.exit_code == 0, result.output
    assert "accuracy" in result.output and "f1@50" in result.output and "supervised" in result.output
    rows = _table_rows(result.output)
    assert list(rows) == list(DECODERS)
    payload = json.loads((root / "table.json").read_text())
    assert payload["protocol"] == "supervised" and list(payload["decoders"]) == list(DECODERS)
    table = payload["decoders"]
    assert set(table["asot"]) == {"accuracy", "edit", "f1@10", "f1@25", "f1@50", "segments", "time_s"}
    # the numbers are the metrics of each decoder's labels
    preds = [p.argmax(axis=1) for p in probs.values()]
    assert table["argmax"]["accuracy"] == pytest.approx(frame_accuracy(preds, list(gts.values())))
    assert table["argmax"]["edit"] == pytest.approx(edit_score(preds, list(gts.values())))
    assert rows["argmax"][0] == pytest.approx(table["argmax"]["accuracy"], abs=0.006)
    # temporal decoding removes the jitter
    assert table["asot"]["edit"] > table["argmax"]["edit"] + 20
    assert table["asot"]["segments"] < table["argmax"]["segments"]


def test_unsupervised_table_with_names_and_no_mapping(dataset):
    root, probs, gts = dataset
    result = runner.invoke(
        app,
        ["compare", *[str(root / f"v{i}.npy") for i in range(4)], "--kind", "prob", "--transpose",  # alias, as in segment
         "--gt", str(root / "groundTruth"), "--per-video", "--decoders", "asot,argmax"],
    )
    assert result.exit_code == 0, result.output
    assert "Hungarian matching per video" in result.output
    rows = _table_rows(result.output)
    assert list(rows) == ["asot", "argmax"]
    assert all(0 <= v <= 100 for v in rows["asot"][:3])


def test_library_compare_matches_decoding_by_hand(dataset):
    _, probs, gts = dataset
    costs = {k: to_cost(p, "prob") for k, p in probs.items()}
    table = compare_decoders(costs, gts, ["median", "asot"], supervised=True, return_predictions=True)
    assert list(table) == ["median", "asot"]
    for name in table:
        decoder = get_decoder(name) if name != "asot" else build_decoders(["asot"], config=DEFAULT_DECODE_CONFIG)["asot"]
        for video, cost in costs.items():
            np.testing.assert_array_equal(table[name]["predictions"][video], decoder(cost))
    unsup = compare_decoders(costs, gts, ["argmax"], per_video=True)
    assert set(unsup["argmax"]) == {"mof", "f1", "miou", "segments", "time_s"}
    with pytest.raises(ValueError, match="no ground truth"):
        compare_decoders(costs, {"v0": gts["v0"]}, ["argmax"])


def test_errors(dataset):
    root, probs, gts = dataset
    base = ["compare", str(root / "v0.npy"), "--pred-kind", "prob", "--transpose"]
    result = runner.invoke(app, [*base, "--gt", str(root / "nowhere")])
    assert result.exit_code != 0 and "nowhere" in result.output
    result = runner.invoke(app, [*base, "--gt", str(root / "groundTruth"), "--supervised"])
    assert result.exit_code != 0 and "--mapping" in result.output
    result = runner.invoke(app, [*base, "--gt", str(root / "groundTruth"), "--decoders", "argmax,hmm"])
    assert result.exit_code != 0 and "hmm" in result.output
    (root / "groundTruth" / "v0").write_text("cut\n" * 3)
    result = runner.invoke(app, [*base, "--gt", str(root / "groundTruth"), "--mapping", str(root / "mapping.txt")])
    assert result.exit_code != 0 and "3 ground-truth labels" in result.output
    (root / "groundTruth" / "v0").unlink()
    result = runner.invoke(app, [*base, "--gt", str(root / "groundTruth")])
    assert result.exit_code != 0 and "no ground truth" in result.output and "v0" in result.output


def test_real_examples_per_video_mof_matches_the_reference_readme():
    """Reference README: per-video MoF of ASOT 0.7705 / argmax 0.7664 (Desktop Assembly)."""
    affinity = require_shared("data", "asot_examples", "affinity", "2020-04-19_14-03-25.npy")
    gt = require_shared("data", "asot_examples", "gt")
    result = runner.invoke(
        app,
        ["compare", str(affinity), "--pred-kind", "affinity", "--gt", str(gt), "--mapping", str(gt / "mapping_da.txt"),
         "--per-video", "--decoders", "asot,argmax", "--eps", "0.01", "--alpha", "0.6", "--radius", "0.02",
         "--lambda-actions", "0.09"],
    )
    assert result.exit_code == 0, result.output
    rows = _table_rows(result.output)
    assert rows["asot"][0] == pytest.approx(77.05, abs=0.006)
    assert rows["argmax"][0] == pytest.approx(76.64, abs=0.006)
    assert rows["asot"][3] == 21 and rows["argmax"][3] == 55  # segments, as in the README


def test_supervised_warns_about_ids_the_model_cannot_output_and_exclude_names_need_a_mapping(dataset):
    root, probs, gts = dataset
    base = ["compare", str(root / "v0.npy"), "--pred-kind", "prob", "--transpose", "--decoders", "argmax"]
    (root / "mapping7.txt").write_text("".join(f"{i + 7} {n}\n" for i, n in enumerate(NAMES)))  # ids 7.. vs K = 5
    result = runner.invoke(app, [*base, "--gt", str(root / "groundTruth"), "--mapping", str(root / "mapping7.txt"), "--supervised"])
    assert result.exit_code == 0 and "Warning: ground-truth ids [" in result.output
    result = runner.invoke(app, [*base, "--gt", str(root / "groundTruth"), "--exclude", NAMES[0]])
    assert result.exit_code != 0 and "needs --mapping" in result.output
