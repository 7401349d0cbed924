"""The Swarm escapes view without a browser: what the plots' sources hold after frames."""

from __future__ import annotations

import numpy as np

from app.tabs.swarm.tab import SwarmTab


def wait_for(job, timeout: float = 60.0) -> None:
    # until the job's watchers (which redraw panels on the job's thread when no document
    # exists) are done too: polling ``running`` raced with them
    assert job.wait(timeout)
    assert not job.running and not job.error


def test_hero_draws_swarm_level_set_and_ghosts() -> None:
    tab = SwarmTab()
    hero = tab.hero
    image = hero._background.data["image"][0]  # the cached contour, lines baked in
    assert image.shape == (200, 200) and image.dtype == np.uint32
    grey = image & 0xFF
    assert grey.min() < 0.8 * grey.max()  # contour lines and wells are darker than the hills
    tab.model.step(2000)
    tab._refresh()
    points = hero._points.data
    assert len(points["x"]) == 10
    snap = tab.model.snapshot()
    # hollow markers are exactly the explorers (c < 0), filled ones descend
    np.testing.assert_array_equal(np.asarray(points["fill"]) == 0.0, snap["c"] < 0)
    assert len(hero._level.data["xs"]) >= 1  # the dashed level set f = J + 1/β
    lang_source, lang_renderer = hero._ghosts["langevin"]
    assert lang_renderer.visible and len(lang_source.data["x"]) == 10
    assert not hero._ghosts["cbo"][1].visible
    tab.model.show_cbo = True
    assert hero._ghosts["cbo"][1].visible  # a live toggle redraws at once
    assert "stable" in hero.readouts.object


def test_secondary_panels_fill() -> None:
    tab = SwarmTab()
    tab.model.step(1000)
    tab._refresh()
    assert len(tab.weights._source.data["rank"]) == 10
    assert len(tab.series._source.data["t"]) == 2  # the start and one frame
    assert len(tab.schedules._source.data["t"]) == 300
    assert "ΔV" in tab.potential.readouts.object
    assert "exploring" in tab.diagnostics.readouts.object


def test_one_dimensional_landscape_draws_a_curve() -> None:
    tab = SwarmTab()
    tab.model.dim = 1
    tab._refresh()
    assert len(tab.hero._curve.data["x"]) == 600
    assert len(tab.hero._background.data["image"]) == 0
    tab.model.step(10)
    tab._refresh()
    ys = np.asarray(tab.hero._points.data["y"])
    np.testing.assert_allclose(ys, tab.model.snapshot()["f"])  # particles sit on f(x)


def test_study_result_fills_histograms_and_table() -> None:
    tab = SwarmTab()
    tab.model.n_runs = 10
    tab.model.t_max = 5.0
    tab.model.run_study()
    wait_for(tab.model.study)
    tab.study.update()
    assert "dual annealing" in tab.study.summary.object
    total = sum(np.sum(tab.study._hist_sources[m].data["top"]) for m in tab.study._hist_sources)
    hits = sum(np.isfinite(s.hit_time).sum() for s in tab.model.study.result["methods"].values())
    assert total == hits
    tab.study.axis.value = "evaluations"
    assert "evaluations" in tab.study.hist.xaxis.axis_label


def test_panels_share_the_tab_panel_interface_and_schedule() -> None:
    from app.tabs.panel import TabPanel

    tab = SwarmTab()
    assert all(isinstance(p, TabPanel) for p in tab.panels) and len(tab.panels) == 10  # + sweep
    assert [p for p in tab.panels if p.every_frame] == [tab.hero]
    followers = [p for p in tab.panels if p.follows_run and not p.every_frame]
    assert set(followers) == {
        tab.weights,
        tab.series,
        tab.schedules,
        tab.potential,
        tab.diagnostics,
    }
    assert tab.secondary_in_turns
    # while playing, the secondary panels take turns: one per secondary period
    tab.model.playing = True
    tab._secondary_at = 0.0
    tab.model.step(250)
    tab._refresh()
    assert tab._turn == 1
    tab._refresh()  # too soon for the next turn
    assert tab._turn == 1
    tab.model.playing = False


def test_panels_draw_what_the_model_computes() -> None:
    tab = SwarmTab()
    tab.model.step(500)
    tab._refresh()
    cut = tab.model.explorer_potential()
    np.testing.assert_array_equal(tab.potential._source.data["U"], cut["U"])
    xs, _ = tab.model.landscape().level_lines(tab.model.snapshot()["level"])
    assert len(tab.hero._level.data["xs"]) == len(xs)
    # the Kramers panel draws the model's plot (points and theory lines) as given
    plot = {
        "x": np.array([4.0, 8.0]),
        "log_mean_softmin": np.array([1.0, 1.5]),
        "log_mean_langevin": np.array([1.0, 2.0]),
        "kramers": np.array([1.0, 3.0]),
        "heuristic": np.array([1.0, 1.2]),
    }
    tab.model.kramers_plot = lambda: plot
    tab.kramers.update()
    np.testing.assert_array_equal(tab.kramers._points["langevin"].data["y"], [1.0, 2.0])
    np.testing.assert_array_equal(tab.kramers._theory.data["heuristic"], [1.0, 1.2])
