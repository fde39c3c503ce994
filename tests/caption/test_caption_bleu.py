"""Corpus BLEU against values computed by hand (and against NLTK where it is installed)."""

import math

import pytest

from striate.caption.bleu import bleu_scores, corpus_bleu, ngram_stats


def test_perfect_match_is_one():
    refs = [["a red circle above a blue square"], ["a small green triangle"]]
    hyps = ["a red circle above a blue square", "a small green triangle"]
    assert bleu_scores(refs, hyps) == {"bleu1": 1.0, "bleu2": 1.0, "bleu3": 1.0, "bleu4": 1.0}


def test_hand_computed_clipping_and_brevity():
    # hyp "the the the the" vs ref "the cat is on the mat": clipped unigram matches 2 of 4
    refs, hyps = [["the cat is on the mat"]], ["the the the the"]
    m, t, c, r = ngram_stats(refs, hyps)
    assert (m[0], t[0], c, r) == (2, 4, 4, 6)
    assert corpus_bleu(refs, hyps, max_n=1) == pytest.approx(0.5 * math.exp(1 - 6 / 4))
    # a bigram-less match gives BLEU-2 = 0 (no smoothing)
    assert corpus_bleu(refs, hyps, max_n=2) == 0.0


def test_hand_computed_corpus_pooling():
    refs = [["a red circle above a blue square", "a blue square below a red circle"],
            ["a small green triangle"]]
    hyps = ["a red circle below a blue square", "a small green circle"]
    # n-grams pooled over the corpus, each clipped by its largest count in any reference:
    # unigrams 7/7 + 3/4 ("circle" is not in hyp 2's reference)
    # bigrams 5/6 ("circle below" is in no reference) + 2/3 ("green circle")
    # trigrams 2/5 ("a red circle", "a blue square") + 1/2 ("a small green")
    # 4-grams 0/4 + 0/1, so BLEU-4 = 0; lengths c = 11, r = 7 + 4
    m, t, c, r = ngram_stats(refs, hyps)
    assert m == [10, 7, 3, 0] and t == [11, 9, 7, 5] and (c, r) == (11, 11)
    s = bleu_scores(refs, hyps)
    assert s["bleu1"] == pytest.approx(10 / 11)
    assert s["bleu2"] == pytest.approx(math.sqrt(10 / 11 * 7 / 9))
    assert s["bleu3"] == pytest.approx((10 / 11 * 7 / 9 * 3 / 7) ** (1 / 3))
    assert s["bleu4"] == 0.0


def test_closest_reference_length_prefers_the_shorter_on_a_tie():
    _, _, c, r = ngram_stats([["a b", "a b c d"]], ["a b c"])
    assert (c, r) == (3, 2)


def test_errors():
    with pytest.raises(ValueError, match="pair up"):
        corpus_bleu([["a"]], ["a", "b"])
    with pytest.raises(TypeError, match="list of reference"):
        corpus_bleu(["a b"], ["a b"])


def test_against_nltk():
    nltk_bleu = pytest.importorskip("nltk.translate.bleu_score")
    refs = [["a red circle above a blue square", "a blue square below a red circle"],
            ["a small green triangle to the left of a large red square"],
            ["a large yellow circle"]]
    hyps = ["a red circle above a small blue square", "a small green triangle left of a square",
            "a large yellow circle"]
    r = [[x.split() for x in refs_i] for refs_i in refs]
    h = [x.split() for x in hyps]
    for n in range(1, 5):
        w = tuple([1.0 / n] * n)
        assert corpus_bleu(refs, hyps, n) == pytest.approx(nltk_bleu.corpus_bleu(r, h, w))
