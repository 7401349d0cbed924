"""The model card every tab ends with: equations (KaTeX), provenance and the paper link.

The card's prose is data, not code: ``assets/cards/<slug>.md``, Markdown in which a display
equation stands between two lines that hold only ``$$``. :func:`card_sections` splits such a
file into Markdown and TeX sections; :func:`model_card` renders them.
"""

from __future__ import annotations

from pathlib import Path

import panel as pn

CARDS_DIR = Path(__file__).resolve().parents[2] / "assets" / "cards"

#: A line holding only this opens or closes a display equation in a card file.
TEX_FENCE = "$$"


def card_sections(text: str) -> list[tuple[str, str]]:
    """``("md", markdown)`` and ``("tex", "$latex$")`` sections of a card file, in order."""
    sections: list[tuple[str, str]] = []
    kind, lines = "md", []
    for line in text.splitlines():
        if line.strip() == TEX_FENCE:
            body = "\n".join(lines).strip()
            if body:
                sections.append((kind, f"${body}$" if kind == "tex" else body))
            kind, lines = ("tex" if kind == "md" else "md"), []
        else:
            lines.append(line)
    if kind == "tex":
        raise ValueError("a card file ends inside a $$ equation block")
    body = "\n".join(lines).strip()
    if body:
        sections.append(("md", body))
    return sections


def load_card(slug: str) -> list[tuple[str, str]]:
    """The sections of ``assets/cards/<slug>.md``."""
    return card_sections((CARDS_DIR / f"{slug}.md").read_text(encoding="utf-8"))


def model_card(sections: list[tuple[str, str]], citation: str, url: str) -> pn.Card:
    """A collapsible card from ``("md", text)`` and ``("tex", latex)`` sections."""
    objects: list[pn.viewable.Viewable] = []
    for kind, text in sections:
        if kind == "tex":
            objects.append(
                pn.pane.LaTeX(
                    text,
                    renderer="katex",
                    styles={"font-size": "1.05em"},
                    sizing_mode="stretch_width",
                    css_classes=["ns-equation"],
                    # a display equation wider than a narrow window scrolls inside itself
                    stylesheets=[".katex-display { overflow-x: auto; overflow-y: hidden; }"],
                )
            )
        else:
            objects.append(pn.pane.Markdown(text, sizing_mode="stretch_width"))
    objects.append(pn.pane.Markdown(f"**Paper.** [{citation}]({url})"))
    return pn.Card(
        *objects,
        title="Model card: equations, provenance, paper",
        collapsed=False,
        sizing_mode="stretch_width",
        css_classes=["ns-model-card"],
        margin=(6, 6),
    )
