# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.17.1
# ---

# %% [markdown]
"""
# Autograd - Reverse-Mode Automatic Differentiation

Training needs the gradient of a loss with respect to every parameter. Writing those
derivatives by hand for each network is error-prone; autograd does it mechanically.
Each operation records its inputs and a small function that turns the gradient of its
output into gradients of its inputs (the chain rule). `backward()` walks that record in
reverse.

## Learning Goals
- Build `Variable`, a Tensor wrapper that remembers how it was computed
- Write the local derivative of add, sub, mul, div, neg, matmul, pow, sum, mean, relu, sigmoid, tanh
- Handle broadcasting in the backward pass
- Implement `backward()` with a topological sort and gradient accumulation

## The contract
- `Variable(x, requires_grad=True)` accepts lists, arrays, numpy scalars, Tensors and Variables.
  `v.data` is a Tensor (so `v.data.data` is the numpy array). A Tensor passed in is **shared**,
  not copied: updating the Variable's values updates the Tensor, e.g. a layer's weight.
- `v.grad` is `None` or a Tensor with the shape of `v.data`; gradients accumulate until reset.
- Only leaves (Variables you created, not results of operations) keep a `.grad`.
"""

# %% nbgrader={"grade": false, "grade_id": "autograd-imports", "locked": false, "schema_version": 3, "solution": false, "task": false}
#| default_exp core.autograd

#| export
import numpy as np
from tinytorch.core.tensor import Tensor

# %% [markdown]
"""
## Step 1: The Variable and the graph

Every result of an operation is a Variable with two extra fields: `_parents` (the input
Variables) and `grad_fn`, a function that takes the gradient of the result (a numpy array)
and returns one gradient per parent. `_result` builds such a node; a result requires
gradients if any input does.

### Broadcasting in reverse
If `b` of shape (3,) was broadcast to (2, 3) in `a + b`, then every row used `b`, so its
gradient is the **sum** of the incoming gradient over the broadcast rows. `_unbroadcast`
does that summation for any shape; it is given to you.
"""

# %% nbgrader={"grade": false, "grade_id": "unbroadcast-helper", "locked": false, "schema_version": 3, "solution": false, "task": false}
#| export
def _unbroadcast(grad: np.ndarray, shape) -> np.ndarray:
    """Sum `grad` down to `shape`, undoing numpy broadcasting."""
    grad = np.asarray(grad, dtype=np.float64)
    while grad.ndim > len(shape):
        grad = grad.sum(axis=0)
    for axis, size in enumerate(shape):
        if size == 1 and grad.shape[axis] != 1:
            grad = grad.sum(axis=axis, keepdims=True)
    return grad


def _as_array(value) -> np.ndarray:
    """numpy values of a Variable, Tensor, array or number."""
    while isinstance(value, (Variable, Tensor)):
        value = value.data
    return np.asarray(value)

# %% nbgrader={"grade": false, "grade_id": "variable-class", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
class Variable:
    """A Tensor that records the operations applied to it, for reverse-mode autodiff."""

    def __init__(self, data, requires_grad: bool = True, grad_fn=None, _parents=()):
        if isinstance(data, Variable):
            data = data.data
        self.data = data if isinstance(data, Tensor) else Tensor(data)
        self.requires_grad = bool(requires_grad)
        self.grad = None
        self.grad_fn = grad_fn
        self._parents = tuple(_parents)

    # ----- helpers (given) -----
    @property
    def shape(self):
        return self.data.shape

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    def numpy(self) -> np.ndarray:
        return self.data.data

    def item(self):
        return self.data.data.item()

    def zero_grad(self) -> None:
        self.grad = None

    def detach(self) -> "Variable":
        return Variable(Tensor(self.data.data), requires_grad=False)

    def __repr__(self) -> str:
        return f"Variable({self.data.data.tolist()}, requires_grad={self.requires_grad})"

    @staticmethod
    def _lift(value) -> "Variable":
        """Wrap a constant (number, array, Tensor) as a Variable that needs no gradient."""
        return value if isinstance(value, Variable) else Variable(value, requires_grad=False)

    @staticmethod
    def _result(value, parents, grad_fn) -> "Variable":
        """A new graph node holding `value`, computed from `parents`."""
        requires_grad = any(p.requires_grad for p in parents)
        if not requires_grad:
            return Variable(Tensor(value), requires_grad=False)
        return Variable(Tensor(value), requires_grad=True, grad_fn=grad_fn, _parents=parents)

    # ----- operations: forward value and local gradient -----
    def __add__(self, other) -> "Variable":
        """
        TODO: Return self + other as a graph node.

        EXAMPLE of the pattern every operation follows:
            other = Variable._lift(other)
            a, b = self.data.data, other.data.data
            return Variable._result(a + b, (self, other),
                                    lambda g: (_unbroadcast(g, a.shape), _unbroadcast(g, b.shape)))
        """
        ### BEGIN SOLUTION
        other = Variable._lift(other)
        a, b = self.data.data, other.data.data
        return Variable._result(a + b, (self, other),
                                lambda g: (_unbroadcast(g, a.shape), _unbroadcast(g, b.shape)))
        ### END SOLUTION

    def __sub__(self, other) -> "Variable":
        """TODO: self - other; d/da = 1, d/db = -1."""
        ### BEGIN SOLUTION
        other = Variable._lift(other)
        a, b = self.data.data, other.data.data
        return Variable._result(a - b, (self, other),
                                lambda g: (_unbroadcast(g, a.shape), _unbroadcast(-g, b.shape)))
        ### END SOLUTION

    def __mul__(self, other) -> "Variable":
        """TODO: self * other (element-wise); d/da = b, d/db = a."""
        ### BEGIN SOLUTION
        other = Variable._lift(other)
        a, b = self.data.data, other.data.data
        return Variable._result(a * b, (self, other),
                                lambda g: (_unbroadcast(g * b, a.shape), _unbroadcast(g * a, b.shape)))
        ### END SOLUTION

    def __truediv__(self, other) -> "Variable":
        """TODO: self / other; d/da = 1/b, d/db = -a/b**2."""
        ### BEGIN SOLUTION
        other = Variable._lift(other)
        a, b = self.data.data, other.data.data
        return Variable._result(a / b, (self, other),
                                lambda g: (_unbroadcast(g / b, a.shape), _unbroadcast(-g * a / (b * b), b.shape)))
        ### END SOLUTION

    def __neg__(self) -> "Variable":
        """TODO: -self; the gradient flips sign."""
        ### BEGIN SOLUTION
        return Variable._result(-self.data.data, (self,), lambda g: (-g,))
        ### END SOLUTION

    def __pow__(self, exponent: float) -> "Variable":
        """TODO: self ** exponent for a constant number; d/da = exponent * a**(exponent-1)."""
        ### BEGIN SOLUTION
        a = self.data.data
        return Variable._result(a ** exponent, (self,), lambda g: (g * exponent * a ** (exponent - 1),))
        ### END SOLUTION

    def __matmul__(self, other) -> "Variable":
        """TODO: 2-D matrix product; dA = g @ B.T, dB = A.T @ g."""
        ### BEGIN SOLUTION
        other = Variable._lift(other)
        a, b = self.data.data, other.data.data
        return Variable._result(a @ b, (self, other), lambda g: (g @ b.T, a.T @ g))
        ### END SOLUTION

    # Reflected operators reuse the ones above.
    def __radd__(self, other): return self + other
    def __rsub__(self, other): return Variable._lift(other) - self
    def __rmul__(self, other): return self * other
    def __rtruediv__(self, other): return Variable._lift(other) / self

    def sum(self, axis=None, keepdims: bool = False) -> "Variable":
        """TODO: Sum over `axis` (all axes when None); the gradient is copied back to every summed element."""
        ### BEGIN SOLUTION
        a = self.data.data

        def grad_fn(g):
            if axis is not None and not keepdims:
                g = np.expand_dims(g, axis)
            return (np.broadcast_to(g, a.shape).astype(np.float64),)
        return Variable._result(np.sum(a, axis=axis, keepdims=keepdims), (self,), grad_fn)
        ### END SOLUTION

    def mean(self, axis=None, keepdims: bool = False) -> "Variable":
        """TODO: Mean = sum / number of averaged elements (reuse sum)."""
        ### BEGIN SOLUTION
        a = self.data.data
        count = a.size if axis is None else np.prod([a.shape[ax] for ax in np.atleast_1d(axis)])
        return self.sum(axis=axis, keepdims=keepdims) * (1.0 / count)
        ### END SOLUTION

    def relu(self) -> "Variable":
        """TODO: max(0, x); the gradient passes where x > 0."""
        ### BEGIN SOLUTION
        a = self.data.data
        return Variable._result(np.maximum(0, a), (self,), lambda g: (g * (a > 0),))
        ### END SOLUTION

    def sigmoid(self) -> "Variable":
        """TODO: s = sigmoid(x) (stable form); ds/dx = s * (1 - s)."""
        ### BEGIN SOLUTION
        s = np.exp(-np.logaddexp(0.0, -np.asarray(self.data.data, dtype=np.float64)))
        return Variable._result(s, (self,), lambda g: (g * s * (1 - s),))
        ### END SOLUTION

    def tanh(self) -> "Variable":
        """TODO: t = tanh(x); dt/dx = 1 - t**2."""
        ### BEGIN SOLUTION
        t = np.tanh(self.data.data)
        return Variable._result(t, (self,), lambda g: (g * (1 - t * t),))
        ### END SOLUTION

    # ----- the backward pass -----
    def backward(self, gradient=None) -> None:
        """
        Compute gradients of self with respect to every leaf that requires them.

        TODO:
        1. Seed: `gradient` (default: ones, i.e. d self / d self = 1)
        2. Order the graph topologically (every node before its parents when reversed)
        3. Walk it from self, calling each node's grad_fn and summing gradients that meet
        4. At a leaf that requires grad, add the gradient into `.grad` (a Tensor)
        """
        ### BEGIN SOLUTION
        if not self.requires_grad:
            raise RuntimeError("backward() needs a Variable that requires gradients")
        seed = np.ones(self.shape) if gradient is None else _as_array(gradient).astype(np.float64)
        order, visited, stack = [], set(), [(self, False)]
        while stack:
            node, expanded = stack.pop()
            if expanded:
                order.append(node)
                continue
            if id(node) in visited:
                continue
            visited.add(id(node))
            stack.append((node, True))
            stack.extend((parent, False) for parent in node._parents if id(parent) not in visited)
        grads = {id(self): seed}
        for node in reversed(order):
            g = grads.pop(id(node), None)
            if g is None:
                continue
            if node.grad_fn is None:
                if node.requires_grad:
                    node.grad = Tensor(g) if node.grad is None else Tensor(node.grad.data + g)
                continue
            for parent, parent_grad in zip(node._parents, node.grad_fn(g)):
                if parent.requires_grad:
                    key = id(parent)
                    grads[key] = grads[key] + parent_grad if key in grads else parent_grad
        ### END SOLUTION

# %% [markdown]
"""
### Unit Test: Forward values and simple gradients
"""

# %% nbgrader={"grade": false, "grade_id": "test-variable-basics", "locked": false, "schema_version": 3, "solution": false, "task": false}
def test_unit_variable_basics():
    """Construction, sharing and the gradients of x*y + x."""
    print("Unit Test: Variable basics...")
    t = Tensor([1.0, 2.0])
    v = Variable(t)
    assert v.data is t, "Variable(tensor) should share the Tensor, not copy it."
    s = Variable(np.float64(2.5), requires_grad=False)
    assert isinstance(s.data, Tensor) and s.item() == 2.5, "A numpy scalar should become a 0-d Tensor."
    x = Variable(3.0)
    y = Variable(4.0)
    z = x * y + x
    assert isinstance(z, Variable) and z.item() == 15.0, "x*y + x should be 15 for x=3, y=4."
    z.backward()
    assert x.grad.item() == 5.0 and y.grad.item() == 3.0, "dz/dx = y + 1 = 5 and dz/dy = x = 3."
    w = Variable([1.0, 2.0]) - Variable([0.5, 0.5], requires_grad=False)
    assert w.requires_grad and np.allclose(w.data.data, [0.5, 1.5]), "Subtraction should work and track gradients."
    print("Variable basics passed")

# %% [markdown]
"""
### Unit Test: Gradients checked numerically

The central difference `(f(x + h) - f(x - h)) / 2h` approximates each partial derivative.
If your backward pass agrees with it on random inputs, it is almost certainly right.
"""

# %% nbgrader={"grade": false, "grade_id": "test-gradient-check", "locked": false, "schema_version": 3, "solution": false, "task": false}
def _numerical_grad(f, x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        up = f(x)
        x[i] = old - h
        down = f(x)
        x[i] = old
        grad[i] = (up - down) / (2 * h)
    return grad


def test_unit_gradient_check():
    """Backward agrees with finite differences for a small network-like expression."""
    print("Unit Test: numerical gradient check...")
    rng = np.random.default_rng(0)
    x_np, w_np, b_np = rng.normal(size=(4, 3)), rng.normal(size=(3, 2)), rng.normal(size=(2,))

    def loss_value(w):
        h = np.maximum(0, x_np @ w + b_np)
        return float(np.mean((1 / (1 + np.exp(-h)) - 0.5) ** 2))

    w = Variable(w_np.copy())
    b = Variable(b_np.copy())
    h = (Variable(x_np, requires_grad=False) @ w + b).relu()
    loss = ((h.sigmoid() - 0.5) ** 2).mean()
    loss.backward()
    assert np.isclose(loss.item(), loss_value(w_np)), "The forward value should match numpy."
    assert np.allclose(w.grad.data, _numerical_grad(loss_value, w_np.copy()), atol=1e-6), "dL/dW should match the numerical gradient."
    assert b.grad.shape == (2,), "The bias gradient should be summed over the batch (shape (2,))."
    print("Gradient check passed")

# %% [markdown]
"""
### Comprehensive Test (graded)
"""

# %% nbgrader={"grade": true, "grade_id": "test-autograd-comprehensive", "locked": true, "points": 15, "schema_version": 3, "solution": false, "task": false}
def test_module_autograd():
    """Every operation's gradient, broadcasting, accumulation and fitting a line with gradient descent."""
    # Its own copy of the finite-difference helper: this locked test must not depend
    # on the unit-test cell above, which students may edit.
    def numerical_grad(f, x, h=1e-6):
        grad = np.zeros_like(x)
        for i in np.ndindex(x.shape):
            old = x[i]
            x[i] = old + h
            up = f(x)
            x[i] = old - h
            down = f(x)
            x[i] = old
            grad[i] = (up - down) / (2 * h)
        return grad

    rng = np.random.default_rng(42)
    a_np, b_np, m_np = rng.normal(size=(3, 4)), rng.uniform(1.0, 2.0, size=(4,)), rng.normal(size=(4, 2))

    def check(build, arrays, name):
        variables = [Variable(arr.copy()) for arr in arrays]
        build(*variables).sum().backward()
        for i, (var, arr) in enumerate(zip(variables, arrays)):
            def f(values, i=i):
                inputs = [Variable(values if j == i else other) for j, other in enumerate(arrays)]
                return float(np.sum(build(*inputs).data.data))
            numeric = numerical_grad(f, arr.copy())
            assert var.grad is not None and np.allclose(var.grad.data, numeric, atol=1e-5), f"The gradient of {name} with respect to input {i} is wrong."

    check(lambda a, b: a + b, (a_np, b_np), "a + b (broadcast)")
    check(lambda a, b: a - b * 2.0, (a_np, b_np), "a - 2b")
    check(lambda a, b: a * b, (a_np, b_np), "a * b")
    check(lambda a, b: a / b, (a_np, b_np), "a / b")
    check(lambda a, b: -(a ** 2) + b, (a_np, b_np), "-(a**2) + b")
    check(lambda a, b: (a * b).relu() + a.tanh(), (a_np, b_np), "relu(a*b) + tanh(a)")
    check(lambda a, m: (a @ m).sigmoid() * 2.0 + m.mean(), (a_np, m_np), "sigmoid(a @ m) * 2 + mean(m)")
    check(lambda a, b: a.sum(axis=0) * b + a.mean(axis=1, keepdims=True).sum(), (a_np, b_np), "sums over axes")

    x = Variable([1.0, 2.0])
    (x * x).sum().backward()
    (x * 3.0).sum().backward()
    assert np.allclose(x.grad.data, [2 + 3, 4 + 3]), "Gradients should accumulate across backward calls until zero_grad."
    x.zero_grad()
    assert x.grad is None, "zero_grad should reset the gradient."

    xs = Variable(np.linspace(-1, 1, 20).reshape(-1, 1), requires_grad=False)
    ys = xs * 3.0 + 0.5
    w, b = Variable(np.zeros((1, 1))), Variable(np.zeros(1))
    for _ in range(200):
        loss = ((xs @ w + b - ys) ** 2).mean()
        w.zero_grad()
        b.zero_grad()
        loss.backward()
        w.data.data -= 0.3 * w.grad.data
        b.data.data -= 0.3 * b.grad.data
    assert abs(w.item() - 3.0) < 1e-2 and abs(b.item() - 0.5) < 1e-2, "Gradient descent with your autograd should fit y = 3x + 0.5."
    print("Autograd module: all comprehensive checks passed")

# %% [markdown]
"""
## Written Reflection (manually graded)

In 4-6 sentences: why does reverse mode compute the gradient of one scalar loss with respect
to a million parameters in roughly the cost of one extra forward pass, while forward mode (or
finite differences) would need about a million passes? What does reverse mode have to keep in
memory to do this, and how does that show up when training large models?
"""

# %% [markdown] nbgrader={"grade": true, "grade_id": "autograd-reflection", "locked": false, "points": 5, "schema_version": 3, "solution": true, "task": false}
"""
YOUR ANSWER HERE
"""

# %% nbgrader={"grade": false, "grade_id": "run-autograd-tests", "locked": false, "schema_version": 3, "solution": false, "task": false}
if __name__ == "__main__":
    test_unit_variable_basics()
    test_unit_gradient_check()
    test_module_autograd()
    print("Autograd module complete!")
