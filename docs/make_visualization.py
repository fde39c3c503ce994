"""Make the pictures and numbers of docs/visualization.md (rerunnable by anyone, ~10 minutes on
2 cores): trains the digits ConvNet with `striate train`, runs every `striate visualize` tool,
and copies the PNGs to docs/img/vis/ and the numbers to docs/img/vis/numbers.json.

    python docs/make_visualization.py [--quick] [--only fool,invert_deep,...]

``--only`` reruns the named entries and updates their numbers in numbers.json, keeping the rest.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

from striate.cli import main

ROOT = Path(__file__).resolve().parents[1]
IMG = ROOT / "docs" / "img" / "vis"
# the course notebook's style image, beside the repository where it is; else a sample photo
STARRY = next((p for p in (ROOT / "../shared/cs231n-checks/starry_night.jpg",
                           ROOT / "../../shared/cs231n-checks/starry_night.jpg") if p.exists()),
              None)


def _shrink(path: Path, width: int = 640) -> None:
    """Keep the page light: photographs wider than ``width`` are halved, and colour pictures
    are stored with a 256-colour palette."""
    from PIL import Image

    with Image.open(path) as im:
        im.load()
    if im.width > width:
        im = im.resize((im.width // 2, im.height // 2), Image.BILINEAR)
    if im.mode in ("RGB", "RGBA"):
        im = im.convert("RGB").quantize(256)
    im.save(path, optimize=True)


def run(out: Path, argv: list, copy: dict) -> dict:
    """One command; its PNGs copied as ``copy`` says ({file in run folder: name in docs})."""
    print("$ striate " + " ".join(str(a) for a in argv), flush=True)
    t0 = time.perf_counter()
    assert main([*map(str, argv), "--out", str(out), "--no-progress"]) == 0
    folder = max(out.iterdir(), key=lambda p: p.stat().st_mtime)
    for src, dst in copy.items():
        shutil.copy(folder / src, IMG / dst)
        _shrink(IMG / dst)
    numbers = json.loads((folder / "numbers.json").read_text()) if (
        folder / "numbers.json").exists() else {}
    numbers["seconds"] = round(time.perf_counter() - t0, 1)
    shown = {str(STARRY): "starry_night.jpg"}
    numbers["command"] = "striate " + " ".join(
        "RUN" if str(a).startswith(str(out.parent)) else shown.get(str(a), str(a)) for a in argv)
    return numbers


def main_(quick: bool = False, only: set | None = None) -> None:
    IMG.mkdir(parents=True, exist_ok=True)
    style = str(STARRY) if STARRY else "coffee"
    saved = IMG / "numbers.json"
    results = json.loads(saved.read_text()) if only and saved.exists() else {}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        runs = out / "runs"
        # the same seed and epochs: the same model on every run (and with --only)
        assert main(["train", "--epochs", "10", "--out", str(runs), "--name", "convnet",
                     "--no-progress"]) == 0
        (model,) = runs.iterdir()
        vis = out / "vis"
        tools = {
            "filters": (["filters"], {"filters.png": "filters.png"}),
            "activations": (["activations", "--layer", "features.2"],
                            {"activations.png": "activations.png", "input.png": "input.png"}),
            "neighbors": (["neighbors"], {"neighbors.png": "neighbors.png",
                                          "neighbors_pixels.png": "neighbors_pixels.png"}),
            "tsne": (["tsne", "--count", "359"], {"tsne.png": "tsne.png", "pca.png": "pca.png"}),
            "patches": (["patches", "--layer", "features.6", "--channel", "0", "--count", "16"],
                        {"patches.png": "patches.png"}),
            "occlusion": (["occlusion", "--count", "6"], {"occlusion.png": "occlusion.png"}),
            "saliency": (["saliency", "--count", "359"], {}),
            "guided": (["guided", "--count", "359"], {}),
            "saliency_picture": (["saliency", "--count", "8"], {"saliency.png": "saliency.png"}),
            "guided_picture": (["guided", "--count", "8"], {"guided.png": "guided.png"}),
            "classviz": (["classviz", "--clip-grad", "0.1", "--clip-pixels", "0.1"],
                         {"classviz.png": "classviz.png"}),
            "fool": (["fool", "--count", "20"], {"fool.png": "fool.png"}),
        }
        for key, (argv, copy) in tools.items():
            if only and key not in only:
                continue
            argv = [argv[0], model, *argv[1:]]
            results[key] = run(vis, ["visualize", *argv], copy)
        size = "64" if quick else "128"
        iters = "10" if quick else "50"
        synth = {
            "texture": (["texture", "random", style, "--size", size, "--iterations", iters],
                        {"texture.png": "texture.png", "loss.png": "texture_loss.png"}),
            "style": (["style", "random", "chelsea", style, "--size", size, "--iterations",
                       iters], {"style.png": "style.png", "loss.png": "style_loss.png"}),
            "style_adam": (["style", "random", "chelsea", style, "--size", size, "--iterations",
                            "100", "--optimizer", "adam"], {}),
            "dream": (["dream", "random", "coffee", "--size", size, "--iterations", "10"],
                      {"dream.png": "dream.png"}),
            "invert_shallow": (["invert", "random", "astronaut", "--size", size, "--layer", "1",
                                "--iterations", iters], {"invert.png": "invert_relu1.png"}),
            "invert_deep": (["invert", "random", "astronaut", "--size", size, "--layer", "7",
                             "--iterations", iters], {"invert.png": "invert_relu3.png"}),
            "faststyle": (["faststyle", "random", style, "--size", size, "--steps",
                           "30" if quick else "300", "--iterations", iters],
                          {"faststyle.png": "faststyle.png", "loss.png": "faststyle_loss.png"}),
        }
        for key, (argv, copy) in synth.items():
            if only and key not in only:
                continue
            results[key] = run(vis, ["visualize", *argv], copy)
    (IMG / "numbers.json").write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    only = None
    if "--only" in sys.argv:
        only = set(sys.argv[sys.argv.index("--only") + 1].split(","))
    main_(quick="--quick" in sys.argv, only=only)
