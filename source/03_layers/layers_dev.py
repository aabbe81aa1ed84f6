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
# Layers - The Linear Layer

A linear (fully connected, dense) layer computes `y = x @ W + b`. It is the workhorse of
neural networks: every MLP, the heads of CNNs and the projections inside transformers are
linear layers. In this module you build the matrix multiply it rests on and the layer itself.

## Learning Goals
- Implement matrix multiplication with a clear shape check
- Build `Linear(input_size, output_size)` with sensible weight initialisation
- Understand parameter counts: `input_size * output_size + output_size`

## Shapes
```
x: (batch, in)   @   W: (in, out)   +   b: (out,)   =   y: (batch, out)
```
"""

# %% nbgrader={"grade": false, "grade_id": "layers-imports", "locked": false, "schema_version": 3, "solution": false, "task": false}
#| default_exp core.layers

#| export
import numpy as np
from tinytorch.core.tensor import Tensor

# %% [markdown]
"""
## Step 1: Matrix multiplication

For 2-D inputs `a: (m, k)` and `b: (k, n)`, `c[i, j] = sum_t a[i, t] * b[t, j]`.
Write the check on the inner dimension yourself (a good error message saves hours of
debugging), then let numpy do the arithmetic: its BLAS kernels are hundreds of times faster
than Python loops.
"""

# %% nbgrader={"grade": false, "grade_id": "matmul-function", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
def matmul(a: Tensor, b: Tensor) -> Tensor:
    """
    Multiply two 2-D tensors.

    TODO: Raise ValueError if a.shape[1] != b.shape[0] (name both shapes), else return a @ b.
    """
    ### BEGIN SOLUTION
    if a.data.ndim != 2 or b.data.ndim != 2:
        raise ValueError(f"matmul expects 2-D tensors, got shapes {a.shape} and {b.shape}")
    if a.shape[1] != b.shape[0]:
        raise ValueError(f"Cannot multiply {a.shape} by {b.shape}: inner dimensions {a.shape[1]} and {b.shape[0]} differ")
    return Tensor(a.data @ b.data)
    ### END SOLUTION

# %% [markdown]
"""
## Step 2: The Linear layer

`Linear(input_size, output_size)` owns two parameters:
- `weight`: a Tensor of shape `(input_size, output_size)`, initialised with Xavier/Glorot
  scaling `N(0, 1) * sqrt(2 / (input_size + output_size))` so activations keep a similar
  variance from layer to layer;
- `bias`: a Tensor of zeros, shape `(output_size,)` (or `None` with `use_bias=False`).

`parameters` is a list attribute-style property (`layer.parameters`, no call) holding the
parameter Tensors; optimizers take it directly: `SGD(layer.parameters, ...)`.
"""

# %% nbgrader={"grade": false, "grade_id": "linear-class", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
class Linear:
    """Fully connected layer: y = x @ weight + bias."""

    def __init__(self, input_size: int, output_size: int, use_bias: bool = True):
        """
        TODO: Store the sizes and create `self.weight` and `self.bias` Tensors.

        HINTS:
        - scale = np.sqrt(2.0 / (input_size + output_size))
        - weight = Tensor(np.random.randn(input_size, output_size) * scale)
        - bias = Tensor(np.zeros(output_size)) if use_bias else None
        """
        ### BEGIN SOLUTION
        self.input_size = input_size
        self.output_size = output_size
        scale = np.sqrt(2.0 / (input_size + output_size))
        self.weight = Tensor(np.random.randn(input_size, output_size) * scale)
        self.bias = Tensor(np.zeros(output_size)) if use_bias else None
        ### END SOLUTION

    @property
    def parameters(self):
        """The layer's parameter Tensors: [weight, bias] (or [weight] without bias)."""
        return [p for p in (self.weight, self.bias) if p is not None]

    def forward(self, x: Tensor) -> Tensor:
        """
        TODO: Return x @ weight (+ bias). Accept a single sample of shape (input_size,) too.

        HINTS:
        - Reshape a 1-D input to (1, input_size), and the output back to (output_size,)
        - Use your matmul so shape errors are clear
        """
        ### BEGIN SOLUTION
        single = x.data.ndim == 1
        x2d = Tensor(x.data.reshape(1, -1)) if single else x
        out = matmul(x2d, self.weight)
        if self.bias is not None:
            out = out + self.bias
        return Tensor(out.data.reshape(-1)) if single else out
        ### END SOLUTION

    def __call__(self, x: Tensor) -> Tensor:
        return self.forward(x)

    def __repr__(self) -> str:
        return f"Linear({self.input_size}, {self.output_size})"

# %% [markdown]
"""
### Unit Test: matmul
"""

# %% nbgrader={"grade": false, "grade_id": "test-matmul", "locked": false, "schema_version": 3, "solution": false, "task": false}
def test_unit_matmul():
    """matmul matches numpy and rejects mismatched shapes."""
    print("Unit Test: matmul...")
    a = Tensor([[1.0, 2.0], [3.0, 4.0]])
    b = Tensor([[5.0, 6.0], [7.0, 8.0]])
    c = matmul(a, b)
    assert isinstance(c, Tensor), "matmul should return a Tensor."
    assert np.allclose(c.data, [[19, 22], [43, 50]]), "matmul should compute the matrix product."
    try:
        matmul(a, Tensor([[1.0, 2.0, 3.0]]))
        raise AssertionError("matmul of (2,2) and (1,3) should raise ValueError.")
    except ValueError:
        pass
    print("matmul tests passed")

# %% [markdown]
"""
### Unit Test: Linear
"""

# %% nbgrader={"grade": false, "grade_id": "test-linear", "locked": false, "schema_version": 3, "solution": false, "task": false}
def test_unit_linear():
    """Linear layer shapes, parameters and the affine map."""
    print("Unit Test: Linear...")
    layer = Linear(3, 2)
    assert layer.weight.shape == (3, 2) and layer.bias.shape == (2,), "Linear(3, 2) should have a (3,2) weight and a (2,) bias."
    assert isinstance(layer.weight.data, np.ndarray), "weight.data should be a numpy array."
    assert np.allclose(layer.bias.data, 0), "The bias should start at zero."
    assert len(layer.parameters) == 2, "parameters should list weight and bias."
    x = Tensor([[1.0, 2.0, 3.0], [0.0, 0.0, 1.0]])
    y = layer(x)
    assert y.shape == (2, 2), "A batch of 2 inputs should give a (2, 2) output."
    assert np.allclose(y.data, x.data @ layer.weight.data + layer.bias.data), "Linear should compute x @ W + b."
    single = layer(Tensor([1.0, 2.0, 3.0]))
    assert single.shape == (2,) and np.allclose(single.data, y.data[0]), "A single 1-D sample should give a 1-D output."
    no_bias = Linear(3, 2, use_bias=False)
    assert no_bias.bias is None and len(no_bias.parameters) == 1, "use_bias=False should drop the bias."
    print("Linear tests passed")

# %% [markdown]
"""
### Comprehensive Test (graded)
"""

# %% nbgrader={"grade": true, "grade_id": "test-layers-comprehensive", "locked": true, "points": 10, "schema_version": 3, "solution": false, "task": false}
def test_module_layers():
    """matmul and Linear: values, shapes, initialisation scale and parameter handling."""
    np.random.seed(0)
    layer = Linear(4, 3)
    assert layer.weight.shape == (4, 3), "Linear(4, 3).weight should have shape (4, 3)."
    assert layer.bias is not None and layer.bias.shape == (3,), "Linear(4, 3).bias should have shape (3,)."
    layer.weight.data = np.arange(12, dtype=float).reshape(4, 3) / 10
    layer.bias.data = np.array([1.0, -1.0, 0.5])
    x = Tensor([[1.0, 0.0, -1.0, 2.0]])
    y = layer(x)
    expected = x.data @ layer.weight.data + layer.bias.data
    assert np.allclose(y.data, expected), "Linear should compute x @ W + b with the current weight and bias."
    saved = layer.weight.data.copy()
    layer.weight.data = saved * 0
    assert np.allclose(layer(x).data, layer.bias.data), "Linear should read its weight at call time (zero weight gives the bias)."
    layer.weight.data = saved
    big = Linear(200, 100)
    std = big.weight.data.std()
    assert 0.5 * np.sqrt(2 / 300) < std < 1.5 * np.sqrt(2 / 300), "Weights should use Xavier scaling sqrt(2 / (in + out))."
    total = sum(p.size for p in big.parameters)
    assert total == 200 * 100 + 100, "Linear(200, 100) should have 20,100 parameters."
    try:
        layer(Tensor([[1.0, 2.0]]))
    except ValueError:
        pass
    else:
        raise AssertionError("A Linear(4, 3) layer given 2 features should raise ValueError.")
    ### BEGIN HIDDEN TESTS
    batch = Tensor(np.random.default_rng(1).normal(size=(7, 4)))
    out = layer(batch)
    assert out.shape == (7, 3), "A batch of 7 should give 7 outputs."
    assert np.allclose(out.data, batch.data @ layer.weight.data + layer.bias.data), "Batched Linear should match numpy."
    assert np.allclose(matmul(Tensor(np.eye(3)), Tensor([[1.0], [2.0], [3.0]])).data, [[1.0], [2.0], [3.0]]), "The identity matrix should leave a vector unchanged."
    ### END HIDDEN TESTS
    print("Layers module: all comprehensive checks passed")

# %% [markdown]
"""
## Reflection

- Why initialise weights randomly rather than with zeros? (Hint: what would all units in a layer learn?)
- A 4096 -> 4096 layer has about 16.8M parameters. How many MiB is that in float32?
"""

# %% nbgrader={"grade": false, "grade_id": "run-layers-tests", "locked": false, "schema_version": 3, "solution": false, "task": false}
if __name__ == "__main__":
    test_unit_matmul()
    test_unit_linear()
    test_module_layers()
    print("Layers module complete!")
