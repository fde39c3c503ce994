"""The Optimizer base: parameter groups, state, zero_grad, state_dict, and clear errors."""

import numpy as np
import pytest

import striate
from striate import Tensor
from striate.optim import SGD, Adagrad, Adam, AdamW, Optimizer, RMSprop


def _params(*shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [striate.tensor(rng.standard_normal(s), requires_grad=True) for s in shapes]


def _set_grads(params, seed):
    rng = np.random.default_rng(seed)
    for p in params:
        p.grad = Tensor(rng.standard_normal(p.shape))


# ---- construction and groups -------------------------------------------------------------------


def test_one_group_from_a_list_with_defaults():
    ps = _params((2, 3), (3,))
    opt = SGD(ps, lr=0.1, momentum=0.9)
    assert isinstance(opt, Optimizer)
    assert len(opt.param_groups) == 1
    group = opt.param_groups[0]
    assert group["params"] == ps or all(a is b for a, b in zip(group["params"], ps))
    assert group["lr"] == 0.1 and group["momentum"] == 0.9 and group["nesterov"] is False
    assert opt.defaults["lr"] == 0.1


def test_generator_of_params_is_accepted():
    ps = _params((2,), (3,))
    opt = Adam(p for p in ps)
    assert [id(p) for p in opt.param_groups[0]["params"]] == [id(p) for p in ps]


def test_param_groups_take_their_own_options_and_defaults_for_the_rest():
    a, b = _params((2,), (3,))
    opt = SGD([{"params": [a]}, {"params": b, "lr": 0.5, "momentum": 0.1}], lr=0.1)
    g0, g1 = opt.param_groups
    assert g0["lr"] == 0.1 and g0["momentum"] == 0
    assert g1["lr"] == 0.5 and g1["momentum"] == 0.1
    assert g1["params"][0] is b  # a lone Tensor in a group is wrapped in a list


def test_per_group_lr_is_used_in_step():
    a, b = _params((2,), (2,))
    a0, b0 = a.array.copy(), b.array.copy()
    opt = SGD([{"params": [a]}, {"params": [b], "lr": 1.0}], lr=0.1)
    a.grad, b.grad = Tensor(np.ones(2)), Tensor(np.ones(2))
    opt.step()
    np.testing.assert_allclose(a.array, a0 - 0.1)
    np.testing.assert_allclose(b.array, b0 - 1.0)


def test_add_param_group_gets_defaults_and_is_updated():
    a, b = _params((2,), (2,))
    opt = Adam([a], lr=0.01, betas=(0.8, 0.9))
    opt.add_param_group({"params": [b], "lr": 0.1})
    g = opt.param_groups[1]
    assert g["lr"] == 0.1 and g["betas"] == (0.8, 0.9) and g["eps"] == 1e-8
    b0 = b.array.copy()
    b.grad = Tensor(np.ones(2))
    opt.step()
    # Adam's first step moves each weight by lr (times sign of the gradient)
    np.testing.assert_allclose(b.array, b0 - 0.1, rtol=1e-6)
    with pytest.raises(ValueError, match="already in another parameter group"):
        opt.add_param_group({"params": [a]})


def test_add_param_group_to_adagrad_fills_its_accumulator():
    a, b = _params((2,), (3,))
    opt = Adagrad([a], initial_accumulator_value=0.5)
    opt.add_param_group({"params": [b]})
    np.testing.assert_array_equal(opt.state[b]["sum"], np.full(3, 0.5))


@pytest.mark.parametrize(
    "make,err,match",
    [
        (lambda ps: SGD(ps[0], lr=0.1), TypeError, "single Tensor"),
        (lambda ps: SGD([], lr=0.1), ValueError, "empty parameter list"),
        (lambda ps: SGD(ps[0].array, lr=0.1), TypeError, "parameter 0 of group 0"),
        (lambda ps: SGD([ps[0], np.zeros(2)], lr=0.1), TypeError, "parameter 1 .*ndarray"),
        (lambda ps: SGD(42, lr=0.1), TypeError, "iterable .* got int"),
        (lambda ps: SGD({"params": ps}, lr=0.1), TypeError, "one dict"),
        (lambda ps: SGD(set(ps), lr=0.1), TypeError, "params is a set"),
        (lambda ps: SGD([{"params": set(ps)}], lr=0.1), TypeError, "set"),
        (lambda ps: SGD([{"params": []}], lr=0.1), ValueError, "group 0 has an empty"),
        (lambda ps: SGD([{"lr": 0.1}], lr=0.1), ValueError, "no 'params' key"),
        (lambda ps: SGD([ps[0], ps[0]], lr=0.1), ValueError, "more than once"),
        (lambda ps: SGD([{"params": ps[:1]}, {"params": ps}], lr=0.1), ValueError, "another"),
        (lambda ps: SGD(ps), ValueError, "'lr'"),
        (lambda ps: SGD(ps, lr=-0.1), ValueError, r"lr=-0.1, expected a number >= 0"),
        (lambda ps: SGD(ps, lr="0.1"), TypeError, "lr must be a real number"),
        (lambda ps: SGD([{"params": ps, "lr": -1.0}], lr=0.1), ValueError, "lr=-1.0"),
        (lambda ps: SGD(ps, lr=0.1, momentum=-0.9), ValueError, "momentum=-0.9"),
        (lambda ps: SGD(ps, lr=0.1, weight_decay=-1), ValueError, "weight_decay"),
        (lambda ps: SGD(ps, lr=0.1, nesterov=True), ValueError, "nesterov=True needs momentum"),
        (
            lambda ps: SGD(ps, lr=0.1, momentum=0.9, dampening=0.1, nesterov=True),
            ValueError,
            "dampening = 0",
        ),
        (lambda ps: Adagrad(ps, lr=-1), ValueError, "Adagrad: invalid lr"),
        (lambda ps: Adagrad(ps, initial_accumulator_value=-1), ValueError, "initial_acc"),
        (lambda ps: RMSprop(ps, momentum=-0.1), ValueError, "RMSprop: invalid momentum"),
        (lambda ps: RMSprop(ps, alpha=1.5), ValueError, "alpha=1.5"),
        (lambda ps: RMSprop(ps, eps=-1e-8), ValueError, "eps"),
        (lambda ps: Adam(ps, lr=-1e-3), ValueError, "Adam: invalid lr"),
        (lambda ps: Adam(ps, betas=(1.0, 0.999)), ValueError, r"betas\[0\]=1.0"),
        (lambda ps: Adam(ps, betas=(0.9, -0.1)), ValueError, r"betas\[1\]=-0.1"),
        (lambda ps: Adam(ps, betas=0.9), ValueError, "pair"),
        (lambda ps: AdamW(ps, betas=(0.9, 1.2)), ValueError, r"AdamW: invalid betas\[1\]"),
        (lambda ps: AdamW(ps, weight_decay=-0.01), ValueError, "weight_decay"),
    ],
)
def test_bad_arguments_raise_clear_errors(make, err, match):
    ps = _params((2,), (3,))
    with pytest.raises(err, match=match):
        make(ps)


def test_integer_and_non_leaf_parameters_are_rejected():
    with pytest.raises(TypeError, match="floating point, got dtype int64"):
        SGD([striate.tensor(np.arange(3))], lr=0.1)
    (p,) = _params((3,))
    with pytest.raises(ValueError, match="not a leaf"):
        SGD([p * 2], lr=0.1)


def test_step_rejects_a_gradient_of_the_wrong_shape():
    (p,) = _params((2, 3))
    opt = SGD([p], lr=0.1)
    p.grad = Tensor(np.ones((3, 2)))
    with pytest.raises(ValueError, match=r"shape \(2, 3\) but its grad has shape \(3, 2\)"):
        opt.step()


# ---- step and zero_grad -----------------------------------------------------------------------


@pytest.mark.parametrize("cls", [SGD, Adagrad, RMSprop, Adam, AdamW])
def test_step_updates_in_place_skips_none_grads_and_builds_no_graph(cls):
    a, b = _params((3, 2), (4,))
    a_arr, b0 = a.array, b.array.copy()
    a0 = a_arr.copy()
    opt = cls([a, b], lr=0.1)
    a.grad = Tensor(np.ones((3, 2)))
    opt.step()
    assert a.array is a_arr  # updated in place, same array
    assert not np.allclose(a.array, a0)
    assert a.is_leaf and a.grad_fn is None and a.requires_grad
    np.testing.assert_array_equal(b.array, b0)
    np.testing.assert_array_equal(a.grad.array, np.ones((3, 2)))  # the gradient is not changed


def test_weight_decay_does_not_modify_the_gradient():
    (p,) = _params((3,))
    g = np.ones(3)
    p.grad = Tensor(g)
    SGD([p], lr=0.1, weight_decay=0.5, momentum=0.9).step()
    np.testing.assert_array_equal(g, np.ones(3))


def test_zero_grad_sets_none_or_fills_zeros_in_place():
    a, b = _params((2,), (3,))
    _set_grads([a, b], 1)
    opt = SGD([a, b], lr=0.1)
    opt.zero_grad()
    assert a.grad is None and b.grad is None
    _set_grads([a, b], 1)
    g_arr = a.grad.array
    opt.zero_grad(set_to_none=False)
    assert a.grad.array is g_arr
    np.testing.assert_array_equal(a.grad.array, np.zeros(2))


def test_step_calls_the_closure_and_returns_its_loss():
    (p,) = _params((2,))
    opt = SGD([p], lr=0.1)
    calls = []

    def closure():
        calls.append(1)
        p.grad = Tensor(np.ones(2))
        return 3.5

    assert opt.step(closure) == 3.5
    assert calls == [1]
    assert opt.step() is None


# ---- state_dict / load_state_dict -------------------------------------------------------------


def test_state_dict_uses_indices_and_copies_arrays():
    a, b, c = _params((2,), (3,), (2, 2))
    opt = SGD([{"params": [a, b]}, {"params": [c], "lr": 0.5}], lr=0.1, momentum=0.9)
    _set_grads([a, c], 2)
    opt.step()
    sd = opt.state_dict()
    assert [g["params"] for g in sd["param_groups"]] == [[0, 1], [2]]
    assert sd["param_groups"][1]["lr"] == 0.5 and sd["param_groups"][0]["momentum"] == 0.9
    assert set(sd["state"]) == {0, 2}  # b had no gradient, so no state
    buf = sd["state"][0]["momentum_buffer"]
    assert isinstance(buf, np.ndarray)
    assert buf is not opt.state[a]["momentum_buffer"]
    np.testing.assert_array_equal(buf, opt.state[a]["momentum_buffer"])
    saved = buf.copy()
    _set_grads([a, c], 3)
    opt.step()
    np.testing.assert_array_equal(buf, saved)  # the saved copy did not move with the optimizer
    sd["param_groups"][0]["lr"] = 99.0
    assert opt.param_groups[0]["lr"] == 0.1


@pytest.mark.parametrize(
    "cls,kwargs",
    [
        (SGD, {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
        (Adagrad, {"lr": 0.1}),
        (RMSprop, {"lr": 0.01, "momentum": 0.9, "centered": True}),
        (Adam, {"lr": 0.01, "amsgrad": True}),
        (AdamW, {"lr": 0.01}),
    ],
)
def test_load_state_dict_resumes_exactly(cls, kwargs):
    ps = _params((3, 2), (4,))
    opt = cls([{"params": ps[:1]}, {"params": ps[1:], "lr": 0.05}], **kwargs)
    for s in range(3):
        _set_grads(ps, s)
        opt.step()
    sd = opt.state_dict()

    clones = [striate.tensor(p.array.copy(), requires_grad=True) for p in ps]
    opt2 = cls([{"params": clones[:1]}, {"params": clones[1:]}], lr=1.0)  # other lr: loaded
    opt2.load_state_dict(sd)
    assert opt2.param_groups[1]["lr"] == 0.05
    assert opt2.param_groups[0]["params"][0] is clones[0]
    for s in range(3, 6):
        _set_grads(ps, s)
        _set_grads(clones, s)
        opt.step()
        opt2.step()
    for p, q in zip(ps, clones):
        np.testing.assert_array_equal(p.array, q.array)
    # loading copied the arrays: the optimizer moved on, the state dict did not
    key = next(iter(sd["state"][0]))
    if isinstance(sd["state"][0][key], np.ndarray):
        assert sd["state"][0][key] is not opt2.state[clones[0]][key]


def test_load_state_dict_names_what_mismatched():
    a, b, c = _params((2,), (3,), (4,))
    opt = SGD([a, b], lr=0.1, momentum=0.9)
    _set_grads([a, b], 0)
    opt.step()
    sd = opt.state_dict()
    with pytest.raises(ValueError, match="2 parameter groups but the optimizer has 1"):
        opt.load_state_dict({"state": {}, "param_groups": sd["param_groups"] * 2})
    with pytest.raises(ValueError, match="group 0 has 2 parameters in the state dict but 3"):
        SGD([a, b, c], lr=0.1).load_state_dict(sd)
    d, e = _params((5,), (3,))
    other = SGD([d, e], lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match=r"'momentum_buffer' of parameter 0 has shape \(2,\)"):
        other.load_state_dict(sd)
    assert not other.state  # nothing was loaded
    with pytest.raises(ValueError, match="keys 'state' and 'param_groups'"):
        opt.load_state_dict({"state": {}})
    bad = {"state": {7: {}}, "param_groups": sd["param_groups"]}
    with pytest.raises(ValueError, match="state for parameter 7"):
        opt.load_state_dict(bad)


def test_load_state_dict_casts_state_to_the_parameter_dtype():
    (p,) = _params((3,))
    opt = Adam([p], lr=0.01)
    _set_grads([p], 0)
    opt.step()
    sd = opt.state_dict()
    q = striate.tensor(np.zeros(3, dtype=np.float32), requires_grad=True)
    opt32 = Adam([q], lr=0.01)
    opt32.load_state_dict(sd)
    assert opt32.state[q]["exp_avg"].dtype == np.float32
    assert opt32.state[q]["step"] == 1


def test_repr_lists_each_group_options():
    a, b = _params((2,), (2,))
    text = repr(SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1))
    assert "Parameter Group 1" in text and "lr: 0.5" in text and "lr: 0.1" in text
