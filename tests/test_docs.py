"""The documentation cannot rot: every ``examples/`` script runs on the tiny synthetic data, every
code block of the README and ``docs/*.md`` marked runnable runs, and the generated presets table
in ``docs/presets.md`` matches :mod:`asot.presets`.

A block is runnable when its fence's info string is ``python runnable`` or when the line before
its fence is ``<!-- runnable -->``. Each runs in a fresh interpreter (``sys.executable``) in a
temporary working directory. The whole file takes well under a minute on 2 cores.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((REPO / "examples").glob("*.py"))
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
TIMEOUT = 120

#: extra arguments of each example (default: ``--out DIR --tiny``)
EXAMPLE_ARGS = {
    "presets_table.py": lambda out: ["--out", str(out), "--check", str(REPO / "docs" / "presets.md")],
}

_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})(?P<info>[^\n`]*)$")


def runnable_blocks(path: Path) -> list[tuple[int, str]]:
    """``(line number, code)`` of the runnable Python blocks of a Markdown file."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks: list[tuple[int, str]] = []
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        fence, info = m.group("fence"), m.group("info").strip().split()
        start = i
        body: list[str] = []
        i += 1
        while i < len(lines) and not lines[i].strip().startswith(fence):
            body.append(lines[i])
            i += 1
        i += 1
        marked = start > 0 and lines[start - 1].strip() == "<!-- runnable -->"
        if info[:1] == ["python"] and ("runnable" in info[1:] or marked):
            blocks.append((start + 1, "\n".join(body) + "\n"))
    return blocks


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("MPLBACKEND", "Agg")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO / "src"), env.get("PYTHONPATH", "")) if p)
    return env


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([sys.executable, *args], cwd=cwd, env=_env(), capture_output=True, text=True, timeout=TIMEOUT)
    assert proc.returncode == 0, f"{' '.join(args)} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


def test_examples_and_blocks_exist() -> None:
    names = {p.name for p in EXAMPLES}
    assert {"plot_coupling.py", "solve_cost_matrix.py", "postprocess_model_outputs.py", "train_synthetic.py"} <= names
    readme = runnable_blocks(REPO / "README.md")
    assert len(readme) >= 3, "the README's Python API snippets must be marked runnable"


def test_block_parser(tmp_path: Path) -> None:
    doc = tmp_path / "x.md"
    doc.write_text("```python runnable\na = 1\n```\n\n```python\nskipped\n```\n<!-- runnable -->\n```python\nb = 2\n```\n")
    assert [code for _, code in runnable_blocks(doc)] == ["a = 1\n", "b = 2\n"]


@pytest.mark.parametrize("script", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs(script: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = EXAMPLE_ARGS.get(script.name, lambda o: ["--out", str(o), "--tiny"])(out)
    _run([str(script), *args], cwd=tmp_path)
    assert out.is_dir() and any(out.iterdir()), f"{script.name} wrote nothing to --out"


_BLOCKS = [(doc, line, code) for doc in DOCS for line, code in runnable_blocks(doc)]


@pytest.mark.parametrize("doc,line,code", _BLOCKS, ids=[f"{d.relative_to(REPO)}:{n}" for d, n, _ in _BLOCKS])
def test_runnable_block(doc: Path, line: int, code: str, tmp_path: Path) -> None:
    script = tmp_path / "block.py"
    script.write_text(code)
    _run([str(script)], cwd=tmp_path)


def test_figures_are_small() -> None:
    figures = sorted((REPO / "docs" / "figures").glob("*.png"))
    assert figures, "docs/figures holds the README figure"
    for fig in figures:
        assert fig.stat().st_size < 150_000, f"{fig} is {fig.stat().st_size} bytes; regenerate with a lower --dpi"
    assert "docs/figures/coupling.png" in (REPO / "README.md").read_text()
