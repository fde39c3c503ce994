"""``striate detect|segment train --data coco:...|voc:...`` on tiny data sets written in the
official formats, then ``eval`` and ``predict`` with the run's classes; and the one-object commands
(``--model classify-localize``, ``--model keypoints``)."""

import json

from detection_files import write_coco, write_voc
from PIL import Image

from striate.cli import main

TINY = ["--epochs", "1", "--image-size", "32", "--no-progress"]
SYNTHETIC = ["--n-train", "8", "--n-val", "4", "--n-test", "4", *TINY]


def _run_folder(out):
    (run,) = [p for p in out.iterdir() if p.is_dir()]
    return run


def test_detect_on_coco_then_eval_and_predict(tmp_path, capsys):
    ann, images, _ = write_coco(tmp_path, n=10, empty=1)
    doc = json.loads(ann.read_text())
    names = {10: "ball", 20: "box", 30: "wedge"}  # the run's classes come from the file
    for c in doc["categories"]:
        c["name"] = names[c["id"]]
    ann.write_text(json.dumps(doc))
    out = tmp_path / "runs"
    data = ["--data", f"coco:{ann}", "--images", str(images)]
    assert main(["detect", "train", "--model", "yolo", *data, "--out", str(out), *TINY]) == 0
    text = capsys.readouterr().out
    assert "skipped 1 without objects" in text and "train 8, val 1, test 1 images" in text
    run = _run_folder(out)
    config = json.loads((run / "config.json").read_text())
    assert config["classes"] == ["background", "ball", "box", "wedge"]
    assert config["data"]["train"] == {"format": "coco", "annotations": str(ann.resolve()),
                                       "images": str(images.resolve())}
    assert (run / "predictions.png").is_file() and (run / "test_metrics.json").is_file()
    assert main(["detect", "eval", str(run), "--split", "train", "--no-progress"]) == 0
    assert "train split, 8 images" in capsys.readouterr().out
    assert main(["detect", "eval", str(run), *data, "--no-progress"]) == 0
    assert f"coco:{ann}, 10 images" in capsys.readouterr().out
    assert main(["detect", "predict", str(run), str(images / "im0.png"), "--threshold", "0"]) == 0
    printed = capsys.readouterr().out
    assert any(f"  {n} " in printed for n in ("ball", "box", "wedge"))
    assert (run / "predict" / "im0.png").is_file()
    # a category the model was not trained with; a missing image; no image folder
    doc["categories"].append({"id": 40, "name": "star"})
    doc["annotations"][2]["category_id"] = 40
    other = tmp_path / "other.json"
    other.write_text(json.dumps(doc))
    assert main(["detect", "eval", str(run), "--data", f"coco:{other}", "--images",
                 str(images), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "other.json: annotation 3: category 'star' (id 40) is not one of the 3 classes" in err
    assert len(err.strip().splitlines()) == 1
    # none of these scenes has exactly one object, what classification + localization needs
    assert main(["detect", "train", "--model", "classify-localize", *data, *TINY]) == 2
    assert "exactly one object; the train split has none (of 8 images)" in capsys.readouterr().err
    (images / "im4.png").unlink()
    assert main(["detect", "train", *data, "--out", str(out), *TINY]) == 2
    assert "instances.json: image 104 (im4.png): no image file" in capsys.readouterr().err
    assert main(["detect", "train", "--data", f"coco:{ann}", "--out", str(out), *TINY]) == 2
    assert "need the image folder too" in capsys.readouterr().err
    assert main(["detect", "train", "--images", str(images), "--out", str(out), *TINY]) == 2
    assert "--images read files: give --data" in capsys.readouterr().err


def test_detect_on_voc_with_its_image_sets(tmp_path, capsys):
    root = tmp_path / "VOCdevkit" / "VOC2007"
    write_voc(root, n=8, sets={"train": range(4), "val": [4, 5], "test": [6, 7]})
    out = tmp_path / "runs"
    assert main(["detect", "train", "--model", "faster-rcnn", "--data", f"voc:{root}", "--out",
                 str(out), *TINY]) == 0
    assert "train 4, val 2, test 2 images" in capsys.readouterr().out
    run = _run_folder(out)
    assert json.loads((run / "config.json").read_text())["data"]["train"]["format"] == "voc"
    assert main(["detect", "eval", str(run), "--no-progress"]) == 0
    assert "test split, 2 images" in capsys.readouterr().out
    assert main(["detect", "predict", str(run), str(root / "JPEGImages" / "2007000000.jpg"),
                 "--output", str(tmp_path / "drawn")]) == 0
    assert (tmp_path / "drawn" / "2007000000.png").is_file()
    capsys.readouterr()
    xml = root / "Annotations" / "2007000003.xml"
    xml.write_text(xml.read_text().replace("<name>", "<name>star", 1))
    assert main(["detect", "eval", str(run), "--data", f"voc:{root}", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "2007000003.xml: object 0 (star" in err and "classes the model knows" in err
    assert main(["detect", "train", "--model", "mask-rcnn", "--data", f"voc:{root}", *TINY]) == 2
    assert "VOC annotations are boxes only" in capsys.readouterr().err
    assert main(["detect", "train", "--data", f"voc:{tmp_path}", *TINY]) == 2
    assert "no folder" in capsys.readouterr().err


def test_segment_on_coco_masks(tmp_path, capsys):
    ann, images, _ = write_coco(tmp_path, n=6)
    out = tmp_path / "runs"
    assert main(["segment", "train", "--data", f"coco:{ann}", "--images", str(images), "--out",
                 str(out), *TINY]) == 0
    run = _run_folder(out)
    assert json.loads((run / "config.json").read_text())["num_classes"] == 4
    assert 0 <= json.loads((run / "test_metrics.json").read_text())["mean_iou"] <= 1
    capsys.readouterr()
    assert main(["segment", "eval", str(run), "--split", "val", "--no-progress"]) == 0
    assert "val mean IoU" in capsys.readouterr().out


def test_classify_localize_and_keypoints_commands(tmp_path, capsys):
    photo = tmp_path / "photo.png"
    Image.new("RGB", (48, 40), (90, 120, 30)).save(photo)
    for model, score, evaluated, predicted in (
            ("classify-localize", "class accuracy", "val mAP@0.5", "1 objects"),
            ("keypoints", "PCK@0.2", "val PCK@0.2", "right foot (")):
        out = tmp_path / model
        assert main(["detect", "train", "--model", model, "--out", str(out), *SYNTHETIC]) == 0
        assert score in capsys.readouterr().out
        run = _run_folder(out)
        for name in ("checkpoint_best.npz", "predictions.png", "metrics.csv"):
            assert (run / name).is_file(), name
        assert main(["detect", "eval", str(run), "--split", "val"]) == 0
        assert evaluated in capsys.readouterr().out
        assert main(["detect", "predict", str(run), str(photo), "--threshold", "0"]) == 0
        assert predicted in capsys.readouterr().out
        assert (run / "predict" / "photo.png").is_file()
    assert main(["detect", "train", "--model", "keypoints", "--data", f"voc:{tmp_path}",
                 *TINY]) == 2
    assert "trains on synthetic stick figures" in capsys.readouterr().err


def test_synthetic_sizes_with_data_files_are_refused(tmp_path, capsys):
    # --n-train / --n-val / --n-test size the synthetic scenes; with --data the files decide, so
    # giving one is an error rather than silently ignored
    from striate.cli import main

    code = main(["detect", "train", "--model", "yolo", "--data", f"voc:{tmp_path}",
                 "--n-train", "50", "--out", str(tmp_path / "runs")])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--n-train" in err[0] and "--max-images" in err[0]
    # on the synthetic scenes they are what they say
    assert main(["detect", "train", "--model", "yolo", "--n-train", "8", "--n-val", "4",
                 "--n-test", "4", "--epochs", "1", "--image-size", "32", "--no-progress",
                 "--out", str(tmp_path / "runs")]) == 0
    (run,) = (tmp_path / "runs").iterdir()
    config = json.loads((run / "config.json").read_text())
    assert (config["n_train"], config["n_val"], config["n_test"]) == (8, 4, 4)
