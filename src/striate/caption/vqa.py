"""Visual question answering, small: questions about the synthetic shapes images with one-word
answers, answered by a CNN + LSTM model trained with cross-entropy.

Question types (the scene generator knows the truth, so every answer is exact)::

    count     how many shapes are there                   -> one | two
    colour    what colour is the circle                   -> red | green | blue | yellow
    shape     what shape is the blue object               -> circle | square | triangle
    size      what size is the red square                 -> small | large
    relation  what shape is above the blue square         -> circle | square | triangle
    exists    is there a green triangle                   -> yes | no

A question is asked only when its answer is unambiguous (``what colour is the circle`` needs
exactly one circle). The model: the ConvNet's 8x8 feature map with the coordinates of each
location; the question's words -> embeddings -> LSTM -> its state after the last word, which
attends over the feature map twice (see :class:`VQAModel`) -> an MLP -> scores over answers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import functional as F
from .. import nn
from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor
from ..backend import get_default_dtype, get_rng
from .attention import soft_attention
from .model import ConvEncoder
from .shapes import COLOURS, RELATIONS, SHAPES, SIZES, CaptionData, Vocabulary

__all__ = ["ANSWERS", "QUESTION_TYPES", "VQASplit", "make_questions", "VQAModel",
           "encode_questions", "train_vqa", "evaluate_vqa"]

ANSWERS = ("one", "two", *COLOURS, *SHAPES, *SIZES, "yes", "no")
QUESTION_TYPES = ("count", "colour", "shape", "size", "relation", "exists")


@dataclass
class VQASplit:
    """Questions (strings), their answers (ids into ``ANSWERS``), their types, and the image
    each one is about (an index into ``images`` (N, 3, H, W))."""

    images: np.ndarray
    image_index: np.ndarray
    questions: list
    answers: np.ndarray
    types: list

    def __len__(self) -> int:
        return len(self.questions)


def _scene_questions(objs, rng) -> list[tuple[str, str, str]]:
    """Every unambiguous (question, answer, type) about one scene."""
    qs = [("how many shapes are there", "one" if len(objs) == 1 else "two", "count")]
    for o in objs:
        same_shape = [p for p in objs if p["shape"] == o["shape"]]
        if len(same_shape) == 1:
            qs.append((f"what colour is the {o['shape']}", o["colour"], "colour"))
        same_colour = [p for p in objs if p["colour"] == o["colour"]]
        if len(same_colour) == 1:
            qs.append((f"what shape is the {o['colour']} object", o["shape"], "shape"))
        qs.append((f"what size is the {o['colour']} {o['shape']}", o["size"], "size"))
    if len(objs) == 2:
        a, b = objs
        rel = a["relation"]
        qs.append((f"what shape is {rel} the {b['colour']} {b['shape']}", a["shape"], "relation"))
        qs.append((f"what shape is {RELATIONS[rel]} the {a['colour']} {a['shape']}", b["shape"],
                   "relation"))
    present = {(o["colour"], o["shape"]) for o in objs}
    o = objs[rng.integers(len(objs))]
    qs.append((f"is there a {o['colour']} {o['shape']}", "yes", "exists"))
    while True:  # a shape that is not there, for a balanced yes / no
        c, s = list(COLOURS)[rng.integers(4)], SHAPES[rng.integers(3)]
        if (c, s) not in present:
            qs.append((f"is there a {c} {s}", "no", "exists"))
            return qs


def make_questions(split, per_image: int = 4, seed: int = 0) -> VQASplit:
    """Up to ``per_image`` questions about each image of a synthetic split (one with scenes),
    drawn deterministically from ``seed``."""
    if split.scenes is None:
        raise ValueError("make_questions: the split has no scenes; VQA needs the synthetic shapes "
                         "data (make_shapes), not COCO")
    rng = np.random.default_rng(seed)
    index, questions, answers, types = [], [], [], []
    for i, objs in enumerate(split.scenes):
        qs = _scene_questions(objs, rng)
        for k in rng.permutation(len(qs))[:per_image]:
            q, a, t = qs[k]
            index.append(i)
            questions.append(q)
            answers.append(ANSWERS.index(a))
            types.append(t)
    return VQASplit(split.images, np.asarray(index, np.int64), questions,
                    np.asarray(answers, np.int64), types)


def question_vocab() -> Vocabulary:
    """Every word the question templates use."""
    words = {"how", "many", "shapes", "are", "there", "what", "colour", "is", "the", "shape",
             "object", "size", "a"}
    for rel in RELATIONS:
        words.update(rel.split())
    words.update(COLOURS)
    words.update(SHAPES)
    return Vocabulary(sorted(words))


def encode_questions(vocab: Vocabulary, questions, max_length: int = 10):
    """Word ids (N, max_length) padded with ``<NULL>``, and lengths (N,)."""
    ids = np.full((len(questions), max_length), vocab.null_id, dtype=np.int64)
    lengths = np.zeros(len(questions), dtype=np.int64)
    for i, q in enumerate(questions):
        words = q.split()[:max_length]
        ids[i, :len(words)] = [vocab.stoi.get(w, vocab.unk_id) for w in words]
        lengths[i] = max(len(words), 1)
    return ids, lengths


class VQAModel(nn.Module):
    """(images (N, 3, H, W), question ids (N, T), lengths (N,)) -> answer scores (N, A).

    A stacked attention network (Yang et al. 2016), small: the question's LSTM state ``u`` attends
    over the ConvNet's feature map (with two coordinate channels, so a location knows where it
    is), the attended context is added to ``u``, and a second glimpse attends again from there
    (which lets "what shape is above the blue square" first find the square, then the other
    shape); an MLP on the final ``u`` scores the answers.

    Args:
        vocab_size: question vocabulary size.
        num_answers: A.
        image_shape: (C, H, W).
        wordvec_dim, hidden_dim: embedding and LSTM sizes.
        channels: the encoder's conv widths.
        glimpses: attention hops.
        attention_dim: size of the space where locations and the query are compared.
    """

    @nn.init.course_defaults()  # striate's own scheme, not PyTorch's default
    def __init__(self, vocab_size: int, num_answers: int = len(ANSWERS), image_shape=(3, 32, 32),
                 wordvec_dim: int = 32, hidden_dim: int = 128, channels=(16, 32, 64),
                 glimpses: int = 2, attention_dim: int = 64):
        super().__init__()
        self.encoder = ConvEncoder(image_shape[0], image_shape[1], channels)
        s = self.encoder.feature_size
        yy, xx = np.meshgrid(np.linspace(-1, 1, s), np.linspace(-1, 1, s), indexing="ij")
        self.register_buffer("coords", Tensor(np.stack([xx, yy], -1).reshape(1, s * s, 2)
                                              .astype(get_default_dtype())), persistent=False)
        self.feat_proj = nn.Linear(self.encoder.out_channels + 2, hidden_dim)
        self.embed = nn.Embedding(vocab_size, wordvec_dim)
        self.rnn = nn.LSTM(wordvec_dim, hidden_dim, batch_first=True)
        self.att_feat = nn.ModuleList([nn.Linear(hidden_dim, attention_dim)
                                       for _ in range(glimpses)])
        self.att_query = nn.ModuleList([nn.Linear(hidden_dim, attention_dim, bias=False)
                                        for _ in range(glimpses)])
        bound = 1.0 / np.sqrt(attention_dim)
        for k in range(glimpses):
            setattr(self, f"att_score{k}", nn.Parameter(Tensor(get_rng().uniform(
                -bound, bound, attention_dim).astype(get_default_dtype()))))
        self.glimpses = int(glimpses)
        self.fc = nn.Linear(hidden_dim, hidden_dim)
        self.out = nn.Linear(hidden_dim, num_answers)

    def forward(self, images, questions, lengths) -> Tensor:
        questions, lengths = np.asarray(questions), np.asarray(lengths)
        fmap = self.encoder(images)
        n, c = fmap.shape[:2]
        feats = F.contiguous(fmap.reshape(n, c, -1).transpose(1, 2))  # (N, L, C)
        n_loc = feats.shape[1]
        feats = F.cat([feats, self.coords.expand(n, n_loc, 2)], 2)
        f = F.relu(self.feat_proj(feats.reshape(n * n_loc, c + 2)))
        seq, _ = self.rnn(self.embed(Tensor(questions)))
        u = seq[np.arange(len(lengths)), lengths - 1]  # the state after each question's last word
        width = f.shape[1]
        for k in range(self.glimpses):
            proj = self.att_feat[k](f).reshape(n, n_loc, -1)
            _, z = soft_attention(proj, f.reshape(n, n_loc, width), self.att_query[k](u),
                                  getattr(self, f"att_score{k}"))
            u = u + z
        return self.out(F.relu(self.fc(u)))


def _batches(split: VQASplit, vocab, order, bs):
    ids, lengths = encode_questions(vocab, split.questions)
    for lo in range(0, len(order), bs):
        sel = order[lo:lo + bs]
        yield (Tensor(split.images[split.image_index[sel]]), ids[sel], lengths[sel],
               split.answers[sel], sel)


def evaluate_vqa(model, split: VQASplit, vocab: Vocabulary, batch_size: int = 256) -> dict:
    """Accuracy overall (``accuracy``) and per question type (``accuracy_<type>``)."""
    was = model.training
    model.eval()
    pred = np.empty(len(split), dtype=np.int64)
    with no_grad():
        for x, q, n, _, sel in _batches(split, vocab, np.arange(len(split)), batch_size):
            pred[sel] = model(x, q, n).array.argmax(axis=1)
    model.train(was)
    right = pred == split.answers
    out = {"accuracy": float(right.mean())}
    types = np.asarray(split.types)
    for t in QUESTION_TYPES:
        if (types == t).any():
            out[f"accuracy_{t}"] = float(right[types == t].mean())
    return out


def train_vqa(model, train: VQASplit, val: VQASplit, vocab: Vocabulary, epochs: int = 10,
              batch_size: int = 64, lr: float = 2e-3, log=print,
              max_steps: int | None = None) -> list[dict]:
    """Adam on the cross-entropy of the answers; returns per-epoch records (train loss, val
    accuracy)."""
    from .. import optim
    from ..backend import get_rng
    from ..optim.clip import clip_grad_norm_

    opt = optim.Adam(model.parameters(), lr=lr)
    history, steps = [], 0
    for epoch in range(1, epochs + 1):
        model.train()
        total, seen = 0.0, 0
        for x, q, n, y, _ in _batches(train, vocab, get_rng().permutation(len(train)), batch_size):
            loss = F.cross_entropy(model(x, q, n), Tensor(y))
            opt.zero_grad()
            loss.backward()
            clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
            total, seen, steps = total + loss.item() * len(y), seen + len(y), steps + 1
            if max_steps is not None and steps >= max_steps:
                break
        record = {"epoch": epoch, "train_loss": total / max(seen, 1),
                  **{f"val_{k}": v for k, v in evaluate_vqa(model, val, vocab).items()}}
        history.append(record)
        log(f"epoch {epoch}/{epochs}: train loss {record['train_loss']:.3f}, val accuracy "
            f"{100 * record['val_accuracy']:.1f}%")
        if max_steps is not None and steps >= max_steps:
            break
    return history


def vqa_data(data: CaptionData, per_image: int = 4, seed: int = 0) -> tuple:
    """(train, val, test) question splits over a synthetic captioning set's images."""
    return tuple(make_questions(s, per_image, seed + k)
                 for k, s in enumerate((data.train, data.val, data.test)))
