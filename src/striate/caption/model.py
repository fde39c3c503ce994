"""Image captioning models: a CNN encoder and a recurrent decoder, with and without attention.

``CaptioningModel`` (the course's captioner): the CNN's feature vector is projected into the
decoder's initial hidden state; the decoder (an LSTM, or a vanilla RNN) reads word embeddings and
scores the next word at every step. ``AttentionCaptioningModel`` (Show, Attend and Tell, Xu et
al. 2015): at every step the decoder scores each location of the CNN's spatial feature map from
its previous hidden state, ``e_i = w^T tanh(W_f f_i + W_h h_{t-1})``, turns the scores into
weights ``alpha = softmax(e)`` over locations, and feeds the context ``z = sum_i alpha_i f_i``
with the word embedding; the weights can be drawn over the image (``viz.py``).

Training uses teacher forcing: the ground-truth caption ``<START> w1 .. wn`` goes in, ``w1 ..
wn <END>`` is the target, ``<NULL>`` padding is masked out of the temporal softmax loss. At test
time :meth:`greedy` takes the best word at every step and :meth:`beam_search` keeps the K best
partial captions (K = 1 is greedy).
"""

from __future__ import annotations

import math

import numpy as np

from .. import functional as F
from .. import nn
from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor
from ..backend import get_default_dtype, get_rng
from .attention import soft_attention

__all__ = ["ConvEncoder", "CaptioningModel", "AttentionCaptioningModel", "build_captioner"]


class ConvEncoder(nn.Module):
    """[conv3x3 - BN - ReLU (- maxpool 2x2)] per entry of ``channels``: images (N, C, S, S) ->
    feature map (N, channels[-1], h, w), pooled while the map is larger than ``feature_size``."""

    @nn.init.course_defaults()  # striate's own scheme, not PyTorch's default
    def __init__(self, in_channels: int = 3, image_size: int = 32, channels=(32, 64, 128),
                 feature_size: int = 8):
        super().__init__()
        layers, c, s = [], int(in_channels), int(image_size)
        for out in channels:
            layers += [nn.Conv2d(c, out, 3, padding=1), nn.BatchNorm2d(out), nn.ReLU()]
            if s > feature_size and s >= 2:
                layers.append(nn.MaxPool2d(2))
                s //= 2
            c = out
        while s > feature_size and s >= 2:
            layers.append(nn.MaxPool2d(2))
            s //= 2
        self.net = nn.Sequential(*layers)
        self.out_channels, self.feature_size = c, s

    def forward(self, images: Tensor) -> Tensor:
        return self.net(images)


class _Captioner(nn.Module):
    """What both captioners share: the loss with teacher forcing and the two decoders.

    A subclass defines ``init_state(images) -> (state, context)``, ``step(words (N,), state,
    context) -> (scores (N, V), state, alpha (N, L) or None)`` and ``scores(images, captions_in)
    -> (N, T, V)``; ``state`` and ``context`` are tuples of Tensors with the batch first."""

    def __init__(self, vocab_size: int, image_shape, null_id=0, start_id=1, end_id=2):
        super().__init__()
        if int(vocab_size) < 4:
            raise ValueError(f"{type(self).__name__}: vocab_size must be at least 4 (the special "
                             f"tokens), got {vocab_size}")
        if len(image_shape) != 3:
            raise ValueError(f"{type(self).__name__}: image_shape must be (C, H, W), got "
                             f"{tuple(image_shape)}")
        self.vocab_size, self.image_shape = int(vocab_size), tuple(int(s) for s in image_shape)
        self.null_id, self.start_id, self.end_id = int(null_id), int(start_id), int(end_id)

    def _check_images(self, images) -> Tensor:
        images = images if isinstance(images, Tensor) else Tensor(np.asarray(images))
        if images.ndim != 4 or tuple(images.shape[1:]) != self.image_shape:
            raise ValueError(f"{type(self).__name__}: images must be (N, "
                             f"{', '.join(map(str, self.image_shape))}), got shape "
                             f"{tuple(images.shape)}")
        return images

    def loss(self, images, captions) -> Tensor:
        """Temporal softmax loss with teacher forcing, per caption (summed over its words).

        Args:
            images: (N, C, H, W).
            captions: (N, T + 1) int ids ``<START> w1 .. <END> <NULL> ..``.
        Returns:
            a scalar Tensor.
        """
        captions = np.asarray(captions.array if isinstance(captions, Tensor) else captions)
        if captions.ndim != 2 or captions.shape[1] < 2 or captions.dtype.kind not in "iu":
            raise ValueError(f"{type(self).__name__}.loss: captions must be integer ids (N, T+1) "
                             f"with T >= 1, got {captions.dtype} {captions.shape}")
        images = self._check_images(images)
        if len(captions) != len(images):
            raise ValueError(f"{type(self).__name__}.loss: {len(images)} images but "
                             f"{len(captions)} captions")
        cin, cout = captions[:, :-1], captions[:, 1:]
        scores = self.scores(images, cin)
        return F.temporal_softmax_loss(scores, Tensor(cout), Tensor(cout != self.null_id))

    def forward(self, images, captions) -> Tensor:
        """Scores (N, T, V) of the next word after each of ``captions`` (N, T) (teacher
        forcing)."""
        captions = np.asarray(captions.array if isinstance(captions, Tensor) else captions)
        return self.scores(self._check_images(images), captions)

    def greedy(self, images, max_length: int = 16, return_attention: bool = False):
        """The most likely word at every step, in evaluation mode and without a graph.

        Returns:
            ids (N, max_length) ending with ``<END>`` then ``<NULL>`` padding; with
            ``return_attention`` also the attention weights (N, max_length, L) (None for the model
            without attention).
        """
        was = self.training
        self.eval()
        try:
            with no_grad():
                state, ctx = self.init_state(self._check_images(images))
                n = len(state[0])
                words = np.full(n, self.start_id, dtype=np.int64)
                out = np.full((n, max_length), self.null_id, dtype=np.int64)
                alphas, done = [], np.zeros(n, dtype=bool)
                for t in range(max_length):
                    scores, state, alpha = self.step(words, state, ctx)
                    words = scores.array.argmax(axis=1).astype(np.int64)
                    out[:, t] = np.where(done, self.null_id, words)
                    if alpha is not None:
                        alphas.append(alpha.array)
                    done |= words == self.end_id
                    if done.all():
                        break
        finally:
            self.train(was)
        if not return_attention:
            return out
        att = None
        if alphas:
            att = np.zeros((n, max_length, alphas[0].shape[1]), dtype=alphas[0].dtype)
            att[:, :len(alphas)] = np.stack(alphas, 1)
        return out, att

    def beam_search(self, images, beam_size: int = 3, max_length: int = 16,
                    length_penalty: float = 0.0):
        """Beam search per image: keep the ``beam_size`` partial captions of highest summed
        log-probability; a caption ends at ``<END>`` (or at ``max_length`` words).

        The winner maximises ``sum log p / len**length_penalty`` (0: no normalisation, so
        ``beam_size=1`` gives exactly the greedy caption).

        Returns:
            ids (N, max_length) as :meth:`greedy`.
        """
        if int(beam_size) < 1:
            raise ValueError(f"beam_search: beam_size must be >= 1, got {beam_size}")
        images = self._check_images(images)
        out = np.full((len(images), max_length), self.null_id, dtype=np.int64)
        was = self.training
        self.eval()
        try:
            with no_grad():
                state0, ctx0 = self.init_state(images)
                for i in range(len(images)):
                    pick = np.zeros(1, dtype=np.int64) + i
                    ids = self._beam_one(tuple(s[pick] for s in state0),
                                         tuple(c[pick] for c in ctx0),
                                         int(beam_size), max_length, length_penalty)
                    out[i, :len(ids)] = ids
        finally:
            self.train(was)
        return out

    def _beam_one(self, state, ctx, k, max_length, length_penalty) -> list[int]:
        beams = [([], 0.0)]  # (word ids, summed log-probability)
        finished = []

        def rank(words, score):
            return score / (max(len(words), 1) ** length_penalty) if length_penalty else score

        for t in range(max_length):
            words = np.asarray([b[0][-1] if b[0] else self.start_id for b in beams], np.int64)
            rows = np.zeros(len(beams), dtype=np.int64)
            ctx_t = tuple(c[rows] for c in ctx)
            scores, state, _ = self.step(words, state, ctx_t)
            logp = F.log_softmax(scores, dim=1).array.astype(np.float64)
            total = np.asarray([b[1] for b in beams])[:, None] + logp
            flat = np.argsort(-total, axis=None, kind="stable")[:2 * k]
            keep, new_beams = [], []
            for f in flat:
                b, w = divmod(int(f), logp.shape[1])
                cand = (beams[b][0] + [w], float(total[b, w]))
                if w == self.end_id:
                    finished.append(cand)
                elif len(new_beams) < k:
                    new_beams.append(cand)
                    keep.append(b)
            if t == max_length - 1:
                finished.extend(new_beams)
                break
            best_done = max((rank(*f) for f in finished), default=-math.inf)
            # log-probabilities only fall as a caption grows: without length normalisation no
            # open beam can beat a finished caption that already scores higher
            if not new_beams or (not length_penalty and best_done >= new_beams[0][1]):
                break
            beams = new_beams
            sel = np.asarray(keep, dtype=np.int64)
            state = tuple(s[sel] for s in state)
        best = max(finished, key=lambda f: rank(*f))
        return best[0]


class CaptioningModel(_Captioner):
    """CNN encoder -> feature vector -> initial hidden state of an LSTM (or vanilla RNN) decoder.

    Args:
        vocab_size: V, including the special tokens.
        image_shape: (C, H, W) of the images.
        wordvec_dim: D, the size of a word embedding.
        hidden_dim: H, the decoder's state size.
        cell: 'lstm' or 'rnn'.
        channels: the encoder's conv widths.
        null_id, start_id, end_id: the special tokens' ids.
    """

    @nn.init.course_defaults()  # striate's own scheme, not PyTorch's default
    def __init__(self, vocab_size: int, image_shape=(3, 32, 32), wordvec_dim: int = 64,
                 hidden_dim: int = 256, cell: str = "lstm", channels=(32, 64, 128),
                 null_id: int = 0, start_id: int = 1, end_id: int = 2):
        super().__init__(vocab_size, image_shape, null_id, start_id, end_id)
        if cell not in ("lstm", "rnn"):
            raise ValueError(f"CaptioningModel: cell must be 'lstm' or 'rnn', got {cell!r}")
        self.cell = cell
        self.encoder = ConvEncoder(image_shape[0], image_shape[1], channels)
        # a 4x4 map keeps where things are ("above", "left of"); a global average would not
        self.pool = nn.MaxPool2d(2) if self.encoder.feature_size >= 4 else nn.Identity()
        s = max(self.encoder.feature_size // 2, 1) if self.encoder.feature_size >= 4 \
            else self.encoder.feature_size
        self.proj = nn.Linear(self.encoder.out_channels * s * s, hidden_dim)
        self.embed = nn.Embedding(vocab_size, wordvec_dim)
        rnn = nn.LSTM if cell == "lstm" else nn.RNN
        self.rnn = rnn(wordvec_dim, hidden_dim, batch_first=True)
        self.head = nn.Linear(hidden_dim, vocab_size)

    def init_state(self, images):
        h0 = self.proj(self.pool(self.encoder(images)).flatten(1))
        if self.cell == "lstm":
            return (h0, Tensor(np.zeros(h0.shape, dtype=h0.dtype))), ()
        return (h0,), ()

    def _hx(self, state):
        if self.cell == "lstm":
            return (state[0].unsqueeze(0), state[1].unsqueeze(0))
        return state[0].unsqueeze(0)

    def scores(self, images, captions_in):
        state, _ = self.init_state(images)
        out, _ = self.rnn(self.embed(Tensor(captions_in)), self._hx(state))
        return self.head(out)

    def step(self, words, state, ctx):
        out, hn = self.rnn(self.embed(Tensor(words[:, None])), self._hx(state))
        new = (hn[0][0], hn[1][0]) if self.cell == "lstm" else (hn[0],)
        return self.head(out[:, 0]), new, None


class AttentionCaptioningModel(_Captioner):
    """Soft attention over the CNN's feature map (N, C, h, w) at every decoding step.

    Args: as :class:`CaptioningModel` (the cell is an LSTM), plus ``attention_dim`` A, the size
    of the space where locations and the hidden state are compared.
    """

    @nn.init.course_defaults()  # striate's own scheme, not PyTorch's default
    def __init__(self, vocab_size: int, image_shape=(3, 32, 32), wordvec_dim: int = 64,
                 hidden_dim: int = 256, attention_dim: int = 128, channels=(32, 64, 128),
                 null_id: int = 0, start_id: int = 1, end_id: int = 2):
        super().__init__(vocab_size, image_shape, null_id, start_id, end_id)
        self.encoder = ConvEncoder(image_shape[0], image_shape[1], channels)
        c = self.encoder.out_channels
        self.init_h = nn.Linear(c, hidden_dim)
        self.init_c = nn.Linear(c, hidden_dim)
        self.att_feat = nn.Linear(c, attention_dim)
        self.att_hidden = nn.Linear(hidden_dim, attention_dim, bias=False)
        bound = 1.0 / math.sqrt(attention_dim)
        self.att_score = nn.Parameter(Tensor(
            get_rng().uniform(-bound, bound, attention_dim).astype(get_default_dtype())))
        self.embed = nn.Embedding(vocab_size, wordvec_dim)
        self.cell = nn.LSTMCell(wordvec_dim + c, hidden_dim)
        self.head = nn.Linear(hidden_dim + c, vocab_size)

    @property
    def feature_grid(self) -> tuple:
        """(h, w) of the map attended over."""
        return (self.encoder.feature_size, self.encoder.feature_size)

    def init_state(self, images):
        fmap = self.encoder(images)  # (N, C, h, w)
        n, c = fmap.shape[:2]
        # (N, L, C), contiguous: matrix products on a transposed view take NumPy's slow path
        feats = F.contiguous(fmap.reshape(n, c, -1).transpose(1, 2))
        n_loc = feats.shape[1]
        mean = feats.mean(1)
        h0, c0 = F.tanh(self.init_h(mean)), F.tanh(self.init_c(mean))
        proj = self.att_feat(feats.reshape(n * n_loc, c)).reshape(n, n_loc, -1)
        return (h0, c0), (feats, proj)

    def attend(self, h, feats, proj):
        """Weights (N, L) over the locations and the context (N, C) for hidden state h (N, H)."""
        return soft_attention(proj, feats, self.att_hidden(h), self.att_score)

    def step(self, words, state, ctx):
        feats, proj = ctx
        h, c = state
        alpha, z = self.attend(h, feats, proj)
        h, c = self.cell(F.cat([self.embed(Tensor(words)), z], 1), (h, c))
        return self.head(F.cat([h, z], 1)), (h, c), alpha

    def scores(self, images, captions_in):
        state, ctx = self.init_state(images)
        out = []
        for t in range(captions_in.shape[1]):
            s, state, _ = self.step(captions_in[:, t], state, ctx)
            out.append(s)
        return F.stack(out, 1)


def build_captioner(config: dict, vocab_size: int, image_shape) -> _Captioner:
    """The model a run's config describes (keys: attention, wordvec_dim, hidden_dim,
    attention_dim, cell, channels)."""
    common = dict(wordvec_dim=config.get("wordvec_dim", 64),
                  hidden_dim=config.get("hidden_dim", 256),
                  channels=tuple(config.get("channels", (32, 64, 128))))
    if config.get("attention"):
        return AttentionCaptioningModel(vocab_size, image_shape,
                                        attention_dim=config.get("attention_dim", 128), **common)
    return CaptioningModel(vocab_size, image_shape, cell=config.get("cell", "lstm"), **common)
