"""`striate generate`: train, resume, sample, interpolate, evaluate, and one-line errors."""

import json

import pytest

from striate.cli import main


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    out = tmp_path_factory.mktemp("generate")
    assert main(["generate", "vae", "train", "--epochs", "1", "--hidden", "16",
                 "--latent-dim", "2", "--probe-steps", "5", "--probe-draws", "1", "--quiet",
                 "--out", str(out / "runs")]) == 0
    assert main(["generate", "pixelcnn", "train", "--epochs", "1", "--channels", "8",
                 "--blocks", "1", "--quiet", "--out", str(out / "runs")]) == 0
    folders = {p.name.rsplit("-", 1)[-1]: p for p in (out / "runs").iterdir()}
    return out, folders["vae"], folders["pixelcnn"]


def test_train_writes_a_run_and_resumes_it(runs, capsys):
    out, vae, _ = runs
    config = json.loads((vae / "config.json").read_text())
    assert config["kind"] == "vae" and config["latent_dim"] == 2 and config["data"] == "digits"
    assert config["probe_steps"] == 5 and config["probe_draws"] == 1
    assert main(["generate", "vae", "train", "--resume", str(vae), "--epochs", "2",
                 "--quiet"]) == 0
    assert (vae / "samples_epoch002.png").exists()
    assert "run folder: " + str(vae) in capsys.readouterr().out


def test_sample_and_interpolate_write_grids(runs, tmp_path, capsys):
    _, vae, pixel = runs
    assert main(["generate", "sample", str(vae), "--n", "16"]) == 0
    assert (vae / "sample.png").exists()
    assert main(["generate", "interpolate", str(vae), "--rows", "2", "--steps", "4",
                 "-o", str(tmp_path / "i.png")]) == 0
    assert (tmp_path / "i.png").exists()
    assert main(["generate", "sample", str(pixel), "--n", "4", "-o",
                 str(tmp_path / "p.png"), "--npy", str(tmp_path / "p.npy")]) == 0
    assert (tmp_path / "p.npy").exists()
    assert "4 samples of pixelcnn" in capsys.readouterr().out


def _one_line_error(capsys, argv, text):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and text in err, err


def test_errors_are_one_line(runs, tmp_path, capsys):
    out, vae, pixel = runs
    _one_line_error(capsys, ["generate", "sample", str(tmp_path / "nope")],
                    "no such run folder or checkpoint")
    _one_line_error(capsys, ["generate", "sample", str(tmp_path)], "no generative run")
    _one_line_error(capsys, ["generate", "interpolate", str(pixel)],
                    "a pixelcnn model has no latent space")
    _one_line_error(capsys, ["generate", "dcgan", "train", "--resume", str(vae)],
                    f"{vae} is a vae run, not dcgan")
    _one_line_error(capsys, ["generate", "gan", "train", "--data", "nosuch", "--out",
                             str(tmp_path)], "unknown dataset 'nosuch'")


def test_evaluate_labels_samples_with_a_trained_classifier(runs, capsys):
    out, vae, _ = runs
    assert main(["train", "--model", "mlp", "--epochs", "1", "--no-progress", "--out",
                 str(out / "cls")]) == 0
    (cls,) = (out / "cls").iterdir()
    capsys.readouterr()
    assert main(["generate", "evaluate", str(vae), "--classifier", str(cls), "--n", "50"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["n"] == 50 and sum(result["class_counts"]) == 50
    assert 0.1 <= result["mean_confidence"] <= 1 and 0.1 <= result["top_class_share"] <= 1
    assert (vae / "evaluated_samples.png").exists()
