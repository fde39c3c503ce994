"""L-BFGS (Nocedal & Wright, *Numerical Optimization*, algorithms 7.4 and 7.5), with PyTorch's
``torch.optim.LBFGS`` interface and its documented choices.

Each ``step(closure)`` runs up to ``max_iter`` iterations. An iteration turns the gradient into a
search direction with the two-loop recursion over the last ``history_size`` pairs
``s = x_{k+1} - x_k``, ``y = g_{k+1} - g_k`` (the initial inverse Hessian is ``gamma I`` with
``gamma = s.y / y.y``, N&W eq. 7.20), then steps along it: by ``lr`` (the very first step by
``min(1, 1/|g|_1) * lr``, so a huge first gradient does not throw the parameters far), or by a
strong-Wolfe line search (N&W algorithms 3.5 and 3.6, cubic interpolation, ``c1 = 1e-4``,
``c2 = 0.9``, within what is left of ``max_eval``). A pair with ``s.y <= 1e-10`` is skipped (it
would make the approximation indefinite). It stops early when the largest gradient entry is
``<= tolerance_grad``, or the step or the change in loss is ``< tolerance_change``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

import numpy as np

from ..autograd.grad_mode import enable_grad
from ..autograd.tensor import Tensor
from .optimizer import Optimizer, check_option

__all__ = ["LBFGS"]


def _cubic_minimizer(t1, f1, g1, t2, f2, g2, bounds=None) -> float:
    """Minimiser of the cubic through ``(t1, f1)``, ``(t2, f2)`` with slopes ``g1``, ``g2``
    (N&W eq. 3.59), clipped to ``bounds`` (default: between the two points); the middle of the
    bounds when the cubic has no minimum."""
    lo, hi = bounds if bounds is not None else (min(t1, t2), max(t1, t2))
    d1 = g1 + g2 - 3 * (f1 - f2) / (t1 - t2)
    disc = d1 * d1 - g1 * g2
    if disc < 0:
        return (lo + hi) / 2
    d2 = math.sqrt(disc)
    if t1 <= t2:
        t = t2 - (t2 - t1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
    else:
        t = t1 - (t1 - t2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
    return min(max(t, lo), hi)


def _strong_wolfe(evaluate, t, d, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9,
                  max_ls=25):
    """Find a step ``t`` along ``d`` with sufficient decrease and small slope (strong Wolfe).

    ``evaluate(t)`` returns ``(loss, flat_grad)`` at ``x + t d``. Returns
    ``(loss, grad, t, evaluations)`` at the accepted step.
    """
    d_norm = float(np.abs(d).max())
    f_new, g_new = evaluate(t)
    evals = 1
    gtd_new = float(g_new @ d)
    # phase 1 (N&W alg. 3.5): grow the step until an interval brackets an acceptable point
    t_prev, f_prev, g_prev, gtd_prev = 0.0, f, g, gtd
    found = False
    it = 0
    bracket = None
    while it < max_ls:
        if f_new > f + c1 * t * gtd or (it > 1 and f_new >= f_prev):
            bracket = [[t_prev, f_prev, g_prev, gtd_prev], [t, f_new, g_new, gtd_new]]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket = [[t, f_new, g_new, gtd_new]]
            found = True
            break
        if gtd_new >= 0:
            bracket = [[t_prev, f_prev, g_prev, gtd_prev], [t, f_new, g_new, gtd_new]]
            break
        # extrapolate: the cubic's minimiser, kept between 1.01 t and 10 t
        t_next = _cubic_minimizer(t_prev, f_prev, gtd_prev, t, f_new, gtd_new,
                                  bounds=(t + 0.01 * (t - t_prev), t * 10))
        t_prev, f_prev, g_prev, gtd_prev = t, f_new, g_new, gtd_new
        t = t_next
        f_new, g_new = evaluate(t)
        evals += 1
        gtd_new = float(g_new @ d)
        it += 1
    if it == max_ls:
        bracket = [[0.0, f, g, None], [t, f_new, g_new, None]]
    # phase 2 (N&W alg. 3.6, "zoom"): shrink the bracket by cubic interpolation
    lo, hi = (0, 1) if bracket[0][1] <= bracket[-1][1] else (1, 0)
    stalled = False
    while not found and it < max_ls:
        (ta, fa, _, ga), (tb, fb, _, gb) = bracket
        if abs(tb - ta) * d_norm < tolerance_change:
            break
        t = _cubic_minimizer(ta, fa, ga, tb, fb, gb)
        # a point too near an end of the bracket makes little progress: move it inwards
        top, bottom = max(ta, tb), min(ta, tb)
        eps = 0.1 * (top - bottom)
        if min(top - t, t - bottom) < eps:
            if stalled or t >= top or t <= bottom:
                t = top - eps if abs(t - top) < abs(t - bottom) else bottom + eps
                stalled = False
            else:
                stalled = True
        else:
            stalled = False
        f_new, g_new = evaluate(t)
        evals += 1
        gtd_new = float(g_new @ d)
        it += 1
        new = [t, f_new, g_new, gtd_new]
        if f_new > f + c1 * t * gtd or f_new >= bracket[lo][1]:
            bracket[hi] = new
            lo, hi = (0, 1) if bracket[0][1] <= bracket[1][1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                found = True
            elif gtd_new * (bracket[hi][0] - bracket[lo][0]) >= 0:
                bracket[hi] = bracket[lo]
            bracket[lo] = new
    t, f_new, g_new, _ = bracket[lo]
    return f_new, g_new, t, evals


class LBFGS(Optimizer):
    """Limited-memory BFGS, as ``torch.optim.LBFGS``: ``opt.step(closure)`` where ``closure``
    clears the gradients, computes the loss, calls ``backward`` and returns the loss.

    Args:
        params: iterable of Tensors (one group only: the method treats them as one vector).
        lr: step length (default 1).
        max_iter: iterations per ``step`` (default 20).
        max_eval: closure evaluations per ``step`` (default ``max_iter * 5 // 4``).
        tolerance_grad: stop when every gradient entry is at most this in size (default 1e-7).
        tolerance_change: stop when the step or the loss change is smaller (default 1e-9).
        history_size: number of ``(s, y)`` pairs kept (default 100).
        line_search_fn: None (fixed step ``lr``) or ``"strong_wolfe"``.

    Raises:
        ValueError: several parameter groups, an option out of range, or an unknown
            ``line_search_fn``.
    """

    def __init__(
        self,
        params: Iterable,
        lr: float = 1.0,
        max_iter: int = 20,
        max_eval: int | None = None,
        tolerance_grad: float = 1e-7,
        tolerance_change: float = 1e-9,
        history_size: int = 100,
        line_search_fn: str | None = None,
    ):
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        defaults = {
            "lr": lr, "max_iter": max_iter, "max_eval": max_eval,
            "tolerance_grad": tolerance_grad, "tolerance_change": tolerance_change,
            "history_size": history_size, "line_search_fn": line_search_fn,
        }  # fmt: skip
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS: does not support several parameter groups (it treats the "
                             "parameters as one vector)")
        self._params = self.param_groups[0]["params"]

    def _validate_group(self, group: dict) -> None:
        for key in ("lr", "tolerance_grad", "tolerance_change"):
            check_option("LBFGS", key, group[key])
        for key in ("max_iter", "max_eval", "history_size"):
            check_option("LBFGS", key, group[key], 1)
        if group["line_search_fn"] not in (None, "strong_wolfe"):
            raise ValueError(f"LBFGS: line_search_fn must be None or 'strong_wolfe', got "
                             f"{group['line_search_fn']!r}")

    # ---- the parameters as one vector ------------------------------------------------------

    def _flat_grad(self) -> np.ndarray:
        parts = []
        for p in self._params:
            if p.grad is None:
                parts.append(np.zeros(p.array.size, dtype=p.dtype))
            else:
                g = p.grad.array if isinstance(p.grad, Tensor) else p.grad
                parts.append(g.reshape(-1))
        return np.concatenate(parts)

    def _add_to_params(self, step: float, d: np.ndarray) -> None:
        offset = 0
        for p in self._params:
            n = p.array.size
            p.array += (step * d[offset:offset + n]).reshape(p.shape).astype(p.dtype, copy=False)
            p._bump_version()  # a graph that saved p's old values must not use the new ones
            offset += n

    def _get_params(self) -> list[np.ndarray]:
        return [p.array.copy() for p in self._params]

    def _set_params(self, arrays: list[np.ndarray]) -> None:
        for p, a in zip(self._params, arrays):
            p.array[...] = a
            p._bump_version()

    # ---- one step ------------------------------------------------------------------------------

    def step(self, closure: Callable):  # type: ignore[override]
        """Run up to ``max_iter`` iterations; returns the loss the first ``closure()`` gave."""
        if closure is None:
            raise ValueError("LBFGS.step: needs a closure that recomputes the loss and its "
                             "gradients (opt.step(closure))")
        group = self.param_groups[0]
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        tol_grad, tol_change = group["tolerance_grad"], group["tolerance_change"]
        history_size, line_search = group["history_size"], group["line_search_fn"]
        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        def evaluate() -> float:
            with enable_grad():
                return float(closure())

        with enable_grad():
            orig_loss = closure()
        loss = float(orig_loss)
        evals = 1
        state["func_evals"] += 1
        g = self._flat_grad()
        if np.abs(g).max() <= tol_grad:
            return orig_loss

        d, t = state.get("d"), state.get("t")
        s_hist, y_hist, rho = state.get("old_stps"), state.get("old_dirs"), state.get("ro")
        gamma, g_prev, loss_prev = state.get("H_diag"), state.get("prev_flat_grad"), \
            state.get("prev_loss")
        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            if state["n_iter"] == 1:
                d = -g
                s_hist, y_hist, rho = [], [], []
                gamma = 1.0
            else:
                y = g - g_prev
                s = d * t
                ys = float(y @ s)
                if ys > 1e-10:  # curvature condition: keep only pairs that keep H positive
                    if len(y_hist) == history_size:
                        s_hist.pop(0)
                        y_hist.pop(0)
                        rho.pop(0)
                    s_hist.append(s)
                    y_hist.append(y)
                    rho.append(1.0 / ys)
                    gamma = ys / float(y @ y)
                # two-loop recursion (N&W alg. 7.4): d = -H g
                q = -g
                alpha = [0.0] * len(s_hist)
                for i in range(len(s_hist) - 1, -1, -1):
                    alpha[i] = float(s_hist[i] @ q) * rho[i]
                    q = q - alpha[i] * y_hist[i]
                d = q * gamma
                for i in range(len(s_hist)):
                    beta = float(y_hist[i] @ d) * rho[i]
                    d = d + s_hist[i] * (alpha[i] - beta)
            g_prev = g.copy()
            loss_prev = loss
            # the first step ever is scaled by 1/|g|_1 (at most 1): no curvature known yet
            t = min(1.0, 1.0 / float(np.abs(g).sum())) * lr if state["n_iter"] == 1 else lr
            gtd = float(g @ d)
            if gtd > -tol_change:  # not a descent direction any more
                break
            if line_search == "strong_wolfe":
                x0 = self._get_params()

                def at(step, x0=x0, d=d):
                    self._add_to_params(step, d)
                    f_step = evaluate()
                    g_step = self._flat_grad()
                    self._set_params(x0)
                    return f_step, g_step

                # the search may use what is left of this step's max_eval
                loss, g, t, ls_evals = _strong_wolfe(at, t, d, loss, g, gtd,
                                                     max_ls=max_eval - evals)
                self._add_to_params(t, d)
                converged = np.abs(g).max() <= tol_grad
            else:
                self._add_to_params(t, d)
                ls_evals = 0
                converged = False
                if n_iter != max_iter:
                    # re-evaluate for the next direction (skipped on the last iteration: the
                    # next step() starts with a closure call anyway)
                    loss = evaluate()
                    g = self._flat_grad()
                    converged = np.abs(g).max() <= tol_grad
                    ls_evals = 1
            evals += ls_evals
            state["func_evals"] += ls_evals
            if n_iter == max_iter or evals >= max_eval or converged:
                break
            if np.abs(d * t).max() <= tol_change or abs(loss - loss_prev) < tol_change:
                break
        state.update(d=d, t=t, old_dirs=y_hist, old_stps=s_hist, ro=rho, H_diag=gamma,
                     prev_flat_grad=g_prev, prev_loss=loss_prev)
        return orig_loss
