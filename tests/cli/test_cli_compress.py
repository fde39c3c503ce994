"""`striate compress`, `striate attack` and `striate train --adversarial`, end to end on the
bundled digits with tiny runs. Every compressed run goes back through `striate eval`, which must
measure the accuracy its compress report wrote."""

import json

import numpy as np
import pytest

from striate.cli import main
from striate.train import load
from striate.train.runs import load_run


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    for model in ("lenet300_100", "twolayer"):
        assert main(["train", "--model", model, "--epochs", "2", "--out", str(out), "--name",
                     model, "--no-progress"]) == 0
    return {p.name.split("-")[-1]: p for p in out.iterdir()}


def _new(folder, before):
    (new,) = set(folder.iterdir()) - before
    return new


def _eval_matches_report(folder, capsys) -> dict:
    """`striate eval` of a compressed run folder prints the accuracy its report holds."""
    report = json.loads((folder / "report.json").read_text())
    capsys.readouterr()
    assert main(["eval", str(folder)]) == 0
    assert f"accuracy {100 * report['after']['accuracy']:.2f}%" in capsys.readouterr().out
    return report


def test_deep_compression_writes_a_loadable_smaller_run(runs, tmp_path, capsys):
    rc = main(["compress", "deep-compression", str(runs["lenet300_100"]), "--out", str(tmp_path),
               "--epochs", "1", "--steps", "2", "--centroid-epochs", "1", "--no-progress"])
    assert rc == 0
    (folder,) = tmp_path.iterdir()
    report = json.loads((folder / "report.json").read_text())
    assert [s["stage"] for s in report["stages"]] == ["dense", "pruned", "quantized", "huffman"]
    assert report["after"]["bytes"] == report["stages"][-1]["bytes"] < report["before"]["bytes"]
    huff = (folder / "weights.huffman").stat().st_size
    assert 0 < huff < report["after"]["bytes"]  # the layers' bytes; biases are counted apart
    assert "huffman" in capsys.readouterr().out
    _eval_matches_report(folder, capsys)
    state = load(folder / "checkpoint_best.npz")["model"]
    zeros = [(np.asarray(state[f"{k}.weight"]) == 0).mean() for k in (1, 3, 5)]
    assert zeros == pytest.approx([0.8, 0.95, 0.7], abs=0.01)  # the per-layer defaults


@pytest.mark.parametrize("argv", [["prune", "--sparsity", "0.5", "--steps", "1"],
                                  ["prune", "--sparsity", "0.5", "--steps", "1", "--structured"],
                                  ["dsd", "--sparsity", "0.5"]])
def test_prune_and_dsd(runs, tmp_path, argv, capsys):
    rc = main(["compress", argv[0], str(runs["twolayer"]), *argv[1:], "--epochs", "1",
               "--out", str(tmp_path), "--no-progress"])
    assert rc == 0
    (folder,) = tmp_path.iterdir()
    report = _eval_matches_report(folder, capsys)
    if "--structured" in argv:  # the hidden units are gone, not zeroed
        s = report["structured"]
        assert s["layers"] == [{"layer": "1", "channels_before": 100, "channels_after": 50}]
        assert np.asarray(load(folder / "checkpoint_best.npz")["model"]["3.weight"]).shape == \
            (10, 50)
        assert s["removed"]["parameters"] < 0.55 * s["zeroed"]["parameters"]
        assert s["max_output_difference"] < 1e-5 and s["kept_whole"] == {
            "3": "its output is the model's output"}
        assert report["after"]["bytes"] < 0.55 * report["before"]["bytes"]
    elif argv[0] == "prune":
        assert report["after"]["sparsity"] > 0.4 and report["after"]["bytes"] < \
            report["before"]["bytes"]
    else:
        assert report["after"]["sparsity"] < 0.1 and "sparse_accuracy" in report
    assert (folder / "report.md").exists()


def test_attack_reports_a_robustness_curve_and_transfer(runs, tmp_path, capsys):
    rc = main(["attack", "fgsm", str(runs["lenet300_100"]), "--eps", "0", "0.3", "--transfer",
               str(runs["twolayer"]), "--limit", "60", "--out", str(tmp_path)])
    assert rc == 0
    (folder,) = tmp_path.iterdir()
    rows = json.loads((folder / "report.json").read_text())["results"]
    assert rows[1]["accuracy"] < rows[0]["accuracy"]
    assert (folder / "robustness.png").exists() and (folder / "examples.png").exists()
    rc = main(["attack", "pgd", str(runs["lenet300_100"]), "--eps", "0.5", "--steps", "5",
               "--target", "3", "--limit", "40", "--out", str(tmp_path / "t")])
    assert rc == 0
    assert "reaches class 3" in capsys.readouterr().out


def test_attack_rejects_a_bad_target(runs, capsys):
    assert main(["attack", "fgsm", str(runs["twolayer"]), "--target", "12"]) == 2
    assert "--target must be a class index in [0, 10), got 12" in capsys.readouterr().err


def test_train_adversarial_records_its_settings(tmp_path):
    rc = main(["train", "--model", "twolayer", "--epochs", "1", "--adversarial", "pgd",
               "--adv-eps", "0.1", "--adv-steps", "2", "--out", str(tmp_path), "--no-progress"])
    assert rc == 0
    (folder,) = tmp_path.iterdir()
    config = json.loads((folder / "config.json").read_text())
    assert config["adversarial"] == {"method": "pgd", "eps": 0.1, "steps": 2, "mix": None}


@pytest.mark.parametrize("argv", [["quantize"], ["quantize", "--per-tensor", "--asymmetric"],
                                  ["qat"]])
def test_quantize_and_qat_write_int8_runs_that_load(runs, tmp_path, argv, capsys):
    rc = main(["compress", *argv, str(runs["twolayer"]), "--epochs", "1", "--out",
               str(tmp_path / "q"), "--no-progress"])
    assert rc == 0
    (folder,) = (tmp_path / "q").iterdir()
    report = _eval_matches_report(folder, capsys)  # evaluated with the int8 kernels
    assert report["after"]["bytes"] < 0.3 * report["before"]["bytes"]
    assert abs(report["after"]["accuracy"] - report["before"]["accuracy"]) < 0.05
    state = load(folder / "checkpoint_best.npz")["model"]
    assert np.asarray(state["1.weight_int8"]).dtype == np.int8
    assert np.asarray(state["3.weight_scale"]).size == (1 if "--per-tensor" in argv else 10)
    if argv == ["quantize"]:  # an attack differentiates the int8 model (straight through)
        assert main(["attack", "fgsm", str(folder), "--eps", "0", "0.3", "--limit", "40",
                     "--out", str(tmp_path / "a")]) == 0
        (attack,) = (tmp_path / "a").iterdir()
        rows = json.loads((attack / "report.json").read_text())["results"]
        assert rows[1]["accuracy"] < rows[0]["accuracy"]


def test_lowrank_factorises_and_fine_tunes(runs, tmp_path, capsys):
    rc = main(["compress", "lowrank", str(runs["lenet300_100"]), "--rank", "0.25", "--epochs",
               "1", "--out", str(tmp_path), "--no-progress"])
    assert rc == 0
    (folder,) = tmp_path.iterdir()
    report = _eval_matches_report(folder, capsys)
    assert report["after"]["bytes"] < 0.5 * report["before"]["bytes"]
    model = load_run(folder).model
    assert model[1][0].out_features == 16 and model[1][1].in_features == 16


@pytest.mark.parametrize("method", ["binary", "ternary"])
def test_binary_and_ternary_write_plain_low_bit_weights(runs, tmp_path, method, capsys):
    rc = main(["compress", method, str(runs["lenet300_100"]), "--epochs", "1", "--out",
               str(tmp_path), "--no-progress"])
    assert rc == 0
    (folder,) = tmp_path.iterdir()
    w = np.asarray(load(folder / "checkpoint_best.npz")["model"]["3.weight"])
    if method == "binary":
        assert len(np.unique(np.abs(w[0]))) == 1  # +-alpha of the row
    else:
        assert len(np.unique(w)) <= 3  # -W_n, 0, +W_p
    _eval_matches_report(folder, capsys)


def test_distill_trains_a_half_width_student(runs, tmp_path, capsys):
    rc = main(["compress", "distill", str(runs["lenet300_100"]), "--epochs", "1", "--out",
               str(tmp_path), "--no-progress"])
    assert rc == 0
    (folder,) = tmp_path.iterdir()
    report = _eval_matches_report(folder, capsys)
    assert load_run(folder).model[1].out_features == 150
    assert report["settings"]["hidden"] == [150, 50]
    assert report["after"]["bytes"] < 0.6 * report["before"]["bytes"]
    assert report["after"]["accuracy"] > 0.5


def test_distill_with_a_transfer_set(runs, tmp_path):
    rc = main(["compress", "distill", str(runs["lenet300_100"]), "--epochs", "1", "--labelled",
               "0.1", "--out", str(tmp_path), "--no-progress"])
    assert rc == 0
    (folder,) = tmp_path.iterdir()
    assert json.loads((folder / "report.json").read_text())["settings"]["labelled"] == 0.1
    with pytest.raises(SystemExit) as e:
        main(["compress", "distill", str(runs["lenet300_100"]), "--labelled", "0"])
    assert e.value.code == 2


@pytest.mark.parametrize("mode", ["auto", "always"])
def test_train_winograd_records_its_mode_and_trains(tmp_path, mode):
    rc = main(["train", "--model", "convnet", "--epochs", "1", "--winograd", mode, "--out",
               str(tmp_path), "--no-progress"])
    assert rc == 0
    (folder,) = tmp_path.iterdir()
    assert json.loads((folder / "config.json").read_text())["winograd"] == mode
    # it learned through the Winograd convolutions
    assert json.loads((folder / "test_metrics.json").read_text())["accuracy"] > 0.5
