"""Preprocessing fitted on training data and applied unchanged to any other data: feature
standardisation, PCA (with optional whitening) and ZCA whitening, as in the notes' data
preprocessing section.

Each class has ``fit(X_train)`` (returns self), ``transform(X)``, ``inverse_transform(Z)`` and
``state_dict()`` / ``load_state_dict(state)`` / ``from_state_dict(state)`` for saving with
``striate.train.save``. Inputs may have any shape (N, ...); they are flattened to (N, D).

Example:
    >>> import numpy as np
    >>> X = np.random.default_rng(0).normal(size=(200, 5)) @ np.diag([5, 3, 1, 0.5, 0.1])
    >>> pca = PCA(2).fit(X)
    >>> pca.transform(X).shape, bool(pca.explained_variance_ratio_.sum() > 0.9)
    ((200, 2), True)
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = ["PCA", "Standardize", "ZCA"]


def _rows(X, who: str, D: int | None = None) -> np.ndarray:
    X = np.asarray(X)
    if X.ndim < 2:
        raise ValueError(f"{who}: X must be samples (N, D) or (N, ...), got shape {X.shape}")
    if not np.issubdtype(X.dtype, np.number):
        raise TypeError(f"{who}: X must be numeric, got dtype {X.dtype}")
    X = X.reshape(X.shape[0], -1)
    if D is not None and X.shape[1] != D:
        raise ValueError(f"{who}: X has {X.shape[1]} features per sample but the transform was "
                         f"fitted on {D}")
    return X


def _out_dtype(X: np.ndarray):
    return X.dtype if np.issubdtype(X.dtype, np.floating) else np.float64


class _Fitted:
    """Shared state handling: ``_state`` names the arrays and settings a fitted object holds."""

    _state: tuple[str, ...] = ()

    def _check_fitted(self, who: str) -> None:
        if getattr(self, "mean_", None) is None:
            raise RuntimeError(f"{type(self).__name__}.{who}: call fit(X_train) first")

    def state_dict(self) -> dict:
        """The fitted arrays and settings (arrays copied)."""
        self._check_fitted("state_dict")
        return {k: (np.array(getattr(self, k)) if isinstance(getattr(self, k), np.ndarray)
                    else getattr(self, k)) for k in self._state}

    def load_state_dict(self, state: dict) -> None:
        missing = [k for k in self._state if k not in state]
        if missing:
            raise KeyError(f"{type(self).__name__}.load_state_dict: missing {missing}")
        for k in self._state:
            v = state[k]
            setattr(self, k, np.asarray(v) if isinstance(v, (np.ndarray, list)) else v)

    @classmethod
    def from_state_dict(cls, state: dict):
        obj = cls.__new__(cls)
        obj.load_state_dict(state)
        return obj


class Standardize(_Fitted):
    """Zero mean and unit variance per feature: (X - mean) / (std + eps), statistics from the
    training set. A feature constant on the training set is only centred."""

    _state = ("mean_", "scale_", "eps")

    def __init__(self, eps: float = 1e-8):
        self.eps = float(eps)
        self.mean_: np.ndarray | None = None
        self.scale_: np.ndarray | None = None

    def fit(self, X) -> Standardize:
        X = _rows(X, "Standardize.fit").astype(np.float64)
        self.mean_ = X.mean(0)
        std = X.std(0)
        self.scale_ = np.where(std > self.eps, std, 1.0)
        return self

    def transform(self, X) -> np.ndarray:
        """(N, D) -> (N, D) standardised, in X's float dtype."""
        self._check_fitted("transform")
        X = _rows(X, "Standardize.transform", self.mean_.size)
        return ((X - self.mean_) / self.scale_).astype(_out_dtype(X))

    def inverse_transform(self, Z) -> np.ndarray:
        self._check_fitted("inverse_transform")
        Z = _rows(Z, "Standardize.inverse_transform", self.mean_.size)
        return (Z * self.scale_ + self.mean_).astype(_out_dtype(Z))


class PCA(_Fitted):
    """Principal component analysis by SVD of the centred training data.

    With X_c = X - mean = U S V^T, the components are the first k rows of V^T (k, D), ordered by
    decreasing variance ``explained_variance_`` = S^2 / (N - 1). When N >= D they are found, as
    in the notes, as the eigenvectors of the covariance X_c^T X_c / (N - 1) (a D x D problem);
    otherwise by the SVD of X_c. Each component's sign is fixed
    so its largest-magnitude entry is positive (results do not depend on the SVD routine).
    ``transform`` projects: Z = (X - mean) V_k (N, k); with ``whiten`` each column is also
    divided by sqrt(variance + eps), so the training projections have unit variance.

    Args:
        n_components: an int k (1..min(N, D)), a float in (0, 1) for the fewest components that
            explain that fraction of the variance, or None for min(N, D).
        whiten: scale the projections to unit variance.
        eps: added to the variances before whitening, so tiny directions are not blown up.
    """

    _state = ("n_components", "whiten", "eps", "mean_", "components_", "explained_variance_",
              "explained_variance_ratio_", "singular_values_")

    def __init__(self, n_components: int | float | None = None, whiten: bool = False,
                 eps: float = 1e-5):
        nc = n_components
        ok = nc is None or (isinstance(nc, numbers.Integral) and not isinstance(nc, bool)
                            and nc > 0) or (isinstance(nc, float) and 0 < nc < 1)
        if not ok:
            raise ValueError(f"PCA: n_components must be a positive int, a float in (0, 1) or "
                             f"None, got {n_components!r}")
        self.n_components, self.whiten, self.eps = n_components, bool(whiten), float(eps)
        self.mean_: np.ndarray | None = None

    def fit(self, X) -> PCA:
        """Fit on training samples X (N, D) (or (N, ...), flattened); returns self."""
        X = _rows(X, "PCA.fit").astype(np.float64)
        N, D = X.shape
        if N < 2:
            raise ValueError(f"PCA.fit: need at least 2 samples, got {N}")
        self.mean_ = X.mean(0)
        Xc = X - self.mean_
        if N >= D:
            # the notes' route: decompose the D x D covariance, cheaper than the N x D data
            lam, U = np.linalg.eigh(Xc.T @ Xc / (N - 1))
            order = np.argsort(lam)[::-1]
            var, Vt = np.maximum(lam[order], 0.0), U[:, order].T
            S = np.sqrt(var * (N - 1))
        else:
            _, S, Vt = np.linalg.svd(Xc, full_matrices=False)
            var = S**2 / (N - 1)
        total = var.sum()
        ratio = var / total if total > 0 else np.zeros_like(var)
        nc = self.n_components
        if nc is None:
            k = len(S)
        elif isinstance(nc, float):
            k = int(np.searchsorted(np.cumsum(ratio), nc) + 1)
        else:
            if nc > len(S):
                raise ValueError(f"PCA.fit: n_components={nc} exceeds min(N, D) = {len(S)} "
                                 f"for X of shape {(N, D)}")
            k = int(nc)
        k = min(k, len(S))
        Vt = Vt[:k]
        signs = np.sign(Vt[np.arange(k), np.abs(Vt).argmax(1)])
        self.components_ = Vt * np.where(signs == 0, 1.0, signs)[:, None]
        self.explained_variance_ = var[:k]
        self.explained_variance_ratio_ = ratio[:k]
        self.singular_values_ = S[:k]
        return self

    def _scale(self) -> np.ndarray:
        return np.sqrt(self.explained_variance_ + self.eps) if self.whiten else \
            np.ones_like(self.explained_variance_)

    def transform(self, X) -> np.ndarray:
        """Project samples X (N, D) on the components: (N, k), in X's float dtype."""
        self._check_fitted("transform")
        X = _rows(X, "PCA.transform", self.mean_.size)
        Z = ((X - self.mean_) @ self.components_.T) / self._scale()
        return Z.astype(_out_dtype(X))

    def inverse_transform(self, Z) -> np.ndarray:
        """Back to input space: (N, k) -> (N, D); exact when k = D (up to ``eps`` if whitened),
        otherwise the best rank-k reconstruction."""
        self._check_fitted("inverse_transform")
        Z = _rows(Z, "PCA.inverse_transform", self.components_.shape[0])
        X = (Z * self._scale()) @ self.components_ + self.mean_
        return X.astype(_out_dtype(Z))


class ZCA(_Fitted):
    """ZCA whitening: rotate into the PCA basis, scale every direction to unit variance, rotate
    back. W = U diag(1 / sqrt(lambda + eps)) U^T from the training covariance
    (X_c^T X_c / (N - 1) = U diag(lambda) U^T); ``transform`` gives (X - mean) W (N, D), whose
    covariance on the training set is the identity (for eps -> 0) while staying as close as
    possible to the original pixels (the whitened image still looks like an image)."""

    _state = ("eps", "mean_", "W_", "W_inv_")

    def __init__(self, eps: float = 1e-5):
        self.eps = float(eps)
        self.mean_: np.ndarray | None = None

    def fit(self, X) -> ZCA:
        X = _rows(X, "ZCA.fit").astype(np.float64)
        N = X.shape[0]
        if N < 2:
            raise ValueError(f"ZCA.fit: need at least 2 samples, got {N}")
        self.mean_ = X.mean(0)
        Xc = X - self.mean_
        lam, U = np.linalg.eigh(Xc.T @ Xc / (N - 1))
        lam = np.maximum(lam, 0.0)
        self.W_ = (U / np.sqrt(lam + self.eps)) @ U.T
        self.W_inv_ = (U * np.sqrt(lam + self.eps)) @ U.T
        return self

    def transform(self, X) -> np.ndarray:
        """(N, D) -> (N, D) whitened, in X's float dtype."""
        self._check_fitted("transform")
        X = _rows(X, "ZCA.transform", self.mean_.size)
        return ((X - self.mean_) @ self.W_).astype(_out_dtype(X))

    def inverse_transform(self, Z) -> np.ndarray:
        self._check_fitted("inverse_transform")
        Z = _rows(Z, "ZCA.inverse_transform", self.mean_.size)
        return (Z @ self.W_inv_ + self.mean_).astype(_out_dtype(Z))
