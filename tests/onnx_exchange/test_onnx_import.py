"""onnx.load_model: files written by real PyTorch (torch.onnx.export, its TorchScript exporter)
run in striate with PyTorch's outputs, and fine-tune; unsupported operators and opsets are
named."""

import io
import warnings

import numpy as np
import pytest

import striate
from striate import nn

onnx = pytest.importorskip("onnx")


def _torch_export(torch, model, args, **kw) -> bytes:
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
        # dynamo=False: torch 2.13's default exporter needs onnxscript; the TorchScript one
        # writes the same operators without it
        torch.onnx.export(model, args, buf, dynamo=False, **kw)
    return buf.getvalue()


def test_torch_resnet18_runs_with_pytorchs_outputs_and_fine_tunes(torch):
    from torch_resnet18 import ResNet18

    torch.manual_seed(0)
    m = ResNet18(num_classes=10).eval()
    for mod in m.modules():
        if isinstance(mod, torch.nn.BatchNorm2d):
            mod.running_mean.uniform_(-0.2, 0.2)
            mod.running_var.uniform_(0.5, 2.0)
    x = torch.randn(2, 3, 32, 32)
    data = _torch_export(torch, m, (x,), input_names=["x"], dynamic_axes={"x": {0: "n"}})
    s = striate.onnx.load_model(data)
    # PyTorch's exporter folds each BatchNorm into its Conv: 20 convolutions, 1 linear
    assert sum(n.op == "Conv" for n in s.graph.nodes) == 20
    with torch.no_grad():
        ref = m(x).numpy()
    with striate.no_grad():
        got = s(striate.tensor(x.numpy())).array
    np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-5)
    # its weights are parameters: a few SGD steps lower the loss on a batch
    params = list(s.parameters())
    assert sum(p.array.size for p in params) == sum(p.numel() for p in m.parameters()
                                                    if p.requires_grad) - sum(
        bn.weight.numel() + bn.bias.numel() for bn in m.modules()
        if isinstance(bn, torch.nn.BatchNorm2d)) + sum(
        c.out_channels for c in m.modules() if isinstance(c, torch.nn.Conv2d))
    xs, y = striate.tensor(x.numpy()), striate.tensor(np.array([1, 7]))
    opt = striate.optim.SGD(params, lr=0.01)
    losses = []
    for _ in range(3):
        loss = striate.functional.cross_entropy(s(xs), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]


def test_torch_lstm_runs_with_pytorchs_outputs(torch):
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(3, 5, num_layers=2, batch_first=True)
    x = torch.randn(2, 4, 3)
    s = striate.onnx.load_model(_torch_export(torch, lstm, (x,)))
    assert sum(n.op == "LSTM" for n in s.graph.nodes) == 2
    out, (h, c) = lstm(x)
    got = s(striate.tensor(x.numpy()))
    for a, b in zip(got, (out, h, c)):
        np.testing.assert_allclose(a.array, b.detach().numpy(), rtol=1e-5, atol=1e-6)
    got[0].sum().backward()  # through striate's fused LSTM layer
    assert all(p.grad is not None for p in s.parameters())


def test_striate_export_then_load_round_trip(rng):
    m = nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.BatchNorm2d(3), nn.ReLU(),
                      nn.AvgPool2d(2), nn.Flatten(), nn.Linear(12, 4), nn.LogSoftmax(1)).eval()
    x = striate.tensor(rng.standard_normal((2, 1, 4, 4)).astype(np.float32))
    s = striate.onnx.load_model(striate.onnx.export(m, x))
    with striate.no_grad():
        np.testing.assert_allclose(s(x).array, m(x).array, rtol=1e-5, atol=1e-6)


def test_unsupported_operator_and_opset_are_named():
    h = onnx.helper
    x = h.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [2])
    y = h.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [2])
    graph = h.make_graph([h.make_node("Hardmax", ["x"], ["y"], name="hm")], "g", [x], [y])
    model = h.make_model(graph, opset_imports=[h.make_opsetid("", 17)])
    with pytest.raises(striate.onnx.UnsupportedOperatorError,
                       match=r"operator 'Hardmax' \(opset 17\) of node hm"):
        striate.onnx.load_model(model)
    old = h.make_model(graph, opset_imports=[h.make_opsetid("", 9)])
    with pytest.raises(striate.onnx.UnsupportedOperatorError, match="opset 9 is not supported"):
        striate.onnx.load_model(old)
