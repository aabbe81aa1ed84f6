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
# Optimizers - Turning Gradients into Learning

Autograd tells us which way is downhill; an optimizer decides how far to step. In this
module you implement the two optimizers almost every model is trained with: SGD (with
momentum) and Adam.

## Learning Goals
- Implement the SGD update, with optional momentum and weight decay
- Implement Adam: running averages of the gradient and its square, with bias correction
- Understand the memory cost of optimizer state (Adam keeps two extra values per parameter)

## The contract
- `SGD(parameters, learning_rate=0.01)`, `Adam(parameters, learning_rate=0.001)`: `parameters`
  is a list (possibly empty). Entries are Variables (they have `.grad`) or plain Tensors, e.g.
  `model.parameters`; entries without a gradient are skipped by `step()`.
- `zero_grad()` clears the gradients; `step()` updates the parameter values **in place**, so a
  Variable wrapping a layer's weight Tensor updates the layer itself.
"""

# %% nbgrader={"grade": false, "grade_id": "optimizers-imports", "locked": false, "schema_version": 3, "solution": false, "task": false}
#| default_exp core.optimizers

#| export
import numpy as np
from typing import List
from tinytorch.core.tensor import Tensor
from tinytorch.core.autograd import Variable

# %% [markdown]
"""
## Step 0: The shared base class (given)

Both optimizers store the parameter list and the learning rate, and clear gradients the
same way. Two helpers find the numpy array to update and the gradient to use.
"""

# %% nbgrader={"grade": false, "grade_id": "optimizer-base", "locked": false, "schema_version": 3, "solution": false, "task": false}
#| export
def _values(param) -> np.ndarray:
    """The numpy array holding a parameter's values (Variable -> Tensor -> array, or Tensor -> array)."""
    data = param.data
    return data.data if isinstance(data, Tensor) else data


def _gradient(param):
    """The parameter's gradient as a numpy array, or None when it has none."""
    grad = getattr(param, "grad", None)
    while isinstance(grad, (Variable, Tensor)):
        grad = grad.data
    return None if grad is None else np.asarray(grad, dtype=np.float64)


class Optimizer:
    """Base class: holds the parameters and the learning rate."""

    def __init__(self, parameters, learning_rate: float):
        self.parameters = list(parameters)
        self.learning_rate = learning_rate

    def zero_grad(self) -> None:
        """Forget the gradients of every parameter that has them."""
        for param in self.parameters:
            if hasattr(param, "grad"):
                param.grad = None

    def step(self) -> None:
        raise NotImplementedError("Subclasses implement step()")

# %% [markdown]
"""
## Step 1: SGD with momentum

Plain SGD: `w <- w - lr * g`. Momentum keeps a velocity per parameter, a running sum of
past gradients, so consistent directions speed up and zig-zags cancel out:
```
v <- momentum * v + g        (v starts as g on the first step)
w <- w - lr * v
```
Weight decay (L2 regularisation) adds `weight_decay * w` to the gradient first.
"""

# %% nbgrader={"grade": false, "grade_id": "sgd-class", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum and weight decay."""

    def __init__(self, parameters, learning_rate: float = 0.01, momentum: float = 0.0, weight_decay: float = 0.0):
        super().__init__(parameters, learning_rate)
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.velocities = [None] * len(self.parameters)

    def step(self) -> None:
        """
        TODO: Update every parameter that has a gradient, in place.

        HINTS:
        - g = _gradient(param); skip the parameter when g is None
        - values = _values(param); update with `values -= ...` so the change is in place
        """
        ### BEGIN SOLUTION
        for i, param in enumerate(self.parameters):
            g = _gradient(param)
            if g is None:
                continue
            values = _values(param)
            if self.weight_decay:
                g = g + self.weight_decay * values
            if self.momentum:
                previous = self.velocities[i]
                g = g if previous is None else self.momentum * previous + g
                self.velocities[i] = g
            values -= self.learning_rate * g
        ### END SOLUTION

# %% [markdown]
"""
## Step 2: Adam

Adam keeps, per parameter, `m` (running mean of gradients) and `v` (running mean of squared
gradients), both starting at zero. Because they start at zero they are biased low early on,
so Adam divides by `1 - beta**t`:
```
t <- t + 1
m <- beta1 * m + (1 - beta1) * g
v <- beta2 * v + (1 - beta2) * g**2
m_hat = m / (1 - beta1**t)      v_hat = v / (1 - beta2**t)
w <- w - lr * m_hat / (sqrt(v_hat) + epsilon)
```
On the first step `m_hat / sqrt(v_hat)` is `sign(g)`: every weight moves by about `lr`.
"""

# %% nbgrader={"grade": false, "grade_id": "adam-class", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
class Adam(Optimizer):
    """Adam: adaptive moment estimation."""

    def __init__(self, parameters, learning_rate: float = 0.001, beta1: float = 0.9,
                 beta2: float = 0.999, epsilon: float = 1e-8):
        super().__init__(parameters, learning_rate)
        self.beta1, self.beta2, self.epsilon = beta1, beta2, epsilon
        self.m = [None] * len(self.parameters)
        self.v = [None] * len(self.parameters)
        self.t = 0

    def step(self) -> None:
        """TODO: One Adam update of every parameter that has a gradient (see the formulas above)."""
        ### BEGIN SOLUTION
        self.t += 1
        for i, param in enumerate(self.parameters):
            g = _gradient(param)
            if g is None:
                continue
            if self.m[i] is None:
                self.m[i] = np.zeros_like(g)
                self.v[i] = np.zeros_like(g)
            self.m[i] = self.beta1 * self.m[i] + (1 - self.beta1) * g
            self.v[i] = self.beta2 * self.v[i] + (1 - self.beta2) * g * g
            m_hat = self.m[i] / (1 - self.beta1 ** self.t)
            v_hat = self.v[i] / (1 - self.beta2 ** self.t)
            values = _values(param)
            values -= self.learning_rate * m_hat / (np.sqrt(v_hat) + self.epsilon)
        ### END SOLUTION

# %% [markdown]
"""
### Unit Test: SGD
"""

# %% nbgrader={"grade": false, "grade_id": "test-sgd", "locked": false, "schema_version": 3, "solution": false, "task": false}
def test_unit_sgd():
    """SGD steps, momentum, zero_grad and an empty parameter list."""
    print("Unit Test: SGD...")
    w = Variable([1.0, -1.0])
    w.grad = Tensor([0.5, -0.5])
    opt = SGD([w], learning_rate=0.1)
    opt.step()
    assert np.allclose(w.data.data, [0.95, -0.95]), "SGD should subtract lr * grad."
    opt.zero_grad()
    assert w.grad is None, "zero_grad should clear the gradient."
    opt.step()
    assert np.allclose(w.data.data, [0.95, -0.95]), "step() without a gradient should change nothing."
    m = Variable([0.0])
    opt = SGD([m], learning_rate=1.0, momentum=0.5)
    for _ in range(2):
        m.grad = Tensor([1.0])
        opt.step()
    assert np.allclose(m.data.data, [-(1.0 + 1.5)]), "With momentum 0.5 the second step should be 1.5."
    SGD([], learning_rate=0.01).step()
    print("SGD tests passed")

# %% [markdown]
"""
### Unit Test: Adam
"""

# %% nbgrader={"grade": false, "grade_id": "test-adam", "locked": false, "schema_version": 3, "solution": false, "task": false}
def test_unit_adam():
    """Adam's first step moves each weight by about the learning rate."""
    print("Unit Test: Adam...")
    w = Variable([1.0, -2.0, 3.0])
    (w * w).sum().backward()
    opt = Adam([w], learning_rate=0.1)
    opt.step()
    assert np.allclose(w.data.data, [0.9, -1.9, 2.9], atol=1e-6), "Adam's first step should be lr * sign(grad)."
    assert opt.t == 1, "Adam should count its steps."
    print("Adam tests passed")

# %% [markdown]
"""
### Computational Assessment: One step of each optimizer

Minimise `f(w) = sum(w * w)` from `w = [1.0, -2.0, 3.0]` using your autograd for gradients.
Return:
- `gradient`: df/dw at the start (a list)
- `sgd_one_step`: w after one SGD step with learning_rate 0.1
- `momentum_two_steps`: w after two steps of SGD(learning_rate=0.1, momentum=0.9), recomputing the gradient before each
- `adam_two_steps`: w after two Adam steps with learning_rate 0.1, recomputing the gradient before each
- `adam_state_floats`: how many extra floats Adam stores for these 3 parameters
"""

# %% nbgrader={"grade": true, "grade_id": "optimizer-steps", "locked": false, "points": 5, "schema_version": 3, "solution": true, "task": false}
def optimizer_step_assessment():
    """Return the results of a few optimizer steps on f(w) = sum(w * w)."""
    ### BEGIN SOLUTION
    start = [1.0, -2.0, 3.0]

    def run(make_optimizer, steps):
        w = Variable(list(start))
        opt = make_optimizer([w])
        for _ in range(steps):
            opt.zero_grad()
            (w * w).sum().backward()
            opt.step()
        return w.data.data.tolist()

    w = Variable(list(start))
    (w * w).sum().backward()
    return {
        "gradient": w.grad.data.tolist(),
        "sgd_one_step": run(lambda p: SGD(p, learning_rate=0.1), 1),
        "momentum_two_steps": run(lambda p: SGD(p, learning_rate=0.1, momentum=0.9), 2),
        "adam_two_steps": run(lambda p: Adam(p, learning_rate=0.1), 2),
        "adam_state_floats": 2 * len(start),
    }
    ### END SOLUTION

# %% [markdown]
"""
### Comprehensive Test (graded)
"""

# %% nbgrader={"grade": true, "grade_id": "test-optimizers-comprehensive", "locked": true, "points": 10, "schema_version": 3, "solution": false, "task": false}
def test_module_optimizers():
    """SGD and Adam updates against the formulas, and training a Linear layer through Variables."""
    from tinytorch.core.layers import Linear

    w = Variable([2.0, -3.0])
    sgd = SGD([w, Tensor([1.0])], learning_rate=0.25, weight_decay=0.1)
    w.grad = Tensor([1.0, 1.0])
    sgd.step()
    assert np.allclose(w.data.data, [2.0 - 0.25 * 1.2, -3.0 - 0.25 * 0.7]), "SGD with weight decay should step by lr * (grad + wd * w)."

    p = Variable([1.0, 1.0])
    adam = Adam([p], learning_rate=0.01, beta1=0.9, beta2=0.999, epsilon=1e-8)
    grads = [np.array([0.1, -1.0]), np.array([0.3, -1.0]), np.array([-0.2, 2.0])]
    ref, m, v = np.array([1.0, 1.0]), np.zeros(2), np.zeros(2)
    for t, g in enumerate(grads, start=1):
        p.grad = Tensor(g)
        adam.step()
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        ref = ref - 0.01 * (m / (1 - 0.9 ** t)) / (np.sqrt(v / (1 - 0.999 ** t)) + 1e-8)
    assert np.allclose(p.data.data, ref), "Adam should follow the bias-corrected update over three steps."

    np.random.seed(0)
    layer = Linear(2, 1)
    weight, bias = Variable(layer.weight), Variable(layer.bias)
    x = Tensor(np.random.default_rng(0).normal(size=(32, 2)))
    y = x.data @ np.array([[2.0], [-1.0]]) + 0.5

    def loss_value():
        return float(np.mean((layer(x).data - y) ** 2))

    before = loss_value()
    for make in (lambda ps: Adam(ps, learning_rate=0.05), lambda ps: SGD(ps, learning_rate=0.1, momentum=0.5)):
        opt = make([weight, bias])
        for _ in range(150):
            opt.zero_grad()
            pred = Variable(x, requires_grad=False) @ weight + bias
            ((pred - y) ** 2).mean().backward()
            opt.step()
    after = loss_value()
    assert after < 1e-3 * before, "Training a Linear layer through Variables should drive the loss close to zero."
    assert np.allclose(layer.weight.data.ravel(), [2.0, -1.0], atol=1e-2), "The layer's own weight should move (updates are in place)."
    print("Optimizers module: all comprehensive checks passed")

# %% [markdown]
"""
## Reflection

- Adam stores two extra floats per parameter. For a 7B-parameter model in float32, how many GB
  of optimizer state is that?
- Why does the first Adam step move every weight by about the learning rate, whatever the
  size of its gradient?
"""

# %% nbgrader={"grade": false, "grade_id": "run-optimizers-tests", "locked": false, "schema_version": 3, "solution": false, "task": false}
if __name__ == "__main__":
    test_unit_sgd()
    test_unit_adam()
    test_module_optimizers()
    print(optimizer_step_assessment())
    print("Optimizers module complete!")
