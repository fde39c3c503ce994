"""Recurrent layers as fused Functions: one graph node per layer and sequence (or per cell step).

A vanilla RNN, LSTM or GRU layer over a whole sequence is a single ``Function``: its forward loops
over time with one GEMM per step for the recurrence (``h @ W_hh^T``) after one big GEMM has
projected the inputs of all time steps at once (``X W_ih^T``); its backward runs backpropagation
through time inside, collects the gate gradients of all steps and turns them into the weight
gradients with one big GEMM each (``dW = DA^T X``). The graph stays one node per layer however long
the sequence is, so there is no Python recursion and little per-step overhead.

Gate order and parameter shapes are PyTorch's: ``w_ih`` (G H, D), ``w_hh`` (G H, H), ``b_ih`` and
``b_hh`` (G H,), with G = 1 (RNN), 4 (LSTM: i, f, g, o) or 3 (GRU: r, z, n). Shapes below:
T time steps, N batch, D input features, H hidden units. With ``batch_first`` the sequences are
(N, T, .) instead of (T, N, .); inside, the loops work time-major.

Sigmoids are computed as ``sigmoid(a) = (1 + tanh(a / 2)) / 2`` with the halving folded into the
weights, so each step applies a single ``tanh`` to all gates at once.
"""

from __future__ import annotations

import contextlib

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..parallel import blas_threads

__all__ = [
    "rnn_layer", "lstm_layer", "gru_layer", "rnn_cell", "lstm_cell", "gru_cell",
]  # fmt: skip


#: BLAS threads for the small per-step GEMMs inside the time loops (None: leave BLAS alone, the
#: default). With OpenBLAS's workers sleeping soon after each call (the package's thread policy,
#: ``striate/_env.py``), all threads win even for a (64, 256) x (256, 1024) product
#: (docs/performance.md). Set 1 on a machine shared with other work, where a multi-threaded call
#: waits for a core every step.
LOOP_BLAS_THREADS: int | None = None


def _loop_threads():
    """A context in which BLAS runs ``LOOP_BLAS_THREADS`` threads."""
    if LOOP_BLAS_THREADS is None:
        return contextlib.nullcontext()
    return blas_threads(LOOP_BLAS_THREADS)


def _tm(a, batch_first: bool):
    """A sequence array in time-major layout (T, N, F), contiguous."""
    return np.ascontiguousarray(a.transpose(1, 0, 2)) if batch_first else a


def _project(x, w, b):
    """``x (T, N, D) @ w^T + b`` as one GEMM over all time steps -> (T, N, G)."""
    t, n, d = x.shape
    out = x.reshape(t * n, d) @ w.T
    if b is not None:
        out += b
    return out.reshape(t, n, w.shape[0])


def _input_grads(ctx, da, x, w_ih, h0, hs, w_hh_rows=None):
    """From the gradients ``da`` (T, N, G) of the pre-activations, the gradients of x, W_ih, b_ih
    (one GEMM each) and of W_hh (``sum_t da_t^T h_{t-1}``, one GEMM over all steps)."""
    t, n, g = da.shape
    da2 = da.reshape(t * n, g)
    need = ctx.needs_input_grad
    dx = dw_ih = dw_hh = db = None
    if need[0]:
        dx = (da2 @ w_ih).reshape(t, n, w_ih.shape[1])  # no -1: n may be 0
        if ctx.batch_first:
            dx = dx.transpose(1, 0, 2)
    if need[-4]:
        dw_ih = da2.T @ x.reshape(t * n, x.shape[-1])
    if need[-3]:
        h_prev = np.concatenate([h0[None], hs[:-1]], axis=0).reshape(t * n, h0.shape[-1])
        dh2 = da2 if w_hh_rows is None else w_hh_rows.reshape(t * n, g)
        dw_hh = dh2.T @ h_prev
    if need[-2] or need[-1]:
        db = np.ones(t * n, dtype=da.dtype) @ da2  # faster than da2.sum(0) (docs/performance.md)
    return dx, dw_ih, dw_hh, db


# ---- vanilla RNN -------------------------------------------------------------------------------


class RNNLayer(Function):
    """h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh); output = all h_t."""

    @staticmethod
    def forward(ctx, x, h0, w_ih, w_hh, b_ih, b_hh, nonlinearity="tanh", batch_first=False):
        xt = _tm(x, batch_first)
        b = None if b_ih is None and b_hh is None else (
            (0 if b_ih is None else b_ih) + (0 if b_hh is None else b_hh))
        hs = _project(xt, w_ih, b)  # pre-activations, turned into h_t in place step by step
        w_hh_t = np.ascontiguousarray(w_hh.T)
        h = h0
        buf = np.empty_like(h0)
        with _loop_threads():
            for t in range(hs.shape[0]):
                np.matmul(h, w_hh_t, out=buf)
                a = hs[t]
                a += buf
                if nonlinearity == "tanh":
                    np.tanh(a, out=a)
                else:
                    np.maximum(a, 0, out=a)
                h = a
        ctx.save_for_backward(xt, h0, w_ih, w_hh, hs)
        ctx.relu = nonlinearity == "relu"
        ctx.batch_first = batch_first
        return np.ascontiguousarray(hs.transpose(1, 0, 2)) if batch_first else hs

    @staticmethod
    def backward(ctx, g):
        xt, h0, w_ih, w_hh, hs = ctx.saved
        gt = g.transpose(1, 0, 2) if ctx.batch_first else g
        da = np.empty_like(hs)
        dh = np.zeros_like(h0)
        with _loop_threads():
            for t in range(hs.shape[0] - 1, -1, -1):
                dh += gt[t]
                # d tanh(a)/da = 1 - h^2;  d relu(a)/da = [h > 0]
                if ctx.relu:
                    np.multiply(dh, hs[t] > 0, out=da[t])
                else:
                    np.multiply(dh, 1 - hs[t] * hs[t], out=da[t])
                dh = da[t] @ w_hh
        dx, dw_ih, dw_hh, db = _input_grads(ctx, da, xt, w_ih, h0, hs)
        return dx, dh, dw_ih, dw_hh, db, db


# ---- LSTM --------------------------------------------------------------------------------------
# Inside, the gates are reordered from PyTorch's (i, f, g, o) to (i, f, o, g), so the three
# sigmoid gates are one contiguous block [:3H] and the tanh gate the block [3H:].


def _lstm_perm(h: int) -> np.ndarray:
    """Row order taking PyTorch's (i, f, g, o) gate blocks to (i, f, o, g)."""
    r = np.arange(h)
    return np.concatenate([r, r + h, r + 3 * h, r + 2 * h])


def _gate_scale(n_sig: int, n_tanh: int, h: int, dtype) -> np.ndarray:
    """0.5 for the rows of sigmoid gates (sigmoid(a) = (1 + tanh(a/2)) / 2), 1 for tanh gates."""
    return np.concatenate([np.full(n_sig * h, 0.5, dtype), np.ones(n_tanh * h, dtype)])


class LSTMLayer(Function):
    """The LSTM recurrence over a sequence. Two outputs: every h_t (in the input's layout) and
    the last cell state c_T (N, H)."""

    @staticmethod
    def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh, batch_first=False):
        xt = _tm(x, batch_first)
        nt, n, _ = xt.shape
        h = h0.shape[1]
        perm = _lstm_perm(h)
        s = _gate_scale(3, 1, h, x.dtype)
        w_ih_p, w_hh_p = w_ih[perm], w_hh[perm]
        b = None if b_ih is None and b_hh is None else (
            ((0 if b_ih is None else b_ih) + (0 if b_hh is None else b_hh))[perm] * s)
        gates = _project(xt, w_ih_p * s[:, None], b)  # (T, N, 4H), activated in place
        w_hh_t = np.ascontiguousarray((w_hh_p * s[:, None]).T)
        cs = np.empty((nt, n, h), dtype=x.dtype)
        tc = np.empty_like(cs)
        hs = np.empty_like(cs)
        # batch-first: each h_t is also copied into the output while it is still in cache
        out_bf = np.empty((n, nt, h), dtype=x.dtype) if batch_first else None
        buf = np.empty((n, 4 * h), dtype=x.dtype)
        h_prev, c_prev = h0, c0
        with _loop_threads():
            for t in range(nt):
                a = gates[t]
                np.matmul(h_prev, w_hh_t, out=buf)
                a += buf
                np.tanh(a, out=a)
                sig = a[:, : 3 * h]
                sig *= 0.5
                sig += 0.5
                i, f, o, gg = a[:, :h], a[:, h : 2 * h], a[:, 2 * h : 3 * h], a[:, 3 * h :]
                c = cs[t]
                np.multiply(f, c_prev, out=c)
                c += i * gg  # c_t = f c_{t-1} + i g
                np.tanh(c, out=tc[t])
                np.multiply(o, tc[t], out=hs[t])  # h_t = o tanh(c_t)
                if batch_first:
                    out_bf[:, t] = hs[t]
                h_prev, c_prev = hs[t], c
        ctx.save_for_backward(xt, h0, c0, w_ih_p, w_hh_p, gates, cs, tc, hs)
        ctx.batch_first = batch_first
        ctx.perm = perm
        return (out_bf if batch_first else hs), c_prev.copy()

    @staticmethod
    def backward(ctx, g_out, g_c):
        xt, h0, c0, w_ih_p, w_hh_p, gates, cs, tc, hs = ctx.saved
        nt, n, h = hs.shape
        gh = g_out.transpose(1, 0, 2) if ctx.batch_first else g_out
        dc = g_c.copy()
        dh = np.zeros_like(h0)
        da = np.empty_like(gates)
        tmp = np.empty_like(h0)
        with _loop_threads():
            for t in range(nt - 1, -1, -1):
                dh += gh[t]
                a = gates[t]
                i, f, o, gg = a[:, :h], a[:, h : 2 * h], a[:, 2 * h : 3 * h], a[:, 3 * h :]
                d = da[t]
                di, df, do, dg = d[:, :h], d[:, h : 2 * h], d[:, 2 * h : 3 * h], d[:, 3 * h :]
                c_prev = cs[t - 1] if t else c0
                # h = o tanh(c): do = dh tanh(c), dc += dh o (1 - tanh(c)^2)
                np.multiply(dh, tc[t], out=do)
                np.multiply(tc[t], tc[t], out=tmp)
                np.subtract(1, tmp, out=tmp)
                tmp *= o
                tmp *= dh
                dc += tmp
                # c = f c_prev + i g
                np.multiply(dc, gg, out=di)
                np.multiply(dc, c_prev, out=df)
                np.multiply(dc, i, out=dg)
                dc *= f
                # through the nonlinearities: sigmoid' = s (1 - s), tanh' = 1 - g^2
                sig = a[:, : 3 * h]
                d[:, : 3 * h] *= sig - sig * sig
                dg *= 1 - gg * gg
                dh = d @ w_hh_p
        dx, dw_ih, dw_hh, db = _input_grads(ctx, da, xt, w_ih_p, h0, hs)
        inv = np.argsort(ctx.perm)  # back to PyTorch's gate order
        dw_ih = None if dw_ih is None else dw_ih[inv]
        dw_hh = None if dw_hh is None else dw_hh[inv]
        db = None if db is None else db[inv]
        return dx, dh, dc, dw_ih, dw_hh, db, db


# ---- GRU ---------------------------------------------------------------------------------------


class GRULayer(Function):
    """r, z = sigmoid(x W_i{r,z}^T + h W_h{r,z}^T + b), n = tanh(x W_in^T + b_in + r (h W_hn^T +
    b_hn)), h' = (1 - z) n + z h, as PyTorch."""

    @staticmethod
    def forward(ctx, x, h0, w_ih, w_hh, b_ih, b_hh, batch_first=False):
        xt = _tm(x, batch_first)
        nt, n, _ = xt.shape
        h = h0.shape[1]
        s = _gate_scale(2, 1, h, x.dtype)
        # r and z take both biases; b_hn stays inside r * (h W_hn^T + b_hn)
        b = np.zeros(3 * h, dtype=x.dtype)
        if b_ih is not None:
            b += b_ih
        if b_hh is not None:
            b[: 2 * h] += b_hh[: 2 * h]
        b_hn = None if b_hh is None else b_hh[2 * h :]
        gates = _project(xt, w_ih * s[:, None], b * s)  # (T, N, 3H) -> r, z, n in place
        w_hh_t = np.ascontiguousarray((w_hh * s[:, None]).T)
        ghn = np.empty((nt, n, h), dtype=x.dtype)  # h W_hn^T + b_hn, needed by the backward
        hs = np.empty_like(ghn)
        buf = np.empty((n, 3 * h), dtype=x.dtype)
        h_prev = h0
        with _loop_threads():
            for t in range(nt):
                a = gates[t]
                np.matmul(h_prev, w_hh_t, out=buf)
                a[:, : 2 * h] += buf[:, : 2 * h]
                rz = a[:, : 2 * h]
                np.tanh(rz, out=rz)
                rz *= 0.5
                rz += 0.5
                r, z, nn_ = a[:, :h], a[:, h : 2 * h], a[:, 2 * h :]
                hn = ghn[t]
                hn[...] = buf[:, 2 * h :]
                if b_hn is not None:
                    hn += b_hn
                nn_ += r * hn
                np.tanh(nn_, out=nn_)
                # h' = n + z (h - n)
                out = hs[t]
                np.subtract(h_prev, nn_, out=out)
                out *= z
                out += nn_
                h_prev = out
        ctx.save_for_backward(xt, h0, w_ih, w_hh, gates, ghn, hs)
        ctx.batch_first = batch_first
        return np.ascontiguousarray(hs.transpose(1, 0, 2)) if batch_first else hs

    @staticmethod
    def backward(ctx, g):
        xt, h0, w_ih, w_hh, gates, ghn, hs = ctx.saved
        nt, n, h = hs.shape
        gt = g.transpose(1, 0, 2) if ctx.batch_first else g
        dx_pre = np.empty_like(gates)  # d loss / d (x W_ih^T + b_ih), per gate
        dh_pre = np.empty_like(gates)  # d loss / d (h W_hh^T + b_hh), per gate
        dh = np.zeros_like(h0)
        with _loop_threads():
            for t in range(nt - 1, -1, -1):
                dh += gt[t]
                a = gates[t]
                r, z, nn_ = a[:, :h], a[:, h : 2 * h], a[:, 2 * h :]
                h_prev = hs[t - 1] if t else h0
                dxp, dhp = dx_pre[t], dh_pre[t]
                # h' = (1 - z) n + z h_prev
                dan = dxp[:, 2 * h :]
                np.multiply(dh, 1 - z, out=dan)
                dan *= 1 - nn_ * nn_  # through tanh
                np.multiply(dh, h_prev - nn_, out=dxp[:, h : 2 * h])  # dz
                np.multiply(dan, ghn[t], out=dxp[:, :h])  # dr = dan * (h W_hn^T + b_hn)
                rz = a[:, : 2 * h]
                dxp[:, : 2 * h] *= rz - rz * rz  # through the sigmoids
                dhp[:, : 2 * h] = dxp[:, : 2 * h]
                np.multiply(dan, r, out=dhp[:, 2 * h :])
                dh = dh * z + dhp @ w_hh
        need = ctx.needs_input_grad
        dx, dw_ih, dw_hh, db_ih = _input_grads(ctx, dx_pre, xt, w_ih, h0, hs, w_hh_rows=dh_pre)
        db_hh = None
        if need[5]:
            db_hh = np.ones(nt * n, dtype=g.dtype) @ dh_pre.reshape(nt * n, 3 * h)
        return dx, dh, dw_ih, dw_hh, db_ih, db_hh


# ---- public functions --------------------------------------------------------------------------


def _arr(x):
    return x.array if isinstance(x, Tensor) else np.asarray(x)


def _check(name, x, hx, w_ih, w_hh, b_ih, b_hh, gates, batch_first, cell=False):
    """Validate shapes; return (N, H)."""
    xa = _arr(x)
    want = 2 if cell else 3
    if xa.ndim != want:
        layout = "(N, D)" if cell else ("(N, T, D)" if batch_first else "(T, N, D)")
        raise ValueError(f"{name}: input must be {want}-D {layout}, got shape {xa.shape}")
    wi, wh = _arr(w_ih), _arr(w_hh)
    h = wh.shape[1] if wh.ndim == 2 else -1
    if wh.shape != (gates * h, h) or h <= 0:
        raise ValueError(f"{name}: w_hh must have shape ({gates} H, H), got {wh.shape}")
    d = xa.shape[-1]
    if wi.shape != (gates * h, d):
        raise ValueError(
            f"{name}: w_ih must have shape ({gates * h}, {d}) for input features {d} and hidden "
            f"size {h}, got {wi.shape}")
    for bname, b in (("b_ih", b_ih), ("b_hh", b_hh)):
        if b is not None and _arr(b).shape != (gates * h,):
            raise ValueError(f"{name}: {bname} must have shape ({gates * h},), got "
                             f"{_arr(b).shape}")
    for aname, a in (("w_ih", wi), ("w_hh", wh), ("b_ih", b_ih), ("b_hh", b_hh)):
        if a is not None and _arr(a).dtype != xa.dtype:
            raise TypeError(f"{name}: {aname} has dtype {_arr(a).dtype} but input has dtype "
                            f"{xa.dtype}; convert one (e.g. module.float() or x.double())")
    n = xa.shape[0] if (cell or batch_first) else xa.shape[1]
    for hname, s in hx:
        if s is not None and _arr(s).shape != (n, h):
            raise ValueError(f"{name}: {hname} must have shape (N, H) = ({n}, {h}), got "
                             f"{_arr(s).shape}")
        if s is not None and _arr(s).dtype != xa.dtype:
            raise TypeError(f"{name}: {hname} has dtype {_arr(s).dtype} but input has dtype "
                            f"{xa.dtype}")
    return n, h


def _zeros(s, n, h, x):
    return np.zeros((n, h), dtype=_arr(x).dtype) if s is None else s


def rnn_layer(input: Tensor, h0: Tensor | None, w_ih: Tensor, w_hh: Tensor,
              b_ih: Tensor | None = None, b_hh: Tensor | None = None,
              nonlinearity: str = "tanh", batch_first: bool = False) -> Tensor:
    """One vanilla RNN layer over a sequence: ``h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T +
    b_hh)`` with act tanh or relu.

    Args: input (T, N, D) or (N, T, D) with ``batch_first``; h0 (N, H) or None (zeros);
        w_ih (H, D); w_hh (H, H); b_ih, b_hh (H,) or None.
    Returns: every h_t, (T, N, H) or (N, T, H); the last step is h_T.
    """
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"rnn_layer: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
    n, h = _check("rnn_layer", input, [("h0", h0)], w_ih, w_hh, b_ih, b_hh, 1, batch_first)
    return RNNLayer.apply(input, _zeros(h0, n, h, input), w_ih, w_hh, b_ih, b_hh,
                          nonlinearity=nonlinearity, batch_first=batch_first)


def lstm_layer(input: Tensor, h0: Tensor | None, c0: Tensor | None, w_ih: Tensor,
               w_hh: Tensor, b_ih: Tensor | None = None, b_hh: Tensor | None = None,
               batch_first: bool = False) -> tuple[Tensor, Tensor]:
    """One LSTM layer over a sequence (gates i, f, g, o as PyTorch).

    Args: input (T, N, D) or (N, T, D) with ``batch_first``; h0, c0 (N, H) or None (zeros);
        w_ih (4H, D); w_hh (4H, H); b_ih, b_hh (4H,) or None.
    Returns: ``(output, c_T)``: every h_t, (T, N, H) or (N, T, H), and the last cell state (N, H).
    """
    n, h = _check("lstm_layer", input, [("h0", h0), ("c0", c0)], w_ih, w_hh, b_ih, b_hh, 4,
                  batch_first)
    return LSTMLayer.apply(input, _zeros(h0, n, h, input), _zeros(c0, n, h, input), w_ih, w_hh,
                           b_ih, b_hh, batch_first=batch_first)


def gru_layer(input: Tensor, h0: Tensor | None, w_ih: Tensor, w_hh: Tensor,
              b_ih: Tensor | None = None, b_hh: Tensor | None = None,
              batch_first: bool = False) -> Tensor:
    """One GRU layer over a sequence (gates r, z, n as PyTorch).

    Args: input (T, N, D) or (N, T, D) with ``batch_first``; h0 (N, H) or None (zeros);
        w_ih (3H, D); w_hh (3H, H); b_ih, b_hh (3H,) or None.
    Returns: every h_t, (T, N, H) or (N, T, H).
    """
    n, h = _check("gru_layer", input, [("h0", h0)], w_ih, w_hh, b_ih, b_hh, 3, batch_first)
    return GRULayer.apply(input, _zeros(h0, n, h, input), w_ih, w_hh, b_ih, b_hh,
                          batch_first=batch_first)


def _step(x):
    return x.reshape(1, *x.shape)


def rnn_cell(input: Tensor, hx: Tensor | None, w_ih: Tensor, w_hh: Tensor,
             b_ih: Tensor | None = None, b_hh: Tensor | None = None,
             nonlinearity: str = "tanh") -> Tensor:
    """One step of a vanilla RNN: input (N, D), hx (N, H) or None -> h' (N, H).

    One graph node: the sequence Function run over a single time step."""
    n, h = _check("rnn_cell", input, [("hx", hx)], w_ih, w_hh, b_ih, b_hh, 1, False, cell=True)
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"rnn_cell: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
    out = RNNLayer.apply(_step(input), _zeros(hx, n, h, input), w_ih, w_hh, b_ih, b_hh,
                         nonlinearity=nonlinearity)
    return out.reshape(n, h)


def lstm_cell(input: Tensor, hx: tuple | None, w_ih: Tensor, w_hh: Tensor,
              b_ih: Tensor | None = None, b_hh: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """One LSTM step: input (N, D), hx = (h, c) each (N, H), or None -> (h', c')."""
    h0, c0 = (None, None) if hx is None else hx
    n, h = _check("lstm_cell", input, [("h", h0), ("c", c0)], w_ih, w_hh, b_ih, b_hh, 4, False,
                  cell=True)
    out, c = LSTMLayer.apply(_step(input), _zeros(h0, n, h, input), _zeros(c0, n, h, input),
                             w_ih, w_hh, b_ih, b_hh)
    return out.reshape(n, h), c


def gru_cell(input: Tensor, hx: Tensor | None, w_ih: Tensor, w_hh: Tensor,
             b_ih: Tensor | None = None, b_hh: Tensor | None = None) -> Tensor:
    """One GRU step: input (N, D), hx (N, H) or None -> h' (N, H)."""
    n, h = _check("gru_cell", input, [("hx", hx)], w_ih, w_hh, b_ih, b_hh, 3, False, cell=True)
    out = GRULayer.apply(_step(input), _zeros(hx, n, h, input), w_ih, w_hh, b_ih, b_hh)
    return out.reshape(n, h)
