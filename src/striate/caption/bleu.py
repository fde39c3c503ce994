"""Corpus BLEU (Papineni et al., 2002), the captioning metric.

For each n, the modified precision ``p_n`` pools over the whole corpus the n-gram counts of every
hypothesis clipped by the largest count of that n-gram in any of its references, divided by the
hypotheses' n-gram counts. With ``c`` the total hypothesis length and ``r`` the sum of the
reference lengths closest to each hypothesis length (the shorter one on a tie), the brevity
penalty is ``BP = 1`` if ``c > r`` else ``exp(1 - r / c)``, and

    BLEU-N = BP * exp(sum_{n=1..N} log(p_n) / N)

which is 0 when some ``p_n`` is 0 (no smoothing), as ``nltk.translate.bleu_score.corpus_bleu``.

Example:
    >>> round(corpus_bleu([["a red circle above a blue square"]],
    ...                   ["a red circle above a blue square"]), 4)
    1.0
    >>> round(bleu_scores([["the cat sat on the mat"]], ["the cat sat on mat"])["bleu1"], 4)
    0.8187
"""

from __future__ import annotations

import math
from collections import Counter

__all__ = ["corpus_bleu", "bleu_scores", "ngram_stats"]


def _words(s) -> list[str]:
    return s.split() if isinstance(s, str) else list(s)


def _ngrams(words: list[str], n: int) -> Counter:
    return Counter(tuple(words[i:i + n]) for i in range(len(words) - n + 1))


def ngram_stats(references, hypotheses, max_n: int = 4) -> tuple[list, list, int, int]:
    """The pooled statistics behind corpus BLEU.

    Args:
        references: per hypothesis, a list of reference sentences (strings or word lists).
        hypotheses: sentences (strings or word lists), as many as ``references``.
        max_n: largest n-gram order.
    Returns:
        (clipped matches per n, hypothesis n-gram totals per n, hypothesis length c,
        effective reference length r), the lists of length ``max_n``.
    """
    references, hypotheses = list(references), list(hypotheses)
    if len(references) != len(hypotheses):
        raise ValueError(f"bleu: got {len(hypotheses)} hypotheses but {len(references)} "
                         "reference lists; they must pair up")
    if max_n < 1:
        raise ValueError(f"bleu: max_n must be >= 1, got {max_n}")
    matches, totals = [0] * max_n, [0] * max_n
    c = r = 0
    for refs, hyp in zip(references, hypotheses):
        if isinstance(refs, str):
            raise TypeError("bleu: each entry of references must be a list of reference "
                            f"sentences, got the string {refs!r}")
        hyp = _words(hyp)
        refs = [_words(x) for x in refs]
        if not refs:
            raise ValueError("bleu: a hypothesis has no reference sentences")
        c += len(hyp)
        # the reference length closest to the hypothesis length, the shorter one on a tie
        r += min((abs(len(x) - len(hyp)), len(x)) for x in refs)[1]
        for n in range(1, max_n + 1):
            h = _ngrams(hyp, n)
            best: Counter = Counter()
            for x in refs:
                best |= _ngrams(x, n)  # | keeps the max count of each n-gram
            matches[n - 1] += sum(min(k, best[g]) for g, k in h.items())
            totals[n - 1] += max(len(hyp) - n + 1, 0)
    return matches, totals, c, r


def corpus_bleu(references, hypotheses, max_n: int = 4) -> float:
    """BLEU-``max_n`` of a corpus with uniform weights ``1 / max_n`` (see the module docstring).

    Args:
        references: per hypothesis, a list of reference sentences (strings or word lists).
        hypotheses: the generated sentences (strings or word lists).
        max_n: the n-gram order N of BLEU-N.
    Returns:
        the score in [0, 1].
    """
    matches, totals, c, r = ngram_stats(references, hypotheses, max_n)
    return _combine(matches, totals, c, r, max_n)


def _combine(matches, totals, c, r, max_n) -> float:
    if c == 0 or any(m == 0 for m in matches[:max_n]):
        return 0.0
    log_p = sum(math.log(matches[n] / totals[n]) for n in range(max_n)) / max_n
    bp = 1.0 if c > r else math.exp(1.0 - r / c)
    return bp * math.exp(log_p)


def bleu_scores(references, hypotheses) -> dict[str, float]:
    """``{"bleu1": .., "bleu2": .., "bleu3": .., "bleu4": ..}`` of a corpus, from one pass."""
    matches, totals, c, r = ngram_stats(references, hypotheses, 4)
    return {f"bleu{n}": _combine(matches, totals, c, r, n) for n in range(1, 5)}
