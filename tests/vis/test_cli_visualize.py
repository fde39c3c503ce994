"""``striate visualize``: each tool writes its pictures and numbers; user errors are one line."""

from __future__ import annotations

import json

import pytest

from striate.cli import main


def _tool(tmp_path, *argv):
    out = tmp_path / "out"
    assert main(["visualize", *argv, "--out", str(out), "--no-progress"]) == 0
    (folder,) = out.iterdir()
    return folder, json.loads((folder / "numbers.json").read_text())


@pytest.mark.parametrize("argv, pngs", [
    (["filters"], ["filters.png"]),
    (["activations", "--layer", "features.2"], ["activations.png", "input.png"]),
    (["neighbors", "--count", "3"], ["neighbors.png", "neighbors_pixels.png"]),
    (["tsne", "--count", "30", "--method", "pca"], ["pca.png"]),
    (["patches", "--layer", "features.2", "--count", "4"], ["patches.png"]),
    (["occlusion", "--count", "2"], ["occlusion.png"]),
    (["saliency", "--count", "5"], ["saliency.png"]),
    (["guided", "--count", "5"], ["guided.png"]),
    (["classviz", "--class", "2", "--iterations", "5"], ["classviz.png"]),
    (["fool", "--count", "3"], ["fool.png"]),
])
def test_model_tools_write_their_pictures(tmp_path, digits_run, argv, pngs):
    folder, numbers = _tool(tmp_path, argv[0], str(digits_run), *argv[1:])
    for name in pngs:
        assert (folder / name).stat().st_size > 100
    if argv[0] == "fool":
        assert numbers["fooled"] == 3 and numbers["max_abs_delta"] > 0
    if argv[0] in ("saliency", "guided"):
        assert numbers["stroke_ratio"] > 1
    if argv[0] == "patches":
        assert numbers["receptive_field"] == [3, 3]  # features.2: the ReLU after the first conv


def test_tools_take_image_files(tmp_path, digits_run):
    from striate.vis import load_image, save_png

    save_png(tmp_path / "digit.png", 1 - load_image("flower", (8, 8), channels=1))
    folder, numbers = _tool(tmp_path, "saliency", str(digits_run), str(tmp_path / "digit.png"))
    assert numbers["images"] == 1


@pytest.mark.parametrize("tool, images, extra", [
    ("style", ["china", "flower"], ["--iterations", "3"]),
    ("texture", ["flower"], ["--iterations", "3"]),
    ("dream", ["china"], ["--iterations", "2", "--octaves", "2"]),
    ("invert", ["china"], ["--iterations", "3"]),
])
def test_synthesis_tools_on_the_random_extractor(tmp_path, tool, images, extra):
    folder, numbers = _tool(tmp_path, tool, "random", *images, "--size", "16", *extra)
    assert (folder / f"{tool}.png").stat().st_size > 100
    if tool == "style":
        assert numbers["loss_last"] < numbers["loss_first"]
        assert numbers["final_is_lowest"]


@pytest.mark.parametrize("argv, message", [
    (["filters", "{tmp}/nowhere"], "no such run folder or checkpoint"),
    (["filters", "{tmp}"], "is a folder without checkpoint_best.npz"),
    (["saliency", "{run}", "{tmp}/bad.png"], "cannot read image"),
    (["activations", "{run}", "--layer", "conv9"], "its layers are: features, features.0"),
    (["classviz", "{run}", "--class", "10"], "--class 10 is out of range: the model has 10"),
    (["style", "random", "china"], "style needs a content and a style image"),
    (["dream", "{run}", "china"], "takes 1-channel images"),
])
def test_user_errors_are_one_line(tmp_path, digits_run, capsys, argv, message):
    (tmp_path / "bad.png").write_text("not an image")
    argv = [a.format(tmp=tmp_path, run=digits_run) for a in argv]
    assert main(["visualize", *argv, "--out", str(tmp_path / "out"), "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("striate visualize: error:") and "\n" not in err
    assert message in err
    assert not (tmp_path / "out").exists()  # no run folder for a failed command
