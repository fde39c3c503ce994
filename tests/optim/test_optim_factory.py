"""Optimizers by name."""

import pytest

import striate
from striate import optim


@pytest.mark.parametrize("name", optim.OPTIMIZERS)
def test_create_optimizer_builds_each_by_name(name):
    p = striate.zeros(3, requires_grad=True)
    opt = optim.create_optimizer(name, [p], lr=0.1, momentum=0.5, weight_decay=0.01)
    assert type(opt).__name__.lower() == name
    g = opt.param_groups[0]
    assert g["lr"] == 0.1 and g["weight_decay"] == 0.01
    if name in ("sgd", "rmsprop"):
        assert g["momentum"] == 0.5
    if name == "sgd":
        assert g["nesterov"] is True


def test_unknown_optimizer_lists_the_known_ones():
    with pytest.raises(ValueError, match="unknown optimizer 'lbfgs'; choose from adagrad, adam"):
        optim.create_optimizer("lbfgs", [striate.zeros(2, requires_grad=True)], lr=0.1)
