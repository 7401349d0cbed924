"""Presets of the Exploration maps tab (spec ``models/exploration.md`` §5)."""

from __future__ import annotations

from typing import Any

TEACHING_DEFAULT = "Four rooms: curiosity spreads"

PRESETS: dict[str, dict[str, Any]] = {
    TEACHING_DEFAULT: {"layout": "four_rooms"},
    "Combination lock": {
        "layout": "lock",
        "size": 16,
        "gamma": 0.99,
        "coverage_c": 1.0,
        "n_explore": 16,
        "lr": 1.0,
        "target_frac": 0.5,
        "n_pg_iters": 5000,
    },
    "Distractor trap": {"layout": "distractor_rooms", "distractor_reward": 0.1},
    "DeepSea": {
        "layout": "deep_sea",
        "size": 10,
        "gamma": 0.99,
        "n_explore": 20,
        "gradient": "sampled",
        "lr": 0.5,
        "horizon": 10,
        "n_pg_iters": 3000,
        "target_frac": 0.5,
    },
    "FrozenLake": {
        "layout": "frozen_lake_8x8",
        "gamma": 0.99,
        "n_explore": 20,
        "n_pg_iters": 3000,
    },
    "Lock with REINFORCE": {
        "layout": "lock",
        "size": 10,
        "gamma": 0.99,
        "coverage_c": 1.0,
        "n_explore": 10,
        "gradient": "sampled",
        "lr": 0.5,
        "batch": 8,
        "horizon": 30,
        "target_frac": 0.5,
        "n_pg_iters": 1000,
    },
}
