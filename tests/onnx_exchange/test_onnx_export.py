"""onnx.export: the file passes onnx.checker and onnxruntime computes what striate computes, for
the zoo, the char-RNN, the captioners and the default ConvNet; unmapped ops are named."""

import io
import os

import numpy as np
import pytest

import striate
from striate import nn
from striate.models import create_model, list_models
from striate.models.stats import skip_init

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

# every zoo model is checked by docs/make_graphs.py (its table in docs/graphs.md); the test
# takes one model of each family small enough for the suite's time budget, or every model with
# STRIATE_FULL_ZOO=1
FAMILY_REPRESENTATIVES = ["alexnet", "convnet", "densenet121", "googlenet", "lenet5", "mlp",
                          "nin", "preact_resnet20", "resnet20", "softmax",
                          "squeezenet1_0", "squeezenet1_1", "twolayer", "wrn_16_4", "zfnet"]
ZOO = list_models() if os.environ.get("STRIATE_FULL_ZOO") == "1" else FAMILY_REPRESENTATIVES


def _session(proto):
    return ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])


def _randomise(model, rng):
    """Random weights and running statistics (built under skip_init: zeros until here), so every
    layer's numbers matter in the comparison."""
    for p in model.parameters():
        fan = p.array[0].size if p.ndim > 1 else 1
        p.array[...] = (rng.random(p.shape, dtype=np.float32) - 0.5) * (3.4 / np.sqrt(fan))
    for name, b in model.named_buffers():
        if name.endswith("running_var"):
            b.array[...] = rng.uniform(0.5, 2.0, b.shape)
        elif name.endswith("running_mean"):
            b.array[...] = rng.uniform(-0.2, 0.2, b.shape)


def test_every_zoo_name_is_either_tested_here_or_in_the_docs_table():
    assert set(FAMILY_REPRESENTATIVES) <= set(list_models())


@pytest.mark.parametrize("name", ZOO)
def test_zoo_model_round_trip_through_onnxruntime(name, rng):
    shape = (1, 8, 8)
    with skip_init():
        model = create_model(name, num_classes=5, input_shape=shape)
    _randomise(model, rng)
    model.train()  # export traces in eval mode and gives the mode back
    x = striate.tensor(rng.standard_normal((2, *shape)).astype(np.float32))
    buf = io.BytesIO()
    striate.onnx.export(model, x, buf, input_names=["images"], output_names=["scores"],
                        dynamic_axes={"images": {0: "batch"}, "scores": {0: "batch"}})
    assert model.training
    proto = onnx.load_from_string(buf.getvalue())
    onnx.checker.check_model(proto)
    assert proto.opset_import[0].version == 17
    x3 = rng.standard_normal((3, *shape)).astype(np.float32)  # another batch size
    got = _session(proto).run(["scores"], {"images": x3})[0]
    model.eval()
    with striate.no_grad():
        ref = model(striate.tensor(x3)).array
    np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-5 * max(1.0, np.abs(ref).max()))


def test_default_convnet_of_striate_train_round_trip(rng, tmp_path):
    model = create_model("convnet", num_classes=10, input_shape=(1, 8, 8)).eval()
    x = striate.tensor(rng.standard_normal((4, 1, 8, 8)).astype(np.float32))
    path = tmp_path / "convnet.onnx"
    striate.onnx.export(model, (x,), str(path))
    onnx.checker.check_model(str(path))
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = sess.run(None, {sess.get_inputs()[0].name: x.array})[0]
    with striate.no_grad():
        np.testing.assert_allclose(got, model(x).array, rtol=1e-4, atol=1e-5)


def test_char_rnn_round_trip_all_outputs(rng):
    from striate.models.charnn import CharRNN

    m = CharRNN(20, 8, 16, num_layers=2).eval()
    idx = striate.tensor(rng.integers(0, 20, (2, 5)))
    proto = striate.onnx.export(m, idx, output_names=["logits", "h", "c"])
    ops = {n.op_type for n in proto.graph.node}
    assert "LSTM" in ops and "Gather" in ops
    got = _session(proto).run(None, {proto.graph.input[0].name: idx.array})
    logits, (h, c) = m(idx)
    for a, b in zip(got, (logits, h, c)):
        np.testing.assert_allclose(a, b.array, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("kind", ["lstm", "rnn", "attention"])
def test_captioning_models_scores_round_trip(kind, rng):
    from striate.caption.model import AttentionCaptioningModel, CaptioningModel

    if kind == "attention":
        m = AttentionCaptioningModel(12, (3, 16, 16), 8, 16, channels=(4, 8))
    else:
        m = CaptioningModel(12, (3, 16, 16), 8, 16, cell=kind, channels=(4, 8))
    m.eval()
    images = striate.tensor(rng.standard_normal((2, 3, 16, 16)).astype(np.float32))
    caps = striate.tensor(rng.integers(0, 12, (2, 4)))
    proto = striate.onnx.export(m.scores, (images, caps), input_names=["images", "captions"])
    got = _session(proto).run(None, {"images": images.array, "captions": caps.array})[0]
    with striate.no_grad():
        np.testing.assert_allclose(got, m.scores(images, caps).array, rtol=1e-4, atol=1e-5)


def test_recurrent_layers_with_initial_state_and_gru(rng):
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.gru = nn.GRU(3, 5, num_layers=2)
            self.lstm = nn.LSTM(5, 4, batch_first=True)

        def forward(self, x, h0):
            y, _ = self.gru(x, h0)
            z, (h, c) = self.lstm(y.transpose(0, 1))
            return z, h

    m = M().eval()
    x = striate.tensor(rng.standard_normal((6, 2, 3)).astype(np.float32))
    h0 = striate.tensor(rng.standard_normal((2, 2, 5)).astype(np.float32))
    proto = striate.onnx.export(m, (x, h0))
    got = _session(proto).run(None, {"input_0": x.array, "input_1": h0.array})
    z, h = m(x, h0)
    np.testing.assert_allclose(got[0], z.array, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(got[1], h.array, rtol=1e-4, atol=1e-5)


def test_unmapped_op_names_the_op_and_the_module():
    class Inner(nn.Module):
        def forward(self, x):
            return striate.cumsum(x, dim=1)

    m = nn.Sequential(nn.Linear(3, 3), Inner())
    with pytest.raises(striate.onnx.UnsupportedOperatorError,
                       match=r"op 'cumsum' \(Function Cumsum\) in module 1 has no ONNX mapping"):
        striate.onnx.export(m, striate.randn(2, 3))


def test_bad_arguments():
    m = nn.Linear(3, 2)
    with pytest.raises(ValueError, match="opset_version must be 17 or newer"):
        striate.onnx.export(m, striate.randn(1, 3), opset_version=11)
    with pytest.raises(ValueError, match="2 input_names for 1 inputs"):
        striate.onnx.export(m, striate.randn(1, 3), input_names=["a", "b"])


@pytest.mark.parametrize("cls", ["LSTM", "GRU", "RNN"])
def test_bidirectional_recurrent_layers(cls, rng):
    m = getattr(nn, cls)(3, 4, num_layers=2, bidirectional=True, batch_first=True).eval()
    x = striate.tensor(rng.standard_normal((2, 5, 3)).astype(np.float32))
    got = _session(striate.onnx.export(m, x)).run(None, {"input_0": x.array})
    out, state = m(x)
    ref = [out, *(state if isinstance(state, tuple) else (state,))]
    for a, b in zip(got, ref):
        np.testing.assert_allclose(a, b.array, rtol=1e-4, atol=1e-5)


def test_missing_onnx_extra_is_one_line_naming_the_extra(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "onnx", None)  # as if not installed
    with pytest.raises(ImportError, match=r'onnx.export needs onnx: pip install "striate\[onnx\]"'):
        striate.onnx.export(nn.Linear(2, 2), striate.randn(1, 2))


@pytest.mark.parametrize("per_channel,symmetric", [(True, True), (False, False), (True, False)])
def test_int8_model_exports_in_qdq_form_and_round_trips(per_channel, symmetric):
    from striate.compress import quantize_model

    rng = np.random.default_rng(5)
    striate.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Flatten(),
                        nn.Linear(256, 10))
    x = striate.tensor(rng.standard_normal((6, 1, 8, 8)).astype(np.float32))
    q = quantize_model(net, [x], per_channel=per_channel, symmetric=symmetric).eval()
    want = q(x).array  # the integer kernels' output
    buf = io.BytesIO()
    striate.onnx.export(q, x, buf)
    proto = onnx.load_from_string(buf.getvalue())
    ops = [n.op_type for n in proto.graph.node]
    assert ops.count("QuantizeLinear") == 2 and ops.count("DequantizeLinear") == 4
    weights = {i.name: i for i in proto.graph.initializer}
    assert sum(w.data_type == onnx.TensorProto.INT8 and len(w.dims) > 1
               for w in weights.values()) == 2  # the weights travel as int8
    tol = 1e-6 * np.abs(want).max()
    got = _session(proto).run(None, {proto.graph.input[0].name: x.array})[0]
    np.testing.assert_allclose(got, want, atol=tol, rtol=1e-5)
    back = striate.onnx.load_model(io.BytesIO(buf.getvalue()))
    np.testing.assert_allclose(back(x).array, want, atol=tol, rtol=1e-5)


def test_winograd_convolutions_export_as_conv():
    from striate.compress import use_winograd

    rng = np.random.default_rng(6)
    striate.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 3, 3, bias=False))
    use_winograd(net, "always", tile=4)
    x = striate.tensor(rng.standard_normal((2, 2, 9, 9)).astype(np.float32))
    buf = io.BytesIO()
    striate.onnx.export(net, x, buf)
    proto = onnx.load_from_string(buf.getvalue())
    assert [n.op_type for n in proto.graph.node] == ["Conv", "Relu", "Conv"]
    got = _session(proto).run(None, {proto.graph.input[0].name: x.array})[0]
    np.testing.assert_allclose(got, net(x).array, atol=1e-4, rtol=1e-4)
