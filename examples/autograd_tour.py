"""A tour of striate's autograd: tensors record a graph, backward walks it once.

Run: python examples/autograd_tour.py
"""

import numpy as np

import striate
import striate.functional as F

striate.manual_seed(0)

# A scalar function of a vector: y = sum(x * x), so dy/dx = 2x.
x = striate.tensor([1.0, 2.0, 3.0], requires_grad=True)
y = (x * x).sum()
y.backward()
print("x.grad         ", x.grad.array)  # [2. 4. 6.]

# Gradients accumulate in .grad until you clear them, as in PyTorch.
(3 * x).sum().backward()
print("accumulated    ", x.grad.array)  # [5. 7. 9.]
x.grad = None

# A hook sees (and may replace) the gradient flowing into a tensor.
h = x * 2
h.register_hook(lambda g: print("grad into h    ", g.array))
h.sum().backward()

# no_grad: nothing is recorded, so nothing can be differentiated.
with striate.no_grad():
    z = x * 2
print("z.requires_grad", z.requires_grad)  # False

# Every op is checked against centred differences in float64: a softmax over rows.
a = striate.tensor(np.random.default_rng(0).standard_normal((4, 5)), requires_grad=True)
print("gradcheck      ", striate.autograd.gradcheck(lambda t: F.log_softmax(t, dim=1), [a]))

# Backpropagation through a two-layer network, by hand against autograd.
rng = np.random.default_rng(1)
X, W1, W2 = rng.standard_normal((8, 3)), rng.standard_normal((3, 4)), rng.standard_normal((4, 1))
w1 = striate.tensor(W1, requires_grad=True)
w2 = striate.tensor(W2, requires_grad=True)
loss = (F.relu(striate.tensor(X) @ w1) @ w2).sum()
loss.backward()
hidden = X @ W1
dhidden = np.ones((8, 1)) @ W2.T * (hidden > 0)  # upstream gradient through the ReLU
print("dW1 matches    ", np.allclose(w1.grad.array, X.T @ dhidden))
