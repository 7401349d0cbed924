# THROWAWAY: validates the harness against /tmp/nsdev stand-in app; deleted afterwards.
import pytest
from app.browser import hook_state, install_update_hook


def test_shadow_dom_and_render(open_app, screenshot):
    page = open_app()
    assert page.locator("canvas").count() >= 1          # pierces shadow roots
    assert page.evaluate("document.querySelectorAll('canvas').length") == 0  # plain DOM does not
    install_update_hook(page)
    handle = page.locator(".noUi-handle").first
    box = handle.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + 80, box["y"] + box["height"] / 2, steps=5)
    page.mouse.up()
    page.wait_for_function("() => window.__nsHook.frames.length > 0")
    st = hook_state(page)
    print(st)
    assert st["releases"] and st["updates"][0] > st["releases"][0]
    print(screenshot(page, "throwaway"))


def test_js_exception_fails(page, app_url):
    page.goto(app_url)
    page.evaluate("() => setTimeout(() => { throw new Error('boom') }, 0)")
    page.wait_for_timeout(300)


def test_marker(request):
    assert request.node.get_closest_marker("ui") is not None
