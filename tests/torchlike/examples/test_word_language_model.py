"""``word_language_model.py`` (PyTorch's word-language-model example, in its style) trains an
LSTM and a Transformer on striate, and the same file, its imports swapped, under PyTorch; the
final test perplexities agree within 10 % (different random draws: the two libraries' generators
differ), and both are far below the untrained model's (about the vocabulary size, 33)."""

from __future__ import annotations

import pathlib
import re

import pytest

SCRIPT = pathlib.Path(__file__).with_name("word_language_model.py")


def _load(source: str) -> dict:
    namespace = {"__name__": "word_language_model"}
    exec(compile(source, str(SCRIPT), "exec"), namespace)  # noqa: S102 - our own script
    return namespace


def test_only_the_imports_name_striate():
    code = [line for line in SCRIPT.read_text().splitlines() if not line.startswith("#")]
    mentions = [line.split("#")[0].strip() for line in code if "striate" in line]
    assert mentions == ["import striate as torch", "import striate.nn as nn",
                        "import striate.nn.functional as F"]


def _torch_source() -> str:
    return re.sub(r"^import striate", "import torch", SCRIPT.read_text(), flags=re.M)


@pytest.mark.parametrize("model", ["LSTM", "Transformer"])
def test_word_language_model_on_striate_and_pytorch(model, capsys):
    ppl = _load(SCRIPT.read_text())["main"](["--model", model])
    out = capsys.readouterr().out
    assert "End of training" in out and "valid ppl" in out
    assert ppl < 4.0, ppl  # the grammar's words are well predicted (untrained: ~33)
    pytest.importorskip("torch")
    ppl_torch = _load(_torch_source())["main"](["--model", model])
    assert abs(ppl - ppl_torch) <= 0.10 * ppl_torch, (ppl, ppl_torch)


def test_gru_and_tied_rnn_variants_train():
    main = _load(SCRIPT.read_text())["main"]
    assert main(["--model", "GRU", "--epochs", "2"]) < 5.0
    assert main(["--model", "RNN_TANH", "--tied", "--nhid", "32", "--epochs", "1"]) < 8.0
