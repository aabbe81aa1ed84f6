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
# Activations - Nonlinearity for Neural Networks

A stack of linear maps is still one linear map. Activation functions break that:
they bend the space between layers so that networks can represent curved decision
boundaries. In this module you implement the four classics as callable objects.

## Learning Goals
- Implement ReLU, Sigmoid, Tanh and Softmax on `Tensor`s
- Make them numerically stable (no overflow for large inputs, no NaN)
- Understand output ranges and what each activation is used for

| Activation | Formula | Range | Typical use |
|---|---|---|---|
| ReLU | max(0, x) | [0, inf) | hidden layers |
| Sigmoid | 1 / (1 + e^-x) | (0, 1) | binary probabilities |
| Tanh | (e^x - e^-x) / (e^x + e^-x) | (-1, 1) | zero-centred hidden units |
| Softmax | e^x_i / sum_j e^x_j | (0, 1), rows sum to 1 | class probabilities |
"""

# %% nbgrader={"grade": false, "grade_id": "activations-imports", "locked": false, "schema_version": 3, "solution": false, "task": false}
#| default_exp core.activations

#| export
import numpy as np
from tinytorch.core.tensor import Tensor

# %% [markdown]
"""
## Step 1: ReLU

`ReLU(x) = max(0, x)`, element-wise. Cheap, and its gradient is 1 for positive inputs,
which keeps deep networks trainable.
```
x:     [-2, -1, 0, 1, 2]
ReLU:  [ 0,  0, 0, 1, 2]
```
Each activation is an object: `forward(x)` does the work and `__call__` delegates to it,
so `ReLU()(x)` reads like PyTorch.
"""

# %% nbgrader={"grade": false, "grade_id": "relu-class", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
class ReLU:
    """Rectified Linear Unit: max(0, x) element-wise."""

    def forward(self, x: Tensor) -> Tensor:
        """
        TODO: Return a new Tensor with negative values replaced by 0.

        HINT: np.maximum(0, x.data)
        """
        ### BEGIN SOLUTION
        return Tensor(np.maximum(0, x.data))
        ### END SOLUTION

    def __call__(self, x: Tensor) -> Tensor:
        return self.forward(x)

# %% [markdown]
"""
## Step 2: Sigmoid and Tanh

Sigmoid squashes to (0, 1). The textbook formula `1 / (1 + exp(-x))` overflows for
large negative `x` (exp(1000) is inf). A stable form uses `exp(-logaddexp(0, -x))`,
or computes the two halves separately. Tanh squashes to (-1, 1); numpy's `np.tanh` is stable.
"""

# %% nbgrader={"grade": false, "grade_id": "sigmoid-tanh-classes", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
class Sigmoid:
    """Logistic sigmoid: 1 / (1 + e^-x), computed without overflow."""

    def forward(self, x: Tensor) -> Tensor:
        """
        TODO: Return sigmoid(x) element-wise, stable for |x| in the thousands.

        HINT: np.exp(-np.logaddexp(0, -z)) equals 1 / (1 + exp(-z)) without overflow.
        """
        ### BEGIN SOLUTION
        z = np.asarray(x.data, dtype=np.float64)
        return Tensor(np.exp(-np.logaddexp(0.0, -z)))
        ### END SOLUTION

    def __call__(self, x: Tensor) -> Tensor:
        return self.forward(x)


class Tanh:
    """Hyperbolic tangent, element-wise."""

    def forward(self, x: Tensor) -> Tensor:
        """TODO: Return tanh(x) element-wise."""
        ### BEGIN SOLUTION
        return Tensor(np.tanh(x.data))
        ### END SOLUTION

    def __call__(self, x: Tensor) -> Tensor:
        return self.forward(x)

# %% [markdown]
"""
## Step 3: Softmax

Softmax turns a row of scores (logits) into a probability distribution. Subtracting the
row maximum first changes nothing mathematically (it cancels in the ratio) but keeps
`exp` from overflowing:
```
softmax(x)_i = exp(x_i - max(x)) / sum_j exp(x_j - max(x))
```
It works along the last axis, so a (batch, classes) input gives one distribution per row.
"""

# %% nbgrader={"grade": false, "grade_id": "softmax-class", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
class Softmax:
    """Softmax along an axis (the last one by default)."""

    def __init__(self, axis: int = -1):
        self.axis = axis

    def forward(self, x: Tensor) -> Tensor:
        """
        TODO: Return the numerically stable softmax of x along self.axis.

        HINTS:
        - shifted = x.data - max over the axis (keepdims=True)
        - divide exp(shifted) by its sum over the axis (keepdims=True)
        """
        ### BEGIN SOLUTION
        z = np.asarray(x.data, dtype=np.float64)
        shifted = z - np.max(z, axis=self.axis, keepdims=True)
        exp = np.exp(shifted)
        return Tensor(exp / np.sum(exp, axis=self.axis, keepdims=True))
        ### END SOLUTION

    def __call__(self, x: Tensor) -> Tensor:
        return self.forward(x)

# %% [markdown]
"""
### Unit Test: ReLU, Sigmoid, Tanh
"""

# %% nbgrader={"grade": false, "grade_id": "test-elementwise-activations", "locked": false, "schema_version": 3, "solution": false, "task": false}
def test_unit_elementwise_activations():
    """ReLU, Sigmoid and Tanh on known values."""
    print("Unit Test: element-wise activations...")
    x = Tensor([-2.0, -1.0, 0.0, 1.0, 2.0])
    r = ReLU()(x)
    assert isinstance(r, Tensor), "ReLU should return a Tensor."
    assert np.allclose(r.data, [0, 0, 0, 1, 2]), "ReLU should zero the negatives and keep the rest."
    s = Sigmoid()(x)
    assert np.allclose(s.data, 1 / (1 + np.exp(-x.data))), "Sigmoid should match 1 / (1 + e^-x)."
    assert np.isclose(s.data[2], 0.5), "Sigmoid(0) should be 0.5."
    t = Tanh()(x)
    assert np.allclose(t.data, np.tanh(x.data)), "Tanh should match np.tanh."
    print("Element-wise activation tests passed")

# %% [markdown]
"""
### Unit Test: Softmax
"""

# %% nbgrader={"grade": false, "grade_id": "test-softmax", "locked": false, "schema_version": 3, "solution": false, "task": false}
def test_unit_softmax():
    """Softmax rows are distributions and survive huge logits."""
    print("Unit Test: Softmax...")
    x = Tensor([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    p = Softmax()(x)
    assert p.shape == (2, 3), "Softmax should keep the input shape."
    assert np.allclose(p.data.sum(axis=1), 1.0), "Each row of softmax should sum to 1."
    assert np.allclose(p.data[1], 1 / 3), "Equal logits should give a uniform distribution."
    assert p.data[0, 2] > p.data[0, 1] > p.data[0, 0], "Softmax should preserve the order of the logits."
    big = Softmax()(Tensor([[1000.0, 1000.0]]))
    assert np.all(np.isfinite(big.data)) and np.allclose(big.data, 0.5), "Softmax should not overflow on large logits."
    print("Softmax tests passed")

# %% [markdown]
"""
### Comprehensive Test (graded)
"""

# %% nbgrader={"grade": true, "grade_id": "test-activations-comprehensive", "locked": true, "points": 10, "schema_version": 3, "solution": false, "task": false}
def test_module_activations():
    """All four activations: values, ranges, shapes and numerical stability."""
    rng = np.random.default_rng(0)
    x = Tensor(rng.normal(scale=5.0, size=(4, 6)))
    relu, sigmoid, tanh, softmax = ReLU(), Sigmoid(), Tanh(), Softmax()
    r = relu(x)
    assert r.shape == x.shape, "ReLU should keep the shape of its input."
    assert np.all(r.data >= 0) and np.allclose(r.data[x.data > 0], x.data[x.data > 0]), "ReLU should keep positives and zero negatives."
    s = sigmoid(x)
    assert np.all((s.data > 0) & (s.data < 1)), "Sigmoid outputs should lie strictly between 0 and 1."
    assert np.allclose(s.data + sigmoid(-x).data, 1.0), "Sigmoid should satisfy s(x) + s(-x) = 1."
    extreme = sigmoid(Tensor([-1000.0, 1000.0]))
    assert np.all(np.isfinite(extreme.data)) and np.allclose(extreme.data, [0.0, 1.0]), "Sigmoid should be stable for huge inputs."
    t = tanh(x)
    assert np.all(np.abs(t.data) <= 1) and np.allclose(t.data, -tanh(-x).data), "Tanh should be odd and bounded by 1."
    p = softmax(x)
    assert np.allclose(p.data.sum(axis=-1), 1.0), "Softmax rows should sum to 1."
    assert np.array_equal(p.data.argmax(axis=-1), x.data.argmax(axis=-1)), "Softmax should not change which class is largest."
    shifted = softmax(x + 100.0)
    assert np.allclose(shifted.data, p.data), "Softmax should be invariant to adding a constant to every logit."
    print("Activations module: all comprehensive checks passed")

# %% [markdown]
"""
## Reflection

- ReLU's output is exactly zero for half of a symmetric input distribution. What happens to a
  unit whose inputs are always negative ("dead ReLU")?
- Why is subtracting the maximum in softmax safe, and why would subtracting the mean not be enough?
"""

# %% nbgrader={"grade": false, "grade_id": "run-activations-tests", "locked": false, "schema_version": 3, "solution": false, "task": false}
if __name__ == "__main__":
    test_unit_elementwise_activations()
    test_unit_softmax()
    test_module_activations()
    print("Activations module complete!")
