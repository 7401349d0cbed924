"""No behaviour change across refactors: every tab's numbers equal the pinned ones.

The pins (``tests/data/pinned``) were computed before the layout move with
``tests/app/pinned_runs.py``. On the machine that wrote them the arrays are reproduced bit for
bit; on another machine numba may contract ``a * b + c`` into a fused multiply-add where the
writer's CPU did not (``fastmath={"contract"}`` in the cores), which changes a result by at most
one rounding (relative 2**-53 ≈ 1.1e-16) per operation. The runs pinned here are short (≤ 200
steps of contracting or bounded dynamics, a few hundred operations per number), so that drift
stays below about 1e-12 relative; the tolerance 1e-9 leaves three orders of margin and is still
far below any change a refactor that alters the numerics would make (O(1) for a different
random stream, ≥ 1e-6 for a reordered step).
"""

from __future__ import annotations

import numpy as np
import pytest

from app.main import TABS
from tests.app.pinned_runs import PINNED_DIR, compute

#: relative tolerance (module docstring); absolute floor for entries that are exactly zero
#: in one build and a rounding residue in another
RTOL, ATOL = 1e-9, 1e-12


@pytest.mark.slow
@pytest.mark.parametrize("slug", [tab.slug for tab in TABS])
def test_numbers_equal_the_pins(slug: str) -> None:
    stored = np.load(PINNED_DIR / f"{slug}.npz")
    fresh = compute(slug)
    assert sorted(fresh) == sorted(stored.files), "the set of exported arrays changed"
    for name in stored.files:
        np.testing.assert_allclose(fresh[name], stored[name], rtol=RTOL, atol=ATOL, err_msg=name)
