"""The classic pipeline of the course's first half, on raw arrays with explicit gradients:
k-nearest neighbours with cross-validation, linear SVM and softmax classifiers, their
loss functions (naive and vectorised), and the pictures that go with them.

>>> import numpy as np, striate
>>> from striate.classic import KNearestNeighbor, Softmax
>>> from striate.data import digits
>>> d = digits()
>>> Xtr, Xte = d.train.X.reshape(len(d.train), -1), d.test.X.reshape(len(d.test), -1)
>>> knn = KNearestNeighbor()
>>> knn.train(Xtr, d.train.y)
>>> float(np.mean(knn.predict(Xte, k=1) == d.test.y)) > 0.95
True
"""

from . import features, preprocess
from .features import BagOfWords, color_histogram, extract_features, hog_features, kmeans
from .knn import CrossValidationResult, KNearestNeighbor, cross_validate, plot_cross_validation
from .linear import (
    LinearClassifier,
    LinearFit,
    LinearSVM,
    Softmax,
    fit_linear_classifier,
    plot_loss_history,
    plot_templates,
    regularization,
    softmax_loss_naive,
    softmax_loss_vectorized,
    svm_loss_naive,
    svm_loss_vectorized,
)
from .pipeline import FeaturePipeline, FeatureRun, train_on_features
from .preprocess import PCA, ZCA, Standardize
from .search import run_trial

__all__ = [
    "run_trial",
    "CrossValidationResult",
    "KNearestNeighbor",
    "LinearClassifier",
    "LinearFit",
    "LinearSVM",
    "Softmax",
    "cross_validate",
    "fit_linear_classifier",
    "plot_cross_validation",
    "plot_loss_history",
    "plot_templates",
    "regularization",
    "softmax_loss_naive",
    "softmax_loss_vectorized",
    "svm_loss_naive",
    "svm_loss_vectorized",
    # image features and preprocessing
    "BagOfWords",
    "PCA",
    "Standardize",
    "ZCA",
    "color_histogram",
    "extract_features",
    "features",
    "hog_features",
    "kmeans",
    "preprocess",
    "FeaturePipeline",
    "FeatureRun",
    "train_on_features",
]
