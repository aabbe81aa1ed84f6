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
# Tensor - The Foundation of TinyTorch

Every framework starts with an n-dimensional array that knows how to do arithmetic.
In this module you build `Tensor`, a thin, friendly wrapper around a numpy array.
Everything else in TinyTorch (activations, layers, autograd, optimizers) is built on it.

## Learning Goals
- Wrap a numpy array in a class with a clean, predictable interface
- Implement element-wise arithmetic with broadcasting and matrix multiplication
- Implement reductions (`sum`, `mean`) and shape operations (`reshape`, `T`)
- Reason about memory: how many bytes does a tensor of a given shape occupy?

## The contract
- `Tensor(x)` accepts Python scalars, (nested) lists, numpy arrays and other Tensors.
- `t.data` is always a numpy array (the storage); `t.shape`, `t.size`, `t.dtype` describe it.
- Arithmetic between Tensors (or a Tensor and a number) returns a **new** Tensor.
"""

# %% nbgrader={"grade": false, "grade_id": "tensor-imports", "locked": false, "schema_version": 3, "solution": false, "task": false}
#| default_exp core.tensor

#| export
import numpy as np
from typing import Union, List, Tuple, Optional

# %% [markdown]
"""
## Step 1: Creating Tensors

A `Tensor` stores its values in `self.data`, a numpy array. Creating one from a list
of floats gives `float64`; from a list of ints gives an integer array (class labels stay
integers). Passing `dtype` forces a type. Creating a Tensor from another Tensor copies
the values, so the two never share storage by accident.

### Arithmetic and broadcasting
```
Tensor([[1, 2],      +   Tensor([10, 20])   =   Tensor([[11, 22],
        [3, 4]])                                        [13, 24]])
   shape (2, 2)            shape (2,)                shape (2, 2)
```
numpy's broadcasting rules apply: trailing dimensions must match or be 1.
"""

# %% nbgrader={"grade": false, "grade_id": "tensor-class", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
class Tensor:
    """
    An n-dimensional array with arithmetic, reductions and shape operations.

    The values live in `self.data` (a numpy array).
    """

    def __init__(self, data, dtype=None):
        """
        Create a Tensor from a scalar, list, numpy array or another Tensor.

        TODO: Store the values as a numpy array in `self.data`.

        HINTS:
        - If `data` is a Tensor, copy its array (`data.data.copy()`), converting to `dtype` if given
        - Otherwise use `np.array(data, dtype=dtype)`
        """
        ### BEGIN SOLUTION
        if isinstance(data, Tensor):
            array = data.data.copy()
            self.data = array if dtype is None else array.astype(dtype)
        else:
            self.data = np.array(data, dtype=dtype)
        ### END SOLUTION

    @property
    def shape(self) -> Tuple[int, ...]:
        """Shape of the tensor, e.g. (2, 3)."""
        return self.data.shape

    @property
    def size(self) -> int:
        """Total number of elements."""
        return self.data.size

    @property
    def ndim(self) -> int:
        """Number of dimensions."""
        return self.data.ndim

    @property
    def dtype(self):
        """numpy dtype of the stored values."""
        return self.data.dtype

    def numpy(self) -> np.ndarray:
        """The underlying numpy array."""
        return self.data

    def item(self):
        """The single value of a one-element tensor, as a Python number."""
        return self.data.item()

    def __repr__(self) -> str:
        return f"Tensor({self.data.tolist()}, shape={self.shape})"

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index):
        return Tensor(self.data[index])

    @staticmethod
    def _values(other):
        """numpy values of a Tensor or a plain number/array (helper for the operators)."""
        return other.data if isinstance(other, Tensor) else np.asarray(other)

    def add(self, other) -> "Tensor":
        """
        Element-wise addition with broadcasting: `self + other`.

        TODO: Return a new Tensor holding the sum of the two value arrays.
        """
        ### BEGIN SOLUTION
        return Tensor(self.data + Tensor._values(other))
        ### END SOLUTION

    def subtract(self, other) -> "Tensor":
        """Element-wise subtraction: `self - other`."""
        ### BEGIN SOLUTION
        return Tensor(self.data - Tensor._values(other))
        ### END SOLUTION

    def multiply(self, other) -> "Tensor":
        """Element-wise multiplication: `self * other`."""
        ### BEGIN SOLUTION
        return Tensor(self.data * Tensor._values(other))
        ### END SOLUTION

    def divide(self, other) -> "Tensor":
        """Element-wise (true) division: `self / other`."""
        ### BEGIN SOLUTION
        return Tensor(self.data / Tensor._values(other))
        ### END SOLUTION

    def matmul(self, other) -> "Tensor":
        """
        Matrix multiplication: `self @ other`.

        TODO: Check that the inner dimensions agree and return the product.

        HINTS:
        - For 2-D operands (m, k) @ (k, n) the result has shape (m, n)
        - Raise ValueError with both shapes in the message when k does not match
        """
        ### BEGIN SOLUTION
        a, b = self.data, Tensor._values(other)
        if a.ndim >= 1 and b.ndim >= 1:
            k_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
            if a.shape[-1] != k_b:
                raise ValueError(f"Cannot multiply shapes {a.shape} and {b.shape}: inner dimensions differ")
        return Tensor(a @ b)
        ### END SOLUTION

    # Operators delegate to the named methods.
    def __add__(self, other): return self.add(other)
    def __radd__(self, other): return self.add(other)
    def __sub__(self, other): return self.subtract(other)
    def __rsub__(self, other): return Tensor(other).subtract(self)
    def __mul__(self, other): return self.multiply(other)
    def __rmul__(self, other): return self.multiply(other)
    def __truediv__(self, other): return self.divide(other)
    def __rtruediv__(self, other): return Tensor(other).divide(self)
    def __matmul__(self, other): return self.matmul(other)
    def __neg__(self): return self.multiply(-1)

    def sum(self, axis=None, keepdims: bool = False) -> "Tensor":
        """
        Sum of the elements, over all axes (axis=None) or the given axis.

        TODO: Return the reduction as a new Tensor.
        """
        ### BEGIN SOLUTION
        return Tensor(np.sum(self.data, axis=axis, keepdims=keepdims))
        ### END SOLUTION

    def mean(self, axis=None, keepdims: bool = False) -> "Tensor":
        """Mean of the elements, over all axes (axis=None) or the given axis."""
        ### BEGIN SOLUTION
        return Tensor(np.mean(self.data, axis=axis, keepdims=keepdims))
        ### END SOLUTION

    def reshape(self, *shape) -> "Tensor":
        """
        Same values, new shape. Accepts `reshape(2, 3)` or `reshape((2, 3))`; one -1 is inferred.
        """
        ### BEGIN SOLUTION
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return Tensor(self.data.reshape(shape))
        ### END SOLUTION

    @property
    def T(self) -> "Tensor":
        """Transpose (reverses the axes)."""
        ### BEGIN SOLUTION
        return Tensor(self.data.T)
        ### END SOLUTION

# %% [markdown]
"""
### Unit Test: Creation and properties
"""

# %% nbgrader={"grade": false, "grade_id": "test-tensor-creation", "locked": false, "schema_version": 3, "solution": false, "task": false}
def test_unit_tensor_creation():
    """Tensors can be built from scalars, lists, arrays and Tensors."""
    print("Unit Test: Tensor creation...")
    s = Tensor(5.0)
    assert s.shape == () and s.item() == 5.0, "A scalar Tensor should have shape () and keep its value."
    v = Tensor([1, 2, 3])
    assert v.shape == (3,) and np.issubdtype(v.dtype, np.integer), "A list of ints should give an integer vector."
    m = Tensor(np.array([[1.0, 2.0], [3.0, 4.0]]))
    assert m.shape == (2, 2) and m.size == 4 and m.ndim == 2, "A 2x2 array should give shape (2, 2) and size 4."
    assert isinstance(m.data, np.ndarray), "Tensor.data should be a numpy array."
    c = Tensor(m)
    c.data[0, 0] = 99.0
    assert m.data[0, 0] == 1.0, "Tensor(other_tensor) should copy the values, not share them."
    f = Tensor([1, 2], dtype=np.float32)
    assert f.dtype == np.float32, "The dtype argument should be respected."
    print("Creation tests passed")

# %% [markdown]
"""
### Unit Test: Arithmetic and matrix multiplication
"""

# %% nbgrader={"grade": false, "grade_id": "test-tensor-arithmetic", "locked": false, "schema_version": 3, "solution": false, "task": false}
def test_unit_tensor_arithmetic():
    """Element-wise operators, broadcasting and matmul."""
    print("Unit Test: Tensor arithmetic...")
    a = Tensor([[1.0, 2.0], [3.0, 4.0]])
    b = Tensor([10.0, 20.0])
    assert np.allclose((a + b).data, [[11, 22], [13, 24]]), "Addition should broadcast a (2,) row over (2, 2)."
    assert np.allclose((a - 1).data, [[0, 1], [2, 3]]), "Subtracting a number should work."
    assert np.allclose((1 - a).data, [[0, -1], [-2, -3]]), "A number minus a Tensor should work."
    assert np.allclose((a * 2).data, [[2, 4], [6, 8]]), "Multiplying by a number should work."
    assert np.allclose((a / 2).data, [[0.5, 1], [1.5, 2]]), "Division should be true division."
    assert np.allclose((-a).data, [[-1, -2], [-3, -4]]), "Negation should flip every sign."
    assert isinstance(a + b, Tensor), "Operators should return Tensors."
    c = a @ Tensor([[1.0], [1.0]])
    assert c.shape == (2, 1) and np.allclose(c.data, [[3], [7]]), "(2,2) @ (2,1) should give row sums."
    try:
        a @ Tensor([[1.0, 2.0, 3.0]])
        raise AssertionError("matmul with mismatched inner dimensions should raise ValueError.")
    except ValueError:
        pass
    print("Arithmetic tests passed")

# %% [markdown]
"""
### Unit Test: Reductions and shapes
"""

# %% nbgrader={"grade": false, "grade_id": "test-tensor-reductions", "locked": false, "schema_version": 3, "solution": false, "task": false}
def test_unit_tensor_reductions():
    """sum, mean, reshape and transpose."""
    print("Unit Test: Tensor reductions and shapes...")
    a = Tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert a.sum().item() == 21.0, "sum() over everything should be 21."
    assert np.allclose(a.sum(axis=0).data, [5, 7, 9]), "sum(axis=0) should add the rows."
    assert a.sum(axis=1, keepdims=True).shape == (2, 1), "keepdims should keep the reduced axis."
    assert np.isclose(a.mean().item(), 3.5), "mean() should be 3.5."
    assert a.reshape(3, 2).shape == (3, 2) and a.reshape((-1,)).shape == (6,), "reshape should accept ints or a tuple."
    assert a.T.shape == (3, 2) and a.T.data[2, 1] == 6.0, "T should transpose."
    print("Reduction tests passed")

# %% [markdown]
"""
## Memory: how big is a tensor?

A tensor's storage is `size * itemsize` bytes: a float64 value takes 8 bytes, float32 takes 4.
A batch of 32 flattened 28x28 images is 32 * 784 = 25,088 values: 196 KiB in float64.
The weights of a 784 -> 128 linear layer are another 100,352 values plus 128 biases.
"""

# %% [markdown]
"""
### Computational Assessment: Tensor memory

Complete `tensor_memory_assessment()`. Build the tensors with your `Tensor` class and return:
- `batch_elements`: number of values in a (32, 784) batch
- `batch_mb_float64` / `batch_mb_float32`: its size in MiB (1 MiB = 1024**2 bytes) in each dtype
- `layer_parameters`: weights + biases of a 784 -> 128 linear layer
- `output_shape`: the shape (as a list) of batch @ weights
- `matmul_flops`: multiply-adds counted as 2 operations for that matmul
- `checksum`: `(Tensor(np.arange(12).reshape(3, 4)) @ Tensor(np.ones((4, 2)))).sum()` as a float
"""

# %% nbgrader={"grade": true, "grade_id": "tensor-memory", "locked": false, "points": 5, "schema_version": 3, "solution": true, "task": false}
def tensor_memory_assessment():
    """Return a dict of memory and size facts computed with the Tensor class."""
    ### BEGIN SOLUTION
    batch = Tensor(np.zeros((32, 784)))
    weights = Tensor(np.zeros((784, 128)))
    bias = Tensor(np.zeros(128))
    output = batch @ weights
    mib = 1024 ** 2
    checksum = (Tensor(np.arange(12).reshape(3, 4)) @ Tensor(np.ones((4, 2)))).sum()
    return {
        "batch_elements": batch.size,
        "batch_mb_float64": batch.size * 8 / mib,
        "batch_mb_float32": Tensor(batch, dtype=np.float32).data.nbytes / mib,
        "layer_parameters": weights.size + bias.size,
        "output_shape": list(output.shape),
        "matmul_flops": 2 * 32 * 784 * 128,
        "checksum": float(checksum.item()),
    }
    ### END SOLUTION

# %% [markdown]
"""
### Comprehensive Test (graded)
"""

# %% nbgrader={"grade": true, "grade_id": "test-tensor-comprehensive", "locked": true, "points": 10, "schema_version": 3, "solution": false, "task": false}
def test_module_tensor():
    """Tensor creation, arithmetic, matmul, reductions and shapes working together."""
    x = Tensor([[1.0, -2.0], [3.0, 0.5]])
    assert isinstance(x.data, np.ndarray), "Tensor.data should be a numpy array."
    assert x.shape == (2, 2), "A 2x2 list should give a (2, 2) tensor."
    w = Tensor([[2.0, 0.0, 1.0], [1.0, 1.0, 0.0]])
    b = Tensor([0.5, -0.5, 0.0])
    y = x @ w + b
    expected = np.array([[1.0, -2.0], [3.0, 0.5]]) @ np.array([[2.0, 0.0, 1.0], [1.0, 1.0, 0.0]]) + np.array([0.5, -0.5, 0.0])
    assert isinstance(y, Tensor), "x @ w + b should produce a Tensor."
    assert y.shape == (2, 3), "A (2,2) @ (2,3) product plus a (3,) bias should have shape (2, 3)."
    assert np.allclose(y.data, expected), "The affine map x @ w + b should match numpy."
    z = (y * 2 - 1) / 4
    assert np.allclose(z.data, (expected * 2 - 1) / 4), "Chained element-wise operations should match numpy."
    assert np.isclose(y.sum().item(), expected.sum()), "sum() should reduce over all elements."
    assert np.allclose(y.mean(axis=0).data, expected.mean(axis=0)), "mean(axis=0) should average the rows."
    assert np.allclose(y.T.reshape(-1).data, expected.T.reshape(-1)), "Transpose then reshape should match numpy."
    labels = Tensor([0, 2, 1])
    assert np.issubdtype(labels.dtype, np.integer), "Integer labels should stay integers."
    try:
        x @ Tensor([[1.0, 2.0, 3.0]])
    except ValueError:
        pass
    else:
        raise AssertionError("Multiplying (2,2) by (1,3) should raise ValueError.")
    print("Tensor module: all comprehensive checks passed")

# %% [markdown]
"""
## Reflection

- Why does `Tensor(other_tensor)` copy rather than share the array? When would sharing be useful?
- A float32 model uses half the memory of a float64 one. What might you lose?
"""

# %% nbgrader={"grade": false, "grade_id": "run-tensor-tests", "locked": false, "schema_version": 3, "solution": false, "task": false}
if __name__ == "__main__":
    test_unit_tensor_creation()
    test_unit_tensor_arithmetic()
    test_unit_tensor_reductions()
    test_module_tensor()
    print(tensor_memory_assessment())
    print("Tensor module complete!")
