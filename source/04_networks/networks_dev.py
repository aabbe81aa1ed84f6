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
# Networks - Composing Layers

A network is a function built from smaller functions. `Sequential` chains layers so that
the output of one is the input of the next; `create_mlp` builds the most common chain, the
multi-layer perceptron (MLP): Linear -> activation -> Linear -> ... -> Linear.

## Learning Goals
- Build `Sequential`, a container that is itself callable like a layer
- Collect the parameters of every layer into one list for the optimizer
- Build MLPs from a list of sizes and count their parameters
"""

# %% nbgrader={"grade": false, "grade_id": "networks-imports", "locked": false, "schema_version": 3, "solution": false, "task": false}
#| default_exp core.networks

#| export
import numpy as np
from typing import List, Optional
from tinytorch.core.tensor import Tensor
from tinytorch.core.layers import Linear
from tinytorch.core.activations import ReLU, Sigmoid, Tanh, Softmax

# %% [markdown]
"""
## Step 1: Sequential

```
x -> [Linear(2, 4)] -> [ReLU] -> [Linear(4, 1)] -> y
```
`Sequential(layers)` stores the list in `self.layers` and applies it in order. An empty
`Sequential([])` is the identity function, which is handy in tests.

Like `Linear`, it exposes `parameters` as a property (no call): the concatenation of the
`parameters` of every layer that has any. Activations have none.
"""

# %% nbgrader={"grade": false, "grade_id": "sequential-class", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
class Sequential:
    """Apply a list of layers one after another."""

    def __init__(self, layers: Optional[List] = None):
        """Store the layers (an empty list when none are given)."""
        self.layers = list(layers) if layers is not None else []

    def add(self, layer) -> None:
        """Append a layer at the end of the chain."""
        self.layers.append(layer)

    def forward(self, x: Tensor) -> Tensor:
        """
        TODO: Pass x through every layer in order and return the result.
        """
        ### BEGIN SOLUTION
        for layer in self.layers:
            x = layer(x)
        return x
        ### END SOLUTION

    def __call__(self, x: Tensor) -> Tensor:
        return self.forward(x)

    @property
    def parameters(self) -> List[Tensor]:
        """
        TODO: Return one flat list with the parameters of every layer that has them.

        HINT: getattr(layer, "parameters", []) is [] for activations.
        """
        ### BEGIN SOLUTION
        params = []
        for layer in self.layers:
            params.extend(getattr(layer, "parameters", []))
        return params
        ### END SOLUTION

    def __repr__(self) -> str:
        inner = ", ".join(repr(layer) if hasattr(layer, "input_size") else type(layer).__name__ for layer in self.layers)
        return f"Sequential([{inner}])"

# %% [markdown]
"""
## Step 2: Building MLPs

`create_mlp(3, [8, 4], 2)` builds
```
Linear(3, 8) -> ReLU -> Linear(8, 4) -> ReLU -> Linear(4, 2) [-> output activation]
```
`activation` and `output_activation` are classes (e.g. `ReLU`, `Sigmoid`); the function
instantiates a fresh object for each position. `output_activation=None` leaves raw scores
(logits), which is what the loss functions in the Training module expect.
"""

# %% nbgrader={"grade": false, "grade_id": "create-mlp", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
def create_mlp(input_size: int, hidden_sizes: List[int], output_size: int,
               activation=ReLU, output_activation=None) -> Sequential:
    """
    Build a multi-layer perceptron.

    TODO: Chain Linear layers through the sizes [input_size, *hidden_sizes, output_size],
    with activation() after every hidden layer and output_activation() at the end if given.
    """
    ### BEGIN SOLUTION
    sizes = [input_size, *hidden_sizes, output_size]
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(activation())
    if output_activation is not None:
        layers.append(output_activation())
    return Sequential(layers)
    ### END SOLUTION


def count_parameters(model) -> int:
    """Total number of scalar parameters in a model (anything with `.parameters`)."""
    ### BEGIN SOLUTION
    return int(sum(p.size for p in model.parameters))
    ### END SOLUTION

# %% [markdown]
"""
### Unit Test: Sequential
"""

# %% nbgrader={"grade": false, "grade_id": "test-sequential", "locked": false, "schema_version": 3, "solution": false, "task": false}
def test_unit_sequential():
    """Sequential applies layers in order and gathers parameters."""
    print("Unit Test: Sequential...")
    empty = Sequential([])
    x = Tensor([[1.0, -2.0]])
    assert np.allclose(empty(x).data, x.data), "An empty Sequential should return its input."
    assert empty.parameters == [], "An empty Sequential has no parameters."
    first, second = Linear(2, 3), Linear(3, 1)
    model = Sequential([first, ReLU(), second])
    expected = np.maximum(0, x.data @ first.weight.data + first.bias.data) @ second.weight.data + second.bias.data
    assert np.allclose(model(x).data, expected), "Sequential should apply Linear, ReLU, Linear in order."
    assert len(model.parameters) == 4, "Two Linear layers contribute four parameter tensors."
    assert model.parameters[0] is first.weight, "parameters should return the layers' own Tensors, not copies."
    model.add(Sigmoid())
    assert len(model.layers) == 4, "add should append a layer."
    print("Sequential tests passed")

# %% [markdown]
"""
### Unit Test: create_mlp
"""

# %% nbgrader={"grade": false, "grade_id": "test-create-mlp", "locked": false, "schema_version": 3, "solution": false, "task": false}
def test_unit_create_mlp():
    """create_mlp builds the right chain."""
    print("Unit Test: create_mlp...")
    mlp = create_mlp(3, [8, 4], 2)
    kinds = [type(layer).__name__ for layer in mlp.layers]
    assert kinds == ["Linear", "ReLU", "Linear", "ReLU", "Linear"], f"Unexpected layer sequence {kinds}."
    assert mlp(Tensor(np.ones((5, 3)))).shape == (5, 2), "A (5, 3) batch should map to (5, 2)."
    assert count_parameters(mlp) == 3 * 8 + 8 + 8 * 4 + 4 + 4 * 2 + 2, "Parameter count should include weights and biases."
    probs = create_mlp(3, [4], 2, activation=Tanh, output_activation=Softmax)(Tensor(np.ones((2, 3))))
    assert np.allclose(probs.data.sum(axis=1), 1.0), "A Softmax output activation should give rows summing to 1."
    print("create_mlp tests passed")

# %% [markdown]
"""
### Comprehensive Test (graded)
"""

# %% nbgrader={"grade": true, "grade_id": "test-networks-comprehensive", "locked": true, "points": 10, "schema_version": 3, "solution": false, "task": false}
def test_module_networks():
    """Sequential and create_mlp compute the right function and expose their parameters."""
    np.random.seed(1)
    mlp = create_mlp(4, [6], 3, activation=ReLU, output_activation=Sigmoid)
    assert isinstance(mlp, Sequential), "create_mlp should return a Sequential."
    assert len(mlp.layers) == 4, "create_mlp(4, [6], 3, output_activation=Sigmoid) should have 4 layers."
    x = Tensor(np.random.default_rng(0).normal(size=(5, 4)))
    h = np.maximum(0, x.data @ mlp.layers[0].weight.data + mlp.layers[0].bias.data)
    z = h @ mlp.layers[2].weight.data + mlp.layers[2].bias.data
    y = mlp(x)
    assert y.shape == (5, 3), "The MLP should map (5, 4) to (5, 3)."
    assert np.allclose(y.data, 1 / (1 + np.exp(-z))), "The MLP output should equal sigmoid(relu(x W1 + b1) W2 + b2)."
    params = mlp.parameters
    assert len(params) == 4 and all(isinstance(p, Tensor) for p in params), "The MLP should expose four parameter Tensors."
    assert count_parameters(mlp) == 4 * 6 + 6 + 6 * 3 + 3, "count_parameters should add weights and biases of every Linear."
    params[-1].data += 1.0
    assert np.allclose(mlp.layers[2].bias.data, 1.0), "Changing a parameter Tensor should change the model (no copies)."
    assert np.allclose(Sequential([])(x).data, x.data), "Sequential([]) should be the identity."
    print("Networks module: all comprehensive checks passed")

# %% [markdown]
"""
## Reflection

- Doubling every hidden width of an MLP roughly quadruples its parameters. Why?
- Why does `create_mlp` leave the output without an activation by default?
"""

# %% nbgrader={"grade": false, "grade_id": "run-networks-tests", "locked": false, "schema_version": 3, "solution": false, "task": false}
if __name__ == "__main__":
    test_unit_sequential()
    test_unit_create_mlp()
    test_module_networks()
    print("Networks module complete!")
