"""striate.train.transfer: freezing, head replacement, parameter groups, backbone loading."""

import numpy as np
import pytest

import striate
from striate import functional as F
from striate import nn, optim
from striate.models import create_model
from striate.train import Trainer, freeze, load_backbone, param_groups, replace_head, unfreeze
from striate.train.transfer import head_name, trainable_parameters


def _convnet(k=10):
    striate.manual_seed(0)
    return create_model("convnet", num_classes=k, input_shape=(1, 8, 8))


def _xy(n=16, k=10):
    rng = np.random.default_rng(0)
    return (striate.tensor(rng.random((n, 1, 8, 8)).astype(np.float32)),
            striate.tensor(rng.integers(0, k, n)))


def test_freeze_makes_grads_none_and_the_optimizer_skips_them():
    model = _convnet()
    x, y = _xy()
    F.cross_entropy(model(x), y).backward()  # stale gradients from before freezing
    n = freeze(model, exclude="head")
    assert n == len(list(model.parameters())) - 2
    frozen = [p for name, p in model.named_parameters() if not name.startswith("head")]
    assert all(p.grad is None and not p.requires_grad for p in frozen)
    before = {name: p.array.copy() for name, p in model.named_parameters()}
    opt = optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
    for _ in range(2):
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        assert all(p.grad is None for p in frozen)
        opt.step()
    for name, p in model.named_parameters():
        changed = not np.array_equal(before[name], p.array)
        assert changed == name.startswith("head"), name
    assert all(p not in opt.state or not opt.state[p] for p in frozen)
    assert unfreeze(model, only="features.0") == 2
    assert [n for n, p in model.named_parameters() if p.requires_grad] == [
        "features.0.weight", "features.0.bias", "head.weight", "head.bias"]
    assert len(trainable_parameters(model)) == 4


def test_freeze_rejects_unknown_names():
    with pytest.raises(ValueError, match="no parameter is named 'backbone'"):
        freeze(_convnet(), only="backbone")


def test_replace_head_on_a_module_and_a_sequential():
    model = _convnet()
    freeze(model)
    assert replace_head(model, 3) == "head"
    x, _ = _xy()
    assert model(x).shape == (16, 3)
    assert [n for n, p in model.named_parameters() if p.requires_grad] == ["head.weight",
                                                                           "head.bias"]
    assert np.abs(model.head.weight.array).max() < 0.1  # small init: loss starts near log K
    mlp = nn.Sequential(nn.Flatten(), nn.Linear(64, 20), nn.ReLU(), nn.Linear(20, 10))
    assert head_name(mlp) == "3"
    replace_head(mlp, 4)
    assert mlp(x).shape == (16, 4) and mlp[3].out_features == 4
    with pytest.raises(ValueError, match="no nn.Linear"):
        replace_head(nn.Sequential(nn.ReLU()), 2)
    with pytest.raises(ValueError, match="num_classes"):
        replace_head(mlp, 0)


def test_param_groups_split_head_backbone_and_prefixes():
    model = _convnet()
    groups = param_groups(model, {"backbone": 1e-4, "head": 1e-2})
    assert [g["lr"] for g in groups] == [1e-4, 1e-2]
    assert len(groups[1]["params"]) == 2 and groups[1]["params"][0] is model.head.weight
    total = sum(len(g["params"]) for g in groups)
    assert total == len(list(model.parameters()))
    groups = param_groups(model, {"features.0": {"lr": 0.3, "momentum": 0.0}, "backbone": 0.1,
                                  "head": 0.2})
    assert [len(g["params"]) for g in groups] == [2, total - 4, 2]
    opt = optim.SGD(groups, lr=1.0, momentum=0.9)
    assert [g["lr"] for g in opt.param_groups] == [0.3, 0.1, 0.2]
    freeze(model, exclude="head")
    groups = param_groups(model, {"backbone": 1e-4, "head": 1e-2})
    assert len(groups) == 1 and groups[0]["lr"] == 1e-2  # frozen parameters are left out
    with pytest.raises(ValueError, match="no parameter lies under 'nope'"):
        param_groups(model, {"nope": 0.1})


def test_load_backbone_loads_matching_keys_and_reports_skipped(tmp_path):
    old = _convnet(10)
    opt = optim.SGD(old.parameters(), lr=0.1)
    trainer = Trainer(old, opt, progress=False, log=False)
    trainer.save_checkpoint(tmp_path / "ckpt.npz")
    striate.manual_seed(1)
    new = create_model("convnet", num_classes=3, input_shape=(1, 8, 8))
    report = load_backbone(new, tmp_path / "ckpt.npz")
    assert report.skipped == {"head.weight": "excluded", "head.bias": "excluded"}
    assert "head.weight" in report.missing and "features.0.weight" in report.loaded
    for name, t in old.state_dict().items():
        same = np.array_equal(t.array, new.state_dict()[name].array) if not \
            name.startswith("head") else None
        assert same in (True, None), name
    # without excluding the head, the shapes tell: the old 10-class head does not fit
    report = load_backbone(new, trainer.state_dict(), exclude=())
    assert report.skipped["head.weight"].startswith("shape (10, 128) vs model (3, 128)")
    state = dict(old.state_dict())
    state["extra.weight"] = np.zeros(3)
    report = load_backbone(new, state)
    assert report.skipped["extra.weight"] == "not in model"
    assert "skipped" in str(report)
    with pytest.raises(TypeError, match="checkpoint must be"):
        load_backbone(new, 3)
