"""The model card every tab ends with: equations (KaTeX), provenance and the paper link."""

from __future__ import annotations

import panel as pn


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
