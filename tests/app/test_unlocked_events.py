"""A click that arrives while a slider change is still debounced (a person releasing a slider
and pressing Step at once) is handled without Bokeh's document-lock error.

Panel runs the click's callback, and with it the pending slider change, without the server's
document lock (``Syncable._event_coroutine``); a panel that then set a Bokeh property directly
raised ``_pending_writes should be non-None when we have a document lock`` and the redraw was
lost. This happened once in a CI run of the browser tests; here a protocol-level client sends
the two messages back to back, which reproduces it every time without the fix
(:func:`app.tabs.panel.held`).
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from bokeh.events import ButtonClick
from bokeh.models import Button, Slider
from panel.models.layout import Card

from app.protocol_client import Client, pump, start_receivers, wait_for_panels
from app.serve_process import ServeProcess

KAPPA_PRIME = re.compile(r"σ_w² E s'²</span><span class=.ns-chip-value.>([-0-9.]+)<")


def kappa_prime(client: Client) -> float:
    """The κ₁' chip of the kernel panel, as the client's document shows it."""
    for model in client.session.document.models:
        text = html.unescape(html.unescape(str(getattr(model, "text", ""))))
        if match := KAPPA_PRIME.search(text):
            return float(match.group(1))
    raise AssertionError("no κ₁' chip in the document")


def _title(card: Card) -> str:
    """A card's title, from the heading in its header (HTML-escaped in the header's text)."""
    texts = (html.unescape(str(getattr(m, "text", ""))) for m in card.children[0].references())
    return next((m.group(1) for t in texts if (m := re.search(r"<h3>(.*)</h3>", t))), "")


def test_a_click_during_a_slider_debounce_redraws_without_a_lock_error(tmp_path: Path) -> None:
    with ServeProcess(log_path=tmp_path / "server.log") as server:
        client = Client(server.base_url, "tokens")
        start_receivers([client])
        document = client.session.document
        step = next(m for m in document.select({"type": Button}) if m.label == "Step")
        wait_for_panels([client])  # the kernel panel comes after the first plot
        # σ_w is an advanced parameter: its slider is built when its card is first opened
        advanced = next(
            card for card in document.select({"type": Card}) if _title(card) == "Advanced"
        )
        advanced.collapsed = False
        for _ in range(50):
            sliders = [m for m in document.select({"type": Slider}) if "σ_w" in m.title]
            if sliders:
                break
            pump(0.2)
        (sigma_w,) = sliders
        before = kappa_prime(client)
        for _ in range(3):
            value = sigma_w.value + sigma_w.step
            sigma_w.value = value
            sigma_w.set_from_json("value_throttled", value)  # what a browser sends on release
            document.callbacks.send_event(ButtonClick(step))
            pump(0.4)
        after = kappa_prime(client)
        client.close()
        pump(0.3)
        log = server.log_text()
    assert "Traceback" not in log and "_pending_writes" not in log, log[-3000:]
    # the redraw reached the page: κ₁' = σ_w² E s'² scales with σ_w² (chips show 4 decimals)
    assert after == round(before * value**2 / (value - 3 * sigma_w.step) ** 2, 4)
