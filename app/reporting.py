"""The shared template of the page's invisible reporters (``ReactiveHTML`` elements whose script
tells the server what happens in the browser: :mod:`app.shortcuts`, :mod:`app.on_screen`)."""

from __future__ import annotations

__all__ = ["hidden_template"]


def hidden_template(element_id: str, *names: str) -> str:
    """An invisible ``ReactiveHTML`` template binding the params ``names``, each in an element
    with an id: ReactiveHTML sends a change made in the browser to Python only for params
    bound that way."""
    spans = "".join(f'<span id="{name}">${{{name}}}</span>' for name in names)
    return f'<div id="{element_id}" style="display: none">{spans}</div>'
