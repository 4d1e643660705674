"""The report as one self-contained HTML file: a template, its CSS and JS, and the data as JSON.

The page needs no server, network or library: the data is embedded as a JSON script element
and a small vanilla-JS renderer (``static/report.js``) draws timelines as SVG for the current
page of videos only, so opening a report of thousands of videos stays fast (see
``docs/report.md`` for sizes and times).
"""

from __future__ import annotations

import json
import os
from importlib import resources
from pathlib import Path
from typing import Any

from asot.report.collect import ReportData

__all__ = ["GENERATOR_TAG", "render_html", "write_html"]

#: in the head of every report (how a report is told from a user's own file before replacing it)
GENERATOR_TAG = '<meta name="generator" content="asot report">'


def _static(name: str) -> str:
    return resources.files("asot.report").joinpath("static", name).read_text(encoding="utf-8")


def _embed_json(value: Any) -> str:
    """JSON safe inside ``<script>``: no ``</`` (script end) and no HTML comment openers."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return text.replace("</", "<\\/").replace("<!--", "\\u003c!--").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def render_html(data: ReportData) -> str:
    """The page for ``data`` (a string; nothing fetched when it is opened)."""
    import html

    page = _static("template.html")
    title = html.escape(data.title)
    # the data last: it may contain any text, the other placeholders must not be searched in it
    return (page.replace("__GENERATOR__", GENERATOR_TAG).replace("__TITLE__", title).replace("__CSS__", _static("report.css")).replace("__JS__", _static("report.js"))
            .replace("__DATA__", _embed_json(data.to_json())))  # fmt: skip


def write_html(data: ReportData, path: str | os.PathLike[str]) -> Path:
    """Write the page atomically (a reader never sees half a file). Returns the path."""
    from asot.io.labels import atomic_write_text

    return atomic_write_text(path, render_html(data))
