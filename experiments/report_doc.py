"""The report as blocks, rendered twice: to Markdown and to a self-contained HTML page.

Blocks are headings, paragraphs, warnings, lists, tables and figures. Every label is escaped
in HTML; table cells keep Markdown's ``|`` escaped.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from model.outcomes import describe_metric


@dataclass
class Block:
    """One block of a report: its kind, its content and (figures) a caption."""

    kind: str  # "h1", "h2", "p", "warn", "table", "fig", "list"
    content: Any
    extra: str = ""


class Doc:
    """A report under construction: ``add`` blocks, then render ``markdown()`` or ``html()``."""

    def __init__(self) -> None:
        self.blocks: list[Block] = []

    def add(self, kind: str, content: Any, extra: str = "") -> None:
        """Append a block (``h1``-``h3``, ``p``, ``warn``, ``list``, ``table``, ``fig``)."""
        self.blocks.append(Block(kind, content, extra))

    def markdown(self) -> str:
        """The report as Markdown."""
        out: list[str] = []
        for b in self.blocks:
            if b.kind == "h1":
                out.append(f"# {b.content}\n")
            elif b.kind == "h2":
                out.append(f"## {b.content}\n")
            elif b.kind == "h3":
                out.append(f"### {b.content}\n")
            elif b.kind == "p":
                out.append(f"{b.content}\n")
            elif b.kind == "warn":
                out.append(f"> **Warning:** {b.content}\n")
            elif b.kind == "list":
                out.append("\n".join(f"- {x}" for x in b.content) + "\n")
            elif b.kind == "table":
                out.append(_md_table(b.content) + "\n")
            elif b.kind == "fig":
                out.append(f"![{b.extra}]({b.content})\n")
        return "\n".join(out)

    def html(self, title: str) -> str:
        """The report as one self-contained HTML page titled ``title``."""
        out = [
            "<!DOCTYPE html>", "<html lang='en'><head><meta charset='utf-8'>",
            f"<title>{html.escape(title)}</title>",
            "<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;"
            "line-height:1.45;color:#222}table{border-collapse:collapse;margin:1em 0;"
            "font-size:0.9em}td,th{border:1px solid #ccc;padding:3px 7px;text-align:right}"
            "th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}"
            ".warn{background:#fff4e5;border-left:4px solid #f0a030;padding:0.5em 1em}"
            "img{max-width:100%}</style></head><body>",
        ]
        for b in self.blocks:
            if b.kind in ("h1", "h2", "h3"):
                out.append(f"<{b.kind}>{html.escape(str(b.content))}</{b.kind}>")
            elif b.kind == "p":
                out.append(f"<p>{_inline_html(str(b.content))}</p>")
            elif b.kind == "warn":
                out.append(f"<p class='warn'><b>Warning:</b> {_inline_html(str(b.content))}"
                           "</p>")
            elif b.kind == "list":
                items = "".join(f"<li>{_inline_html(str(x))}</li>" for x in b.content)
                out.append(f"<ul>{items}</ul>")
            elif b.kind == "table":
                out.append(_html_table(b.content))
            elif b.kind == "fig":
                out.append(f"<figure><img src='{html.escape(b.content)}' "
                           f"alt='{html.escape(b.extra)}'><figcaption>"
                           f"{html.escape(b.extra)}</figcaption></figure>")
        out.append("</body></html>")
        return "\n".join(out)


def _inline_html(text: str) -> str:
    text = html.escape(text)
    parts = text.split("`")
    for i in range(1, len(parts), 2):
        parts[i] = f"<code>{parts[i]}</code>"
    text = "".join(parts)
    parts = text.split("**")
    for i in range(1, len(parts), 2):
        parts[i] = f"<b>{parts[i]}</b>"
    return "".join(parts)


def _md_table(df: pd.DataFrame) -> str:
    if df.empty:
        return "_(no rows)_\n"
    cols = [str(c) for c in df.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for row in df.itertuples(index=False):
        lines.append("| " + " | ".join(_cell(v) for v in row) + " |")
    return "\n".join(lines)


def _html_table(df: pd.DataFrame) -> str:
    if df.empty:
        return "<p><i>(no rows)</i></p>"
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{_inline_html(_cell(v, md=False))}</td>" for v in row)
        + "</tr>"
        for row in df.itertuples(index=False))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _cell(v: Any, md: bool = True) -> str:
    if isinstance(v, bool | np.bool_):
        return "yes" if v else "no"
    if isinstance(v, float | np.floating):
        if math.isnan(v):
            return "–"
        if math.isinf(v):
            return "∞" if v > 0 else "-∞"
        a = abs(v)
        if a != 0 and (a < 1e-3 or a >= 1e12):
            return f"{v:.3g}"
        return f"{v:.3f}" if a < 100 else f"{v:,.0f}"
    return str(v).replace("|", "\\|") if md else str(v)


def fmt_p(p: float) -> str:
    """A p-value for people: ``<0.001``, ``0.042`` or ``-``."""
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "–"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def unit(metric: str) -> str:
    """The unit a metric's differences are shown in (``pp``, ``min``, ``yuan`` or ``""``)."""
    return {"share": "pp", "minutes": "min", "yuan": "yuan"}.get(describe_metric(metric)[1], "")
