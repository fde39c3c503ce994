"""train.architecture: a run records the layers that differ from the zoo's model, and rebuilds
exactly the compressed model from that record and its weights."""

import json

import numpy as np
import pytest

import striate
from striate import compress, nn
from striate.models import create_model
from striate.train.architecture import (
    apply_architecture,
    architecture_changes,
    build_model,
    module_spec,
)


def _rebuilt(config, model, shape):
    """The model ``build_model`` makes from ``config`` + the recorded changes, with
    ``model``'s weights loaded (the record goes through JSON, as in a checkpoint)."""
    base = build_model(config, 10, shape)
    record = json.loads(json.dumps(architecture_changes(base, model)))
    fresh = build_model(dict(config, replaced_modules=record), 10, shape)
    fresh.load_state_dict(model.state_dict())
    return fresh.eval(), record


def test_low_rank_layers_are_recorded_and_rebuilt(rng):
    config = {"model": "lenet300_100"}
    model = compress.low_rank(build_model(config, 10, (1, 8, 8)), rank=0.25).eval()
    fresh, record = _rebuilt(config, model, (1, 8, 8))
    assert sorted(record) == ["1", "3"] and record["1"]["type"] == "Sequential"
    assert [c["out_features"] for c in record["1"]["children"]] == [16, 300]
    x = striate.tensor(rng.standard_normal((4, 1, 8, 8)).astype(np.float32))
    np.testing.assert_array_equal(fresh(x).array, model(x).array)


def test_int8_layers_and_folded_norms_are_recorded_and_rebuilt(rng):
    config = {"model": "convnet", "model_kwargs": {"channels": [4, 6]}}
    model = build_model(config, 10, (1, 8, 8))
    xs = [striate.tensor(rng.standard_normal((8, 1, 8, 8)).astype(np.float32))
          for _ in range(2)]
    compress.quantize_model(model, xs, per_channel=False, symmetric=False)
    fresh, record = _rebuilt(config, model, (1, 8, 8))
    assert record["features.1"] == {"type": "Identity"}
    assert record["features.0"]["type"] == "QuantizedConv2d"
    assert record["head"]["per_channel"] is False and record["head"]["symmetric"] is False
    assert fresh.head.weight_int8.array.dtype == np.int8
    np.testing.assert_array_equal(fresh(xs[1]).array, model(xs[1]).array)


def test_unchanged_model_records_nothing_and_kwargs_build_the_student():
    config = {"model": "mlp", "model_kwargs": {"hidden": [5, 3], "batch_norm": False}}
    model = build_model(config, 10, (1, 4, 4))
    assert [m.out_features for m in model.modules() if isinstance(m, nn.Linear)] == [5, 3, 10]
    assert architecture_changes(build_model(config, 10, (1, 4, 4)), model) == {}


def test_a_layer_the_record_does_not_know_is_refused():
    base = create_model("twolayer", 10, (1, 4, 4))
    model = create_model("twolayer", 10, (1, 4, 4))
    model[2] = nn.Tanh()
    with pytest.raises(ValueError, match="module_spec: cannot record a Tanh"):
        architecture_changes(base, model)
    with pytest.raises(ValueError, match="build_module: unknown module type 'Winograd'"):
        apply_architecture(base, {"1": {"type": "Winograd"}})


def test_module_spec_round_trips_a_conv():
    conv = nn.Conv2d(3, 5, (3, 1), stride=(2, 1), padding=(1, 0), bias=False)
    spec = module_spec(conv)
    assert spec["kernel_size"] == [3, 1] and spec["bias"] is False
    again = apply_architecture(nn.Sequential(nn.Identity()), {"0": spec})[0]
    assert module_spec(again) == spec
