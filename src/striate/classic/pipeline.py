"""Features -> standardisation -> (PCA) -> classifier, in one call: the image-features part of
the course, where a linear SVM (or softmax, or a small network) learns on HOG, hue histograms
or a bag of visual words instead of raw pixels.

>>> from striate.data import digits
>>> run = train_on_features(digits(), features=("hog",), classifier="svm")  # doctest: +SKIP
>>> run.val_acc, run.test_acc                                               # doctest: +SKIP
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from .features import BagOfWords, color_histogram, extract_features, hog_features
from .preprocess import PCA, Standardize

__all__ = ["FEATURES", "FeaturePipeline", "FeatureRun", "default_cell", "train_on_features"]

FEATURES = ("hog", "color", "bow")
CLASSIFIERS = ("svm", "softmax", "mlp")


def default_cell(image_shape) -> int:
    """A HOG cell size that gives about 4x4 cells: 2 for 8x8 digits, 8 for 32x32 CIFAR."""
    _, h, w = (int(s) for s in image_shape)
    return max(1, min(8, min(h, w) // 4))


@dataclass
class FeaturePipeline:
    """The fitted feature extraction: ``names`` of the features in order, their ``options``,
    the bag of words' codebook, and the standardisation and PCA fitted on the training set.
    ``transform(X)`` maps images (N, C, H, W) to classifier inputs (N, F)."""

    names: tuple
    options: dict
    scaler: Standardize
    bow: BagOfWords | None = None
    pca: PCA | None = None

    def functions(self) -> list:
        o = self.options
        fns = []
        for name in self.names:
            if name == "hog":
                fns.append(lambda x: hog_features(x, cell=o["cell"], nbins=o["nbins"],
                                                  block=o["block"]))
            elif name == "color":
                fns.append(lambda x: color_histogram(x, nbin=o["hue_bins"]))
            else:
                fns.append(self.bow)
        return fns

    def raw(self, X) -> np.ndarray:
        """The stacked features before standardisation: (N, C, H, W) -> (N, F_raw)."""
        return extract_features(X, self.functions())

    def transform(self, X) -> np.ndarray:
        Z = self.scaler.transform(self.raw(X))
        return (self.pca.transform(Z) if self.pca is not None else Z).astype(np.float32)

    def state_dict(self) -> dict:
        return {"names": list(self.names), "options": dict(self.options),
                "scaler": self.scaler.state_dict(),
                "bow": None if self.bow is None else self.bow.state_dict(),
                "pca": None if self.pca is None else self.pca.state_dict()}

    @classmethod
    def from_state_dict(cls, state: dict) -> FeaturePipeline:
        return cls(tuple(state["names"]), dict(state["options"]),
                   Standardize.from_state_dict(state["scaler"]),
                   None if state["bow"] is None else BagOfWords.from_state_dict(state["bow"]),
                   None if state["pca"] is None else PCA.from_state_dict(state["pca"]))


@dataclass
class FeatureRun:
    """What :func:`train_on_features` returns: accuracies, the feature size, the fitted
    ``pipeline``, the trained ``classifier`` (a ``LinearSVM``/``Softmax`` or an nn model) and
    its loss ``history`` (per iteration for linear classifiers, per epoch for the mlp)."""

    train_acc: float
    val_acc: float
    test_acc: float
    n_features: int
    pipeline: FeaturePipeline
    classifier: object
    history: list = field(repr=False)


def _fit_pipeline(X_train, image_shape, names, pca, whiten, seed, cell, nbins, block,
                  hue_bins, words, patch, patches) -> tuple[FeaturePipeline, np.ndarray]:
    unknown = [n for n in names if n not in FEATURES]
    if not names or unknown:
        raise ValueError(f"train_on_features: features must be a non-empty list from "
                         f"{', '.join(FEATURES)}, got {list(names)!r}")
    options = {"cell": int(cell or default_cell(image_shape)), "nbins": int(nbins),
               "block": None if not block else int(block), "hue_bins": int(hue_bins),
               "words": int(words), "patch": int(patch), "patches": int(patches)}
    bow = None
    if "bow" in names:
        bow = BagOfWords(n_words=options["words"], patch=options["patch"],
                         n_patches=options["patches"], seed=seed)
        bow.fit(X_train)
    pipe = FeaturePipeline(tuple(names), options, Standardize(), bow)
    F = pipe.raw(X_train)
    pipe.scaler.fit(F)
    Z = pipe.scaler.transform(F)
    if pca:
        pipe.pca = PCA(pca, whiten=whiten).fit(Z)
        Z = pipe.pca.transform(Z)
    return pipe, Z.astype(np.float32)


def train_on_features(data, features=("hog",), classifier: str = "svm",
                      pca: int | float | None = None, whiten: bool = False,
                      lr: float | None = None, reg: float | None = None,
                      num_iters: int = 1500, batch_size: int | None = None, epochs: int = 20,
                      seed: int = 0, out_dir: str | os.PathLike | None = None,
                      cell: int | None = None, nbins: int = 9, block: int | None = None,
                      hue_bins: int = 10, words: int = 50, patch: int = 3,
                      patches: int = 10000, progress: bool = False) -> FeatureRun:
    """Extract features from ``data`` (a ``DatasetSplits``), fit the standardisation (and PCA
    to ``pca`` components, whitened with ``whiten``) on the training split only, train the
    classifier on the training features and measure it on all three splits.

    Args:
        features: names from ``FEATURES``: "hog" (:func:`hog_features`, ``cell`` default
            :func:`default_cell`, ``nbins``, ``block``), "color" (:func:`color_histogram` with
            ``hue_bins``; degenerate on grayscale data) and "bow" (:class:`BagOfWords` with
            ``words``, ``patch`` and ``patches`` sampled for the codebook).
        classifier: "svm" / "softmax" (``LinearSVM`` / ``Softmax``, minibatch SGD for
            ``num_iters`` steps; lr default 1e-2, reg 1e-2, batch 200) or "mlp"
            (``striate.models`` "mlp" trained by the ``Trainer`` with Adam for ``epochs``;
            lr default 1e-3, reg (weight decay) 1e-4, batch 64).
        out_dir: the Trainer's run folder for the mlp (checkpoints, metrics, plots); None
            writes nothing.
    """
    import striate

    if classifier not in CLASSIFIERS:
        raise ValueError(f"train_on_features: classifier must be one of "
                         f"{', '.join(CLASSIFIERS)}, got {classifier!r}")
    names = (features,) if isinstance(features, str) else tuple(features)
    striate.manual_seed(seed)
    pipe, Ztr = _fit_pipeline(data.train.X, data.input_shape, names, pca, whiten, seed, cell,
                              nbins, block, hue_bins, words, patch, patches)
    Zva, Zte = pipe.transform(data.val.X), pipe.transform(data.test.X)
    ys = (data.train.y, data.val.y, data.test.y)
    if classifier in ("svm", "softmax"):
        from .linear import LinearSVM, Softmax

        clf = LinearSVM() if classifier == "svm" else Softmax()
        history = clf.train(Ztr, data.train.y, learning_rate=1e-2 if lr is None else lr,
                            reg=1e-2 if reg is None else reg, num_iters=num_iters,
                            batch_size=batch_size or 200, num_classes=data.num_classes)
        if not np.isfinite(history[-1]):
            raise RuntimeError(f"train_on_features: the {classifier} loss diverged to "
                               f"{history[-1]} (use a smaller lr than {lr})")
        accs = [float(np.mean(clf.predict(Z) == y)) for Z, y in zip((Ztr, Zva, Zte), ys)]
        return FeatureRun(*accs, Ztr.shape[1], pipe, clf, history)
    return _train_mlp(data, pipe, (Ztr, Zva, Zte), ys, lr, reg, batch_size, epochs, out_dir,
                      progress)


def _train_mlp(data, pipe, Z, ys, lr, reg, batch_size, epochs, out_dir, progress) -> FeatureRun:
    from ..data import DataLoader, TensorDataset
    from ..models import create_model
    from ..optim import Adam
    from ..train import Trainer, load

    model = create_model("mlp", num_classes=data.num_classes, input_shape=(Z[0].shape[1],))
    opt = Adam(model.parameters(), lr=1e-3 if lr is None else lr,
               weight_decay=1e-4 if reg is None else reg)
    trainer = Trainer(model, opt, out_dir=out_dir, progress=progress,
                      log=None if progress else False)
    bs = batch_size or 64
    loaders = [DataLoader(TensorDataset(z, y), batch_size=bs if i == 0 else 512, shuffle=i == 0)
               for i, (z, y) in enumerate(zip(Z, ys))]
    history = trainer.fit(loaders[0], loaders[1], epochs=epochs)
    if out_dir is not None and os.path.exists(os.path.join(out_dir, "checkpoint_best.npz")):
        model.load_state_dict(load(os.path.join(out_dir, "checkpoint_best.npz"))["model"])
    accs = [float(trainer.evaluate(DataLoader(TensorDataset(z, y), batch_size=512))["accuracy"])
            for z, y in zip(Z, ys)]
    return FeatureRun(*accs, Z[0].shape[1], pipe, model, history)
