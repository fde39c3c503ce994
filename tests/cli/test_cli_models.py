"""`striate models`: the table of models with parameter counts and multiply-adds."""

import pytest

from striate.cli import main


def test_models_lists_counts_and_macs(capsys):
    assert main(["models", "resnet18", "vgg16", "resnet20"]) == 0
    out = capsys.readouterr().out
    lines = {line.split()[0]: line for line in out.splitlines()[2:]}
    assert "11,689,512" in lines["resnet18"] and "1.81G" in lines["resnet18"]
    assert "= torchvision" in lines["vgg16"] and "15.47G" in lines["vgg16"]
    assert "= torchvision" not in lines["resnet20"]


def test_models_for_small_inputs(capsys):
    assert main(["models", "resnet20", "--input-size", "3x32x32", "--num-classes", "10"]) == 0
    out = capsys.readouterr().out
    assert "input 3x32x32, 10 classes" in out
    assert "269,722" in out and "40.55M" in out


def test_models_lists_every_registered_model(capsys):
    from striate.models import list_models

    assert main(["models", "--input-size", "1x8x8", "--num-classes", "10"]) == 0
    names = [line.split()[0] for line in capsys.readouterr().out.splitlines()[2:]]
    assert names == list_models()


@pytest.mark.parametrize("argv,msg", [
    (["models", "resnet9000"], "unknown model 'resnet9000'"),
])
def test_models_errors(argv, msg, capsys):
    assert main(argv) == 2
    assert msg in capsys.readouterr().err


def test_models_rejects_a_bad_input_size(capsys):
    with pytest.raises(SystemExit):
        main(["models", "--input-size", "3x0x5"])
    assert "expected CxHxW" in capsys.readouterr().err


def test_a_bad_model_name_gets_a_short_error_with_the_nearest_names(capsys):
    with pytest.raises(SystemExit) as e:
        main(["train", "--model", "resnet2"])
    assert e.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("striate train: error: argument --model: unknown model 'resnet2'")
    assert "resnet20" in err and "`striate models` lists them" in err
    assert "densenet121" not in err  # the zoo is not listed in full


def test_train_help_lists_no_model_names(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    out = capsys.readouterr().out
    assert "--model MODEL" in out and "striate models" in out
    assert "densenet121" not in out


def test_train_picks_squeezenets_recommended_adam_lr_unless_told(capsys):
    # SqueezeNet (no normalisation) dies at Adam's 3e-3 on the digits (loss log 10); the command
    # uses the zoo's recommended rate for it, and --lr or another optimizer still decide
    from argparse import Namespace

    from striate.cli.train import DEFAULT_LR, _default_lr
    from striate.models import RECOMMENDED_ADAM_LR

    args = Namespace(lr=None, optimizer="adam", model="squeezenet1_1")
    assert _default_lr(args) == RECOMMENDED_ADAM_LR["squeezenet1_1"] == 1e-3
    assert "squeezenet1_1's recommended rate" in capsys.readouterr().out
    assert _default_lr(Namespace(lr=None, optimizer="adam", model="convnet")) == DEFAULT_LR
    assert _default_lr(Namespace(lr=None, optimizer="sgd", model="squeezenet1_1")) == DEFAULT_LR
    assert _default_lr(Namespace(lr=0.05, optimizer="adam", model="squeezenet1_1")) == 0.05
