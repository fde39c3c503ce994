"""``striate caption`` and ``striate vqa`` on tiny settings."""

import json

import pytest

from striate.cli import main

TINY = ["--n-train", "24", "--n-val", "6", "--n-test", "6", "--epochs", "1", "--hidden", "16",
        "--channels", "4,8,8"]


def _run_folder(out):
    (run,) = [p for p in out.iterdir() if p.is_dir()]
    return run


def test_caption_train_sample_evaluate_attention(tmp_path, capsys):
    out = tmp_path / "runs"
    assert main(["caption", "train", "--attention", "--wordvec", "8", "--val-images", "6",
                 "--out", str(out), *TINY]) == 0
    run = _run_folder(out)
    for name in ("config.json", "metrics.csv", "checkpoint_best.npz", "checkpoint_last.npz",
                 "test_metrics.json", "samples.txt", "attention.png", "loss.png"):
        assert (run / name).is_file(), name
    metrics = json.loads((run / "test_metrics.json").read_text())
    assert 0.0 <= metrics["bleu4"] <= metrics["bleu1"] <= 1.0
    assert "attention_on_named_shape" in metrics
    capsys.readouterr()
    (run / "attention.png").unlink()
    assert main(["caption", "sample", str(run), "--beam", "2", "--n", "3"]) == 0
    text = capsys.readouterr().out
    assert "beam 2" in text and text.count("reference:") == 3
    assert (run / "attention.png").is_file()
    assert main(["caption", "evaluate", str(run)]) == 0
    assert "BLEU-4" in capsys.readouterr().out


def test_caption_train_rnn_cell(tmp_path, capsys):
    out = tmp_path / "runs"
    assert main(["caption", "train", "--cell", "rnn", "--val-images", "6", "--out", str(out),
                 *TINY]) == 0
    run = _run_folder(out)
    assert json.loads((run / "config.json").read_text())["cell"] == "rnn"
    assert not (run / "attention.png").exists()
    assert main(["caption", "evaluate", str(run), "--beam", "2", "--split", "val"]) == 0
    assert "val split, 6 images, beam 2" in capsys.readouterr().out


def test_caption_errors(tmp_path, capsys):
    assert main(["caption", "train", "--data", "imagenet", "--out", str(tmp_path)]) == 2
    assert "unknown --data 'imagenet'" in capsys.readouterr().err
    assert main(["caption", "train", "--data", f"coco:{tmp_path / 'no.json'}:{tmp_path}",
                 "--out", str(tmp_path)]) == 2
    assert "annotations file not found" in capsys.readouterr().err
    assert main(["caption", "train", "--attention", "--cell", "rnn"]) == 2
    assert "LSTM" in capsys.readouterr().err
    assert main(["caption", "sample", str(tmp_path / "missing")]) == 2
    assert "no such run folder" in capsys.readouterr().err


def test_caption_on_coco_format_files(tmp_path, capsys):
    import numpy as np
    from PIL import Image

    folder = tmp_path / "images"
    folder.mkdir()
    images, anns = [], []
    for i in range(10):
        Image.fromarray(np.full((12, 12, 3), 20 * i, dtype=np.uint8)).save(folder / f"{i}.jpg")
        images.append({"id": i, "file_name": f"{i}.jpg"})
        anns.append({"image_id": i, "caption": "a dark square" if i < 7 else "a light square"})
    ann = tmp_path / "captions.json"
    ann.write_text(json.dumps({"images": images, "annotations": anns}))
    out = tmp_path / "runs"
    assert main(["caption", "train", "--data", f"coco:{ann}:{folder}", "--image-size", "16",
                 "--epochs", "1", "--hidden", "8", "--channels", "4", "--out", str(out)]) == 0
    run = _run_folder(out)
    words = json.loads((run / "config.json").read_text())["vocab"]["words"]
    assert words == ["a", "dark", "square"]  # "light" is too rare in the training split
    capsys.readouterr()
    assert main(["caption", "sample", str(run), "--n", "2"]) == 0
    assert "reference: a light square" in capsys.readouterr().out


def test_vqa_train_and_evaluate(tmp_path, capsys):
    out = tmp_path / "runs"
    assert main(["vqa", "train", "--n-train", "24", "--n-val", "6", "--n-test", "6",
                 "--epochs", "1", "--hidden", "16", "--out", str(out)]) == 0
    assert "test accuracy" in capsys.readouterr().out
    run = _run_folder(out)
    result = json.loads((run / "test_metrics.json").read_text())
    assert 0.0 <= result["accuracy"] <= 1.0
    assert main(["vqa", "evaluate", str(run)]) == 0
    assert f"{100 * result['accuracy']:.2f}%" in capsys.readouterr().out
    # a VQA run is not a caption run
    assert main(["caption", "evaluate", str(run)]) == 2
    assert "not a striate caption checkpoint" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["caption"], ["vqa"]])
def test_subcommand_required(argv, capsys):
    with pytest.raises(SystemExit):
        main(argv)
