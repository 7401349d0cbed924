"""Classifier head and summaries of the expected-signature tab (spec §2 step 5, §4 panels 3–4).

Level-wise standardisation: features are centred by their training mean and each signature
level is divided by one pooled training scale (level-k magnitudes scale like |ΔX|^k/k!, so one
scale per level keeps relative sizes inside a level) [derived]. Then an L2-regularised
multinomial logistic regression (scikit-learn, ``C`` = inverse strength). Accuracies are test
accuracies, computed here, never stored. The GP hyperparameters can be fitted by maximising the
summed log marginal likelihood of the training series (spec §3).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from kernels import signature as S

if TYPE_CHECKING:
    from sklearn.linear_model import LogisticRegression

# scikit-learn (with pandas) and scipy.optimize are imported by the functions that fit: about
# 100 MB the server does not hold until someone first fits a head (issue 14, idle memory)

MAX_ITER = 500


def prefix(features: np.ndarray, d: int, depth: int) -> np.ndarray:
    """The first ``depth`` levels of flat signatures (..., n_sig)."""
    return features[..., : int(S.level_offsets(d, depth)[depth])]


def standardise(
    train: np.ndarray, others: Sequence[np.ndarray], d: int, depth: int, levelwise: bool
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Centre by the training mean; with ``levelwise`` divide each level by its pooled training
    RMS (spec §2 step 5), otherwise leave the raw scales (centred only)."""
    centre = train.mean(axis=0)
    scale = np.ones(train.shape[-1])
    if levelwise:
        off = S.level_offsets(d, depth)
        for k in range(depth):
            block = train[:, off[k] : off[k + 1]] - centre[off[k] : off[k + 1]]
            rms = float(np.sqrt(np.mean(block**2)))
            scale[off[k] : off[k + 1]] = rms if rms > 1e-300 else 1.0
    return (train - centre) / scale, [(o - centre) / scale for o in others]


def _model(c: float) -> LogisticRegression:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=c, max_iter=MAX_ITER)


def _quiet_convergence() -> None:
    """Inside ``warnings.catch_warnings()``: ignore scikit-learn's ConvergenceWarning (a head
    stopped at MAX_ITER still predicts; the accuracy says how well)."""
    from sklearn.exceptions import ConvergenceWarning

    warnings.simplefilter("ignore", ConvergenceWarning)


def row_space(train: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates of train and test rows in the row space of ``train`` when there are more
    features than training rows. The L2-penalised optimum w lies in that row space (the loss
    gradient does and the penalty is rotation invariant), so the fitted classifier is the same
    while the optimiser works on n instead of p coordinates (2800 → 40 on BasicMotions)."""
    if train.shape[1] <= train.shape[0]:
        return train, test
    _, s, vt = np.linalg.svd(train, full_matrices=False)
    keep = s > s[0] * 1e-12 if s.size and s[0] > 0 else np.zeros(len(s), dtype=bool)
    basis = vt[keep].T
    if basis.shape[1] == 0:
        return train[:, :1] * 0.0, test[:, :1] * 0.0
    return train @ basis, test @ basis


def fit_accuracy(
    train: np.ndarray,
    y_train: np.ndarray,
    test: np.ndarray,
    y_test: np.ndarray,
    d: int,
    depth: int,
    c: float,
    levelwise: bool,
) -> float:
    """Test accuracy of standardise + logistic regression on depth-``depth`` prefixes."""
    tr, (te,) = standardise(prefix(train, d, depth), [prefix(test, d, depth)], d, depth, levelwise)
    tr, te = row_space(tr, te)
    with warnings.catch_warnings():
        _quiet_convergence()
        model = _model(c).fit(tr, y_train)
    return float(np.mean(model.predict(te) == y_test))


def sample_prediction_accuracy(
    train_samples: np.ndarray,
    y_train: np.ndarray,
    test_samples: np.ndarray,
    y_test: np.ndarray,
    d: int,
    depth: int,
    c: float,
    levelwise: bool,
) -> float:
    """Moor et al.'s ``monte_carlo`` head: every sample's signature is a training row; test
    predictions average the class probabilities over the samples [literature]."""
    n_tr, m, n_sig = train_samples.shape
    tr_rows = train_samples.reshape(n_tr * m, n_sig)
    te_rows = test_samples.reshape(-1, n_sig)
    tr, (te,) = standardise(
        prefix(tr_rows, d, depth), [prefix(te_rows, d, depth)], d, depth, levelwise
    )
    tr, te = row_space(tr, te)
    with warnings.catch_warnings():
        _quiet_convergence()
        model = _model(c).fit(tr, np.repeat(y_train, m))
    proba = model.predict_proba(te).reshape(len(y_test), test_samples.shape[1], -1).mean(axis=1)
    return float(np.mean(model.classes_[np.argmax(proba, axis=1)] == y_test))


def pca_2d(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """2-D principal-component scores of (standardised) features and the explained fractions."""
    centred = features - features.mean(axis=0)
    if centred.shape[1] == 1:
        return np.column_stack([centred[:, 0], np.zeros(len(centred))]), np.array([1.0, 0.0])
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    vt = vt[:2]
    vt *= np.where(vt[:, :1] < 0, -1.0, 1.0)  # fixed sign: embeddings do not flip
    total = float(np.sum(s**2)) or 1.0
    explained = np.zeros(2)
    explained[: len(s[:2])] = s[:2] ** 2 / total
    scores = centred @ vt.T
    if scores.shape[1] < 2:
        scores = np.column_stack([scores, np.zeros(len(scores))])
    return scores, explained


def fit_hyperparameters(
    x_train: np.ndarray,
    kernel: str,
    start: tuple[float, float, float],
    bounds: Sequence[tuple[float, float]],
) -> tuple[tuple[float, float, float], float]:
    """Maximise the summed log marginal likelihood over (ℓ, σ_f², σ_n²) shared by every channel
    of every training series (Nelder–Mead in log space, clipped to ``bounds``)."""
    rows = x_train.reshape(-1, x_train.shape[-1])
    lo = np.log([b[0] for b in bounds])
    hi = np.log([b[1] for b in bounds])

    def loss(theta: np.ndarray) -> float:
        ls, sf2, sn2 = np.exp(np.clip(theta, lo, hi))
        value = S.log_marginal_likelihood(
            rows, kernel=kernel, length_scale=ls, signal_var=sf2, noise_var=sn2
        )
        return -value if np.isfinite(value) else 1e300

    from scipy.optimize import minimize

    result = minimize(
        loss,
        np.clip(np.log(start), lo, hi),
        method="Nelder-Mead",
        options={"maxiter": 300, "xatol": 1e-3, "fatol": 1e-6},
    )
    best = np.exp(np.clip(result.x, lo, hi))
    return (float(best[0]), float(best[1]), float(best[2])), float(-result.fun)
