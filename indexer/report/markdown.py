"""Dialogue Markdown -> safe HTML for the report.

Dialogue files are untrusted (agents and anyone with commit rights write them), so bodies go
through markdown-it-py with raw HTML off (``<script>`` in a body becomes text), link
destinations limited to ``SAFE_SCHEMES`` and relative links (``javascript:``, ``data:``,
``vbscript:``, ``file:`` links stay text), and images rendered as plain links so a page never
fetches anything at view time.
"""

from __future__ import annotations

import re
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

SAFE_SCHEMES = ("http", "https", "mailto")
# A scheme is letters, digits, + - . before a colon; anything before the first / ? # counts.
_SCHEME = re.compile(r"^([a-z][a-z0-9+.\-]*):", re.I)
# Characters browsers drop from a URL before reading its scheme (``java\tscript:``).
_STRIPPED = re.compile(r"[\x00-\x20\x7f]+")


def safe_link(url: str) -> bool:
    """True for relative links, fragments and ``SAFE_SCHEMES`` (after removing what a
    browser would ignore, so ``jav&#x09;ascript:`` tricks do not pass)."""
    probe = _STRIPPED.sub("", url)
    m = _SCHEME.match(probe)
    return m is None or m.group(1).lower() in SAFE_SCHEMES


def _image_as_link(self: Any, tokens: Any, idx: int, options: Any, env: Any) -> str:
    """``![alt](src)`` -> a link to src showing the alt text (no fetch at view time)."""
    from markdown_it.common.utils import escapeHtml

    tok = tokens[idx]
    src = tok.attrGet("src") or ""
    alt = self.renderInlineAsText(tok.children or [], options, env)
    label = escapeHtml(f"image: {alt}" if alt else "image")
    return f'<a href="{escapeHtml(src)}" rel="nofollow noreferrer">{label}</a>'


@cache
def _md() -> MarkdownIt:
    from markdown_it import MarkdownIt

    class SafeLinks(MarkdownIt):
        def validateLink(self, url: str) -> bool:  # markdown-it-py's hook for link targets
            return safe_link(url)

    md = SafeLinks("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"])
    md.add_render_rule("image", _image_as_link)
    return md


def render(text: str | None) -> str:
    """HTML for a Markdown body (trusted output: everything from the input is escaped)."""
    if not text:
        return ""
    fast = _plain_paragraphs(text)
    return fast if fast is not None else _md().render(text)


def plain(text: str | None) -> str:
    """The body's words without Markdown punctuation, for the search index."""
    if not text:
        return ""
    return re.sub(r"[`*_#>|\[\]()~]+", " ", text)


# Plain prose (no character Markdown gives a meaning to, no line that could open a list,
# heading, quote or code block), with at most simple `code spans`, renders as paragraphs
# without the parser: most bodies are such prose, and the parser is most of the report's
# time. tests/test_report.py checks, with generated text, that this gives markdown-it-py's
# bytes exactly (or declines).
_CONTROL = re.compile(r"[\t\r\x00-\x08\x0b-\x1f\x7f\u2028\u2029\x85]")
_SPECIAL = re.compile(r"[\\`*_\[\]<>&!#|~]")
_RISKY_LINE = re.compile(r"^(?:[^\S\n]|[\d+=\-:])|[^\S\n]$", re.M)
_CODE_SPAN = re.compile(r"`([^`\n]+)`")


def _escape(text: str) -> str:
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


def _plain_paragraphs(text: str) -> str | None:
    """The HTML markdown-it-py gives for plain prose, or None when the text is not that."""
    if _CONTROL.search(text) or "``" in text or _RISKY_LINE.search(text):
        return None
    code = "`" in text
    if _SPECIAL.search(_CODE_SPAN.sub("", text) if code else text):
        return None
    out = []
    for para in re.split(r"\n\n+", text.strip("\n")):
        if para:
            # prose holds no & < > here, so escaping it only touches quotes
            parts = _CODE_SPAN.split(para) if code else [para]
            out.append("<p>" + "".join(
                p.replace('"', "&quot;") if i % 2 == 0 else _code_text(p)
                for i, p in enumerate(parts)) + "</p>\n")
    return "".join(out)


def _code_text(body: str) -> str:
    if body[0] == " " and body[-1] == " " and body.strip(" "):
        body = body[1:-1]
    return "<code>" + _escape(body) + "</code>"
