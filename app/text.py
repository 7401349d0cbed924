"""User-supplied text on screen: shown literally, never as markup.

Whatever a user can type, paste or upload (a link's values, a file's name, its labels) reaches
Markdown and HTML panes only through :func:`escape_markdown` (or :func:`html.escape` in HTML),
and a message quoting it is cut to :data:`MAX_MESSAGE_CHARS`.
"""

from __future__ import annotations

import html

_MARKDOWN_SPECIAL = set("\\`*_{}[]()#+-!|~<>")
#: Longest message shown for one failure.
MAX_MESSAGE_CHARS = 300


def escape_markdown(text: str) -> str:
    """``text`` safe to show in a Markdown or HTML pane: no tags, links, emphasis or code."""
    text = html.escape(str(text), quote=False)
    return "".join("\\" + ch if ch in _MARKDOWN_SPECIAL else ch for ch in text)


def shorten(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """``text`` cut to at most ``limit`` characters (an ellipsis marks the cut)."""
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"
