"""Devices: the CPU works; a GPU is refused clearly until a GPU backend exists."""

import pytest

import striate


def test_cpu_is_a_no_op_and_cuda_is_refused_clearly():
    t = striate.ones(2, 3)
    assert t.to("cpu") is t and t.device == "cpu"
    assert striate.cuda.is_available() is False
    with pytest.raises(RuntimeError, match="device 'cuda:0' is not supported yet"):
        t.to("cuda:0")
    model = striate.nn.Linear(3, 2)
    with pytest.raises(RuntimeError, match="not supported yet"):
        model.to("cuda")
