r"""Tabular MDP layouts of the Exploration maps tab (spec ``models/exploration.md`` §2).

Every layout is a :class:`TabularMDP` with padded sparse transitions ``nxt[S, A, M]``,
``prob[S, A, M]`` and per-transition rewards ``rew[S, A, M]`` (``M ≤ 5``). Absorbing states
self-loop under every action with reward 0; extrinsic rewards are paid on the transition into
them (DeepSea also charges a move cost). Layouts [derived] (spec §2):

* ``four_rooms``: 11×11 grid with border walls, wall row 5 and column 5, doors (3,5), (7,5),
  (5,2), (5,8); 68 free cells, start (1,1), absorbing goal (9,9) with reward 1.
* ``distractor_rooms``: four rooms plus an absorbing distractor at (3,3) paying ``r_d``.
* ``lock``: states 0..N, action 0 moves forward, every other action resets to 0; N absorbing,
  reward 1 on N−1 → N.
* ``corridor``: L states, left/right with slip; absorbing distractor at 0 (0.1), goal at L−1 (1).
* ``deep_sea``: bsuite DeepSea [literature: google-deepmind/bsuite]; only the reachable triangle
  (column ≤ row) plus one absorbing terminal are states.
* ``frozen_lake_8x8``: gymnasium's 8×8 map, success rate 1/3 [literature: Farama Gymnasium].

Pure numpy: the layouts are built once per parameter set.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np

from kernels.common.validation import choice, integer, real

__all__ = ["LAYOUTS", "SIZE_LIMITS", "TabularMDP", "build_layout"]

LAYOUTS = ("four_rooms", "distractor_rooms", "corridor", "lock", "deep_sea", "frozen_lake_8x8")
#: (min, max) of ``size`` per sized layout: lock length N, DeepSea side N, corridor length L.
SIZE_LIMITS = {"lock": (4, 30), "deep_sea": (3, 30), "corridor": (5, 60)}

FROZEN_LAKE_8X8 = (
    "SFFFFFFF",
    "FFFFFFFF",
    "FFFHFFFF",
    "FFFFFHFF",
    "FFFHFFFF",
    "FHHFFFHF",
    "FHFFHFHF",
    "FFFHFFFG",
)
#: Grid moves (row, column) of the compass actions N, E, S, W.
COMPASS = ((-1, 0), (0, 1), (1, 0), (0, -1))
#: FrozenLake's actions 0 = left, 1 = down, 2 = right, 3 = up (gymnasium order).
FROZEN_MOVES = ((0, -1), (1, 0), (0, 1), (-1, 0))


@dataclass
class TabularMDP:
    """A finite MDP with padded sparse transitions (see module docstring).

    Attributes
    ----------
    nxt, prob, rew : ndarray (S, A, M)
        Successor indices, their probabilities (rows sum to 1) and the reward paid on each
        transition. Padding entries have probability 0 and point at the state itself.
    rho : ndarray (S,)
        Start distribution.
    absorbing : ndarray (S,) bool
        States that self-loop under every action.
    coords : ndarray (S, 2) int
        (row, column) of each state in the drawn grid; (-1, -1) for states not drawn.
    grid_shape : (int, int)
        Shape of the drawn grid.
    action_labels : tuple of str
        One arrow/label per action for the maps.
    acyclic : bool
        True if every transition from a non-absorbing state goes to a higher index or to an
        absorbing state: visitation and values are then one triangular sweep.
    """

    layout: str
    nxt: np.ndarray
    prob: np.ndarray
    rew: np.ndarray
    rho: np.ndarray
    absorbing: np.ndarray
    coords: np.ndarray
    grid_shape: tuple[int, int]
    action_labels: tuple[str, ...]
    walls: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), dtype=np.int64))
    goal_states: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    acyclic: bool = False

    @property
    def n_states(self) -> int:
        return int(self.nxt.shape[0])

    @property
    def n_actions(self) -> int:
        return int(self.nxt.shape[1])

    def dense_P(self) -> np.ndarray:
        """The transition tensor P[s, a, s'] (S, A, S)."""
        S, A, M = self.nxt.shape
        P = np.zeros((S, A, S))
        for m in range(M):
            np.add.at(
                P,
                (np.arange(S)[:, None], np.arange(A)[None, :], self.nxt[:, :, m]),
                self.prob[:, :, m],
            )
        return P

    def dense_R(self) -> np.ndarray:
        """Expected immediate reward R[s, a] = Σ_{s'} P(s'|s,a) r(s,a,s')."""
        return np.sum(self.prob * self.rew, axis=2)

    def reachable(self) -> np.ndarray:
        """States reachable from the support of ``rho`` (bool mask)."""
        seen = self.rho > 0
        queue = deque(np.flatnonzero(seen).tolist())
        while queue:
            s = queue.popleft()
            for t in self.nxt[s][self.prob[s] > 0]:
                if not seen[t]:
                    seen[t] = True
                    queue.append(int(t))
        return seen

    def valid_states(self) -> np.ndarray:
        """S_v: reachable from supp ρ, minus absorbing states (bool mask)."""
        return self.reachable() & ~self.absorbing


class _Builder:
    """Accumulates transitions (merging duplicate successors) and pads them."""

    def __init__(self, n_states: int, n_actions: int) -> None:
        self.S, self.A = n_states, n_actions
        self.table: list[list[dict[int, list[float]]]] = [
            [{} for _ in range(n_actions)] for _ in range(n_states)
        ]

    def add(self, s: int, a: int, t: int, p: float, r: float = 0.0) -> None:
        if p <= 0.0:
            return
        entry = self.table[s][a].setdefault(t, [0.0, 0.0])
        entry[0] += p
        entry[1] += p * r  # probability-weighted, so merged rewards keep their expectation

    def absorb(self, s: int) -> None:
        for a in range(self.A):
            self.table[s][a] = {s: [1.0, 0.0]}

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        M = max(len(d) for row in self.table for d in row)
        nxt = np.empty((self.S, self.A, M), dtype=np.int64)
        prob = np.zeros((self.S, self.A, M))
        rew = np.zeros((self.S, self.A, M))
        for s in range(self.S):
            for a in range(self.A):
                nxt[s, a, :] = s
                for m, (t, (p, pr)) in enumerate(sorted(self.table[s][a].items())):
                    nxt[s, a, m] = t
                    prob[s, a, m] = p
                    rew[s, a, m] = pr / p
        return nxt, prob, rew


def _is_acyclic(nxt: np.ndarray, prob: np.ndarray, absorbing: np.ndarray) -> bool:
    idx = np.arange(nxt.shape[0])[:, None, None]
    forward = (nxt > idx) | absorbing[nxt] | (prob == 0)
    return bool(np.all(forward[~absorbing]))


def _four_rooms(slip: float, distractor_reward: float | None) -> TabularMDP:
    n = 11
    wall = np.zeros((n, n), dtype=bool)
    wall[0, :] = wall[-1, :] = wall[:, 0] = wall[:, -1] = True
    wall[5, :] = wall[:, 5] = True
    for r, c in ((3, 5), (7, 5), (5, 2), (5, 8)):
        wall[r, c] = False
    cells = [(r, c) for r in range(n) for c in range(n) if not wall[r, c]]
    index = {cell: i for i, cell in enumerate(cells)}
    goal = index[(9, 9)]
    absorbing_rewards = {goal: 1.0}
    if distractor_reward is not None:
        absorbing_rewards[index[(3, 3)]] = distractor_reward
    builder = _Builder(len(cells), 4)
    for (r, c), s in index.items():
        if s in absorbing_rewards:
            builder.absorb(s)
            continue
        for a in range(4):
            for b, (dr, dc) in enumerate(COMPASS):
                p = 1.0 - slip if b == a else slip / 3.0
                t = index.get((r + dr, c + dc), s)  # walls block: stay
                builder.add(s, a, t, p, absorbing_rewards.get(t, 0.0) if t != s else 0.0)
    nxt, prob, rew = builder.arrays()
    absorbing = np.zeros(len(cells), dtype=bool)
    absorbing[list(absorbing_rewards)] = True
    rho = np.zeros(len(cells))
    rho[index[(1, 1)]] = 1.0
    layout = "four_rooms" if distractor_reward is None else "distractor_rooms"
    return TabularMDP(
        layout,
        nxt,
        prob,
        rew,
        rho,
        absorbing,
        np.array(cells),
        (n, n),
        ("↑", "→", "↓", "←"),
        walls=np.argwhere(wall),
        goal_states=np.array([goal]),
    )


def _lock(size: int, n_actions: int, slip: float) -> TabularMDP:
    S = size + 1
    builder = _Builder(S, n_actions)
    for s in range(size):
        for a in range(n_actions):
            for b in range(n_actions):
                # slip replaces the chosen action by a uniformly random other one
                p = 1.0 - slip if b == a else slip / (n_actions - 1)
                t = s + 1 if b == 0 else 0
                builder.add(s, a, t, p, 1.0 if t == size else 0.0)
    builder.absorb(size)
    nxt, prob, rew = builder.arrays()
    absorbing = np.zeros(S, dtype=bool)
    absorbing[size] = True
    rho = np.zeros(S)
    rho[0] = 1.0
    coords = np.column_stack([np.zeros(S, dtype=np.int64), np.arange(S)])
    labels = ("→", *["↺"] * (n_actions - 1))
    return TabularMDP(
        "lock",
        nxt,
        prob,
        rew,
        rho,
        absorbing,
        coords,
        (1, S),
        labels,
        goal_states=np.array([size]),
    )


def _corridor(length: int, slip: float) -> TabularMDP:
    builder = _Builder(length, 2)
    rewards = {0: 0.1, length - 1: 1.0}
    for s in range(1, length - 1):
        for a, _step in enumerate((-1, 1)):
            for b, move in enumerate((-1, 1)):
                p = 1.0 - slip if b == a else slip
                t = s + move
                builder.add(s, a, t, p, rewards.get(t, 0.0))
    for s in rewards:
        builder.absorb(s)
    nxt, prob, rew = builder.arrays()
    absorbing = np.zeros(length, dtype=bool)
    absorbing[list(rewards)] = True
    rho = np.zeros(length)
    rho[1] = 1.0
    coords = np.column_stack([np.zeros(length, dtype=np.int64), np.arange(length)])
    return TabularMDP(
        "corridor",
        nxt,
        prob,
        rew,
        rho,
        absorbing,
        coords,
        (1, length),
        ("←", "→"),
        goal_states=np.array([length - 1]),
    )


def deep_sea_mapping(size: int, mapping_seed: int) -> np.ndarray:
    """bsuite's action mapping: ``action == mapping[row, col]`` means "right"."""
    return np.random.RandomState(mapping_seed).binomial(1, 0.5, (size, size))


def _deep_sea(size: int, mapping_seed: int, deterministic: bool) -> TabularMDP:
    N = size
    cells = [(r, c) for r in range(N) for c in range(r + 1)]  # reachable: column ≤ row
    index = {cell: i for i, cell in enumerate(cells)}
    terminal = len(cells)
    mapping = deep_sea_mapping(N, mapping_seed)
    builder = _Builder(len(cells) + 1, 2)
    move_cost = 0.01 / N
    for (r, c), s in index.items():
        for a in range(2):
            right = a == mapping[r, c]
            bonus = 1.0 if (right and c == N - 1) else 0.0
            cost = move_cost if right else 0.0

            def target(col: int, r: int = r) -> int:
                return terminal if r + 1 == N else index[(r + 1, col)]

            if right:
                p_move = 1.0 if deterministic else 1.0 - 1.0 / N
                builder.add(s, a, target(min(c + 1, N - 1)), p_move, bonus - cost)
                builder.add(s, a, target(c), 1.0 - p_move, bonus - cost)
            else:
                builder.add(s, a, target(max(c - 1, 0)), 1.0, 0.0)
    builder.absorb(terminal)
    nxt, prob, rew = builder.arrays()
    absorbing = np.zeros(terminal + 1, dtype=bool)
    absorbing[terminal] = True
    rho = np.zeros(terminal + 1)
    rho[0] = 1.0
    coords = np.array([*cells, (-1, -1)])
    # arrows are per cell (the mapping is random); 0/1 label the raw actions
    return TabularMDP(
        "deep_sea",
        nxt,
        prob,
        rew,
        rho,
        absorbing,
        coords,
        (N, N),
        ("0", "1"),
        goal_states=np.array([index[(N - 1, N - 1)]]),
    )


def _frozen_lake(success_rate: float) -> TabularMDP:
    desc = FROZEN_LAKE_8X8
    n = len(desc)
    fail = (1.0 - success_rate) / 2.0
    builder = _Builder(n * n, 4)
    absorbing = np.zeros(n * n, dtype=bool)
    for r in range(n):
        for c in range(n):
            s = r * n + c
            if desc[r][c] in "GH":
                builder.absorb(s)
                absorbing[s] = True
                continue
            for a in range(4):
                for b in ((a - 1) % 4, a, (a + 1) % 4):
                    dr, dc = FROZEN_MOVES[b]
                    rr, cc = min(max(r + dr, 0), n - 1), min(max(c + dc, 0), n - 1)
                    t = rr * n + cc
                    builder.add(
                        s,
                        a,
                        t,
                        success_rate if b == a else fail,
                        1.0 if desc[rr][cc] == "G" else 0.0,
                    )
    nxt, prob, rew = builder.arrays()
    rho = np.zeros(n * n)
    rho[0] = 1.0
    coords = np.array([(r, c) for r in range(n) for c in range(n)])
    holes = np.array([[r, c] for r in range(n) for c in range(n) if desc[r][c] == "H"])
    return TabularMDP(
        "frozen_lake_8x8",
        nxt,
        prob,
        rew,
        rho,
        absorbing,
        coords,
        (n, n),
        ("←", "↓", "→", "↑"),
        walls=holes,
        goal_states=np.array([n * n - 1]),
    )


def build_layout(
    layout: str,
    *,
    size: int | None = None,
    n_actions: int = 2,
    slip: float = 0.0,
    distractor_reward: float = 0.1,
    mapping_seed: int = 0,
    deterministic: bool = True,
    success_rate: float = 1.0 / 3.0,
) -> TabularMDP:
    """Validate the layout parameters and build the MDP (see ``exploration.make_mdp``)."""
    choice("layout", layout, LAYOUTS)
    slip = real("slip", slip, 0.0, 0.5)
    if layout in ("four_rooms", "distractor_rooms"):
        r_d = real("distractor_reward", distractor_reward, 0.0, 1.0)
        mdp = _four_rooms(slip, r_d if layout == "distractor_rooms" else None)
    elif layout == "lock":
        lo, hi = SIZE_LIMITS["lock"]
        N = integer("size", 16 if size is None else size, lo, hi)
        A = integer("n_actions", n_actions, 2, 4)
        mdp = _lock(N, A, slip)
    elif layout == "corridor":
        lo, hi = SIZE_LIMITS["corridor"]
        mdp = _corridor(integer("size", 20 if size is None else size, lo, hi), slip)
    elif layout == "deep_sea":
        lo, hi = SIZE_LIMITS["deep_sea"]
        N = integer("size", 10 if size is None else size, lo, hi)
        seed = integer("mapping_seed", mapping_seed, 0, 2**31 - 1)
        mdp = _deep_sea(N, seed, bool(deterministic))
    else:
        mdp = _frozen_lake(real("success_rate", success_rate, 0.0, 1.0, lo_open=True))
    mdp.acyclic = _is_acyclic(mdp.nxt, mdp.prob, mdp.absorbing)
    for arr in (mdp.nxt, mdp.prob, mdp.rew, mdp.rho, mdp.absorbing):
        arr.flags.writeable = False  # layouts are shared by the explorer cache
    return mdp
