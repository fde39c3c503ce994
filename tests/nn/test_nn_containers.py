"""Sequential, ModuleList, ModuleDict."""

from collections import OrderedDict

import numpy as np
import pytest

import striate
from striate import nn


def test_sequential_forward_is_composition():
    striate.manual_seed(0)
    a, b = nn.Linear(3, 4), nn.Linear(4, 2)
    seq = nn.Sequential(a, nn.ReLU(), b)
    x = striate.randn(5, 3)
    np.testing.assert_allclose(seq(x).array, b(a(x).relu()).array)


def test_sequential_indexing_slicing_len_iter():
    layers = [nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 3), nn.Tanh()]
    seq = nn.Sequential(*layers)
    assert len(seq) == 4
    assert list(seq) == layers
    assert seq[0] is layers[0] and seq[-1] is layers[3]
    sub = seq[1:3]
    assert isinstance(sub, nn.Sequential) and list(sub) == layers[1:3]
    assert list(sub._modules) == ["1", "2"]  # names are kept, as in PyTorch
    with pytest.raises(IndexError, match="index 4 is out of range for Sequential of length 4"):
        seq[4]
    with pytest.raises(TypeError, match="integers or slices"):
        seq["0"]


def test_sequential_append_setitem_delitem():
    seq = nn.Sequential(nn.Linear(2, 2))
    relu = nn.ReLU()
    assert seq.append(relu) is seq
    assert seq[1] is relu and list(seq._modules) == ["0", "1"]
    sig = nn.Sigmoid()
    seq[1] = sig
    assert seq[1] is sig
    seq.extend([nn.Tanh(), nn.Identity()])
    del seq[1]
    assert list(seq._modules) == ["0", "1", "2"]
    assert isinstance(seq[1], nn.Tanh)
    with pytest.raises(TypeError, match="argument 1 is a int, not a Module"):
        nn.Sequential(nn.ReLU(), 3)


def test_sequential_from_ordered_dict_names_parameters():
    seq = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 3)), ("act", nn.ReLU())]))
    assert [n for n, _ in seq.named_parameters()] == ["fc.weight", "fc.bias"]
    assert seq[0] is seq.fc


def test_module_list_registers_and_indexes():
    ml = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    assert len(ml) == 3
    assert [n for n, _ in ml.named_parameters()][:2] == ["0.weight", "0.bias"]
    assert len(list(ml.parameters())) == 6
    ml.append(nn.ReLU())
    ml.insert(0, nn.Tanh())
    assert isinstance(ml[0], nn.Tanh) and isinstance(ml[-1], nn.ReLU)
    assert isinstance(ml[1:3], nn.ModuleList) and len(ml[1:3]) == 2
    del ml[0]
    assert list(ml._modules) == ["0", "1", "2", "3"] and isinstance(ml[0], nn.Linear)
    ml += [nn.Sigmoid()]
    assert len(ml) == 5
    with pytest.raises(TypeError, match="not a Module"):
        ml.append(5)
    with pytest.raises(NotImplementedError):
        ml(striate.zeros(1))

    class Owner(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2)])

    assert [n for n, _ in Owner().named_parameters()] == [
        "layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias"
    ]


def test_module_dict():
    md = nn.ModuleDict({"enc": nn.Linear(2, 3), "dec": nn.Linear(3, 2)})
    assert list(md) == ["enc", "dec"] and len(md) == 2 and "enc" in md
    assert next(n for n, _ in md.named_parameters()) == "enc.weight"
    md["act"] = nn.ReLU()
    assert list(md.keys()) == ["enc", "dec", "act"]
    assert isinstance(md.pop("act"), nn.ReLU) and "act" not in md
    md.update([("extra", nn.Tanh())])
    assert [k for k, _ in md.items()] == ["enc", "dec", "extra"]
    with pytest.raises(KeyError, match="no key 'nope'"):
        md["nope"]
    with pytest.raises(TypeError, match="pair"):
        md.update([nn.ReLU()])
    md.clear()
    assert len(md) == 0
