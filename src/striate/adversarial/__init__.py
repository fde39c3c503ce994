"""``striate.adversarial``: the "Adversarial Examples and Adversarial Training" lecture.

The attacks (FGSM, PGD in L-inf and L2, targeted or not) and adversarial training's objective
live in ``striate.train.adversarial`` (training uses them) and are re-exported here with the
measurements: accuracy under attack, robustness curves (accuracy against eps), transfer of
adversarial examples from one model to another, and ensemble attacks.
"""

from ..train.adversarial import AdversarialObjective, Normalized, fgsm, input_gradient, pgd
from .evaluate import (
    ATTACKS,
    EnsembleModel,
    adversarial_accuracy,
    attack,
    plot_robustness,
    predict,
    robustness_curve,
    transfer_rate,
)

__all__ = ["ATTACKS", "AdversarialObjective", "EnsembleModel", "Normalized",
           "adversarial_accuracy", "attack", "fgsm", "input_gradient", "pgd", "plot_robustness",
           "predict", "robustness_curve", "transfer_rate"]
