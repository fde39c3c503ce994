"""Character vocabulary, corpus readers and the character-level model (training and sampling)."""

import numpy as np
import pytest

import striate
from striate.text import (
    CharRNN,
    CharVocab,
    load_charnn,
    read_corpus,
    read_text,
    sample,
    stdlib_corpus,
    stdlib_files,
    train_charnn,
)

PYTHONISH = "def f(x):\n    return x + 1\n\n\nclass A:\n    def g(self):\n        pass\n" * 40


def test_vocab_round_trip_and_unknown_character():
    v = CharVocab.build("banana\n")
    assert v.chars == "\nabn" and len(v) == 4
    ids = v.encode("nab\n")
    assert ids.dtype == np.int64 and ids.tolist() == [3, 1, 2, 0]
    assert v.decode(ids) == "nab\n"
    with pytest.raises(KeyError, match="'z' is not in the vocabulary"):
        v.encode("z")
    with pytest.raises(ValueError, match="distinct"):
        CharVocab("aa")


def test_stdlib_corpus_is_python_deterministic_and_capped():
    files = stdlib_files()
    assert len(files) > 100 and files == sorted(files, key=lambda p: p.as_posix())
    assert not any("site-packages" in p.parts or "test" in p.parts for p in files)
    a = stdlib_corpus(max_chars=50_000)
    assert len(a) == 50_000 and a == stdlib_corpus(max_chars=50_000)
    assert "def " in a and "import " in a and "\r" not in a
    assert read_corpus(None, 1000) == a[:1000]


def test_read_text_file(tmp_path):
    p = tmp_path / "t.txt"
    p.write_bytes(b"line one\r\nline two\xff\n")
    assert read_text(p) == "line one\nline two\ufffd\n"
    assert read_text(p, max_chars=4) == "line"
    with pytest.raises(FileNotFoundError, match="no such file"):
        read_text(tmp_path / "missing.txt")


def test_charrnn_shapes_and_state():
    m = CharRNN(10, embed_dim=4, hidden_size=6, num_layers=2)
    logits, (h, c) = m(striate.tensor(np.zeros((3, 5), dtype=np.int64)))
    assert logits.shape == (3, 5, 10) and h.shape == (2, 3, 6) and c.shape == (2, 3, 6)


def test_sampling_greedy_is_deterministic_and_temperature_sharpens():
    striate.manual_seed(0)
    v = CharVocab.build("abc")
    m = CharRNN(3, embed_dim=4, hidden_size=8, num_layers=1)
    g1 = sample(m, v, 20, "a", greedy=True)
    assert g1 == sample(m, v, 20, "a", greedy=True) and len(g1) == 21 and g1[0] == "a"
    # near-zero temperature is greedy
    assert sample(m, v, 20, "a", temperature=1e-4, rng=np.random.default_rng(1)) == g1
    hot = sample(m, v, 200, "a", temperature=50.0, rng=np.random.default_rng(2))
    assert set(hot[1:]) == set("abc")  # a flat distribution draws every character
    with pytest.raises(ValueError, match="never saw"):
        sample(m, v, 5, "z")
    with pytest.raises(ValueError, match="temperature"):
        sample(m, v, 5, "a", temperature=0)


def test_train_charnn_lowers_the_loss_and_reloads(tmp_path):
    out = tmp_path / "run"
    logs = []
    final = train_charnn(PYTHONISH, str(out), steps=40, seq_len=16, batch_size=16, hidden=32,
                         embed_dim=8, layers=2, lr=1e-2, sample_every=20, sample_length=40,
                         log=logs.append)
    rows = (out / "metrics.csv").read_text().strip().splitlines()
    assert rows[0].startswith("step,seconds,train_loss,val_loss") and len(rows) == 3
    first_val = float(rows[1].split(",")[3])
    assert final["val_loss"] < first_val < np.log(len(set(PYTHONISH)))
    assert (out / "samples.txt").read_text().count("=== step") == 2
    for name in ("config.json", "checkpoint_last.npz", "loss.png"):
        assert (out / name).exists()
    model, vocab, config = load_charnn(str(out))
    assert config["hidden"] == 32 and vocab.chars == "".join(sorted(set(PYTHONISH)))
    text = sample(model, vocab, 30, "def ", greedy=True)
    assert text.startswith("def ") and len(text) == 34
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        load_charnn(str(tmp_path))
