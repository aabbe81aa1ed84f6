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
# Spatial - Convolutions

Images have structure: nearby pixels belong together, and a cat is a cat wherever it sits
in the frame. A convolution slides one small kernel over the whole image, so it reuses the
same few weights everywhere (weight sharing) and looks only at a neighbourhood at a time
(locality). That is why CNNs need far fewer parameters than MLPs on images.

## Learning Goals
- Implement 2-D convolution (cross-correlation, as deep learning frameworks define it) with loops
- Vectorise it into a multi-channel `Conv2D` layer on batches of shape (N, C, H, W)
- Flatten feature maps so they can feed a `Linear` layer

## Output size (no padding, stride 1)
```
H_out = H - kH + 1        W_out = W - kW + 1
```
"""

# %% nbgrader={"grade": false, "grade_id": "spatial-imports", "locked": false, "schema_version": 3, "solution": false, "task": false}
#| default_exp core.spatial

#| export
import numpy as np
from typing import Tuple, Union
from tinytorch.core.tensor import Tensor

# %% [markdown]
"""
## Step 1: Convolution with loops

```
image (4x4)          kernel (2x2)       output (3x3)
1 2 3 0              1 0                out[i, j] = sum(image[i:i+2, j:j+2] * kernel)
0 1 2 3      (*)     0 -1
3 0 1 2
2 3 0 1
```
Write it with two loops over output positions; it is slow but obviously correct, and it
becomes the reference the fast version is tested against.
"""

# %% nbgrader={"grade": false, "grade_id": "conv2d-naive", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
def conv2d_naive(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """
    Valid 2-D cross-correlation of a (H, W) image with a (kH, kW) kernel.

    TODO: Return the (H - kH + 1, W - kW + 1) array with out[i, j] = sum(window * kernel).
    """
    ### BEGIN SOLUTION
    H, W = image.shape
    kH, kW = kernel.shape
    if kH > H or kW > W:
        raise ValueError(f"Kernel {kernel.shape} is larger than the image {image.shape}")
    out = np.zeros((H - kH + 1, W - kW + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = np.sum(image[i:i + kH, j:j + kW] * kernel)
    return out
    ### END SOLUTION

# %% [markdown]
"""
## Step 2: The Conv2D layer

`Conv2D(in_channels, out_channels, kernel_size)` holds
- `weight`: Tensor of shape (out_channels, in_channels, kH, kW), He-initialised
  `N(0, 1) * sqrt(2 / (in_channels * kH * kW))`;
- `bias`: Tensor of zeros, shape (out_channels,).

For an input of shape (N, C, H, W), output channel `o` is the sum over input channels of
each channel convolved with `weight[o, c]`, plus `bias[o]`. Vectorise with
`np.lib.stride_tricks.sliding_window_view`, which gives every (kH, kW) window without copying,
and `np.einsum` to contract channels and kernel positions in one call.
"""

# %% nbgrader={"grade": false, "grade_id": "conv2d-class", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
class Conv2D:
    """Multi-channel 2-D convolution layer (stride 1, no padding)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Union[int, Tuple[int, int]]):
        if isinstance(kernel_size, int):
            kernel_size = (kernel_size, kernel_size)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = tuple(kernel_size)
        kH, kW = self.kernel_size
        scale = np.sqrt(2.0 / (in_channels * kH * kW))
        self.weight = Tensor(np.random.randn(out_channels, in_channels, kH, kW) * scale)
        self.bias = Tensor(np.zeros(out_channels))

    @property
    def parameters(self):
        return [self.weight, self.bias]

    def forward(self, x: Tensor) -> Tensor:
        """
        TODO: Convolve a (N, C, H, W) batch; return a (N, out_channels, H_out, W_out) Tensor.

        HINTS:
        - Raise ValueError unless x is 4-D with C == in_channels
        - windows = sliding_window_view(x.data, (kH, kW), axis=(2, 3))   # (N, C, H_out, W_out, kH, kW)
        - out = np.einsum("nchwij,ocij->nohw", windows, weight) + bias[None, :, None, None]
        """
        ### BEGIN SOLUTION
        data = x.data
        if data.ndim != 4 or data.shape[1] != self.in_channels:
            raise ValueError(f"Conv2D expects input (N, {self.in_channels}, H, W), got {data.shape}")
        kH, kW = self.kernel_size
        windows = np.lib.stride_tricks.sliding_window_view(data, (kH, kW), axis=(2, 3))
        out = np.einsum("nchwij,ocij->nohw", windows, self.weight.data)
        return Tensor(out + self.bias.data[None, :, None, None])
        ### END SOLUTION

    def __call__(self, x: Tensor) -> Tensor:
        return self.forward(x)

# %% [markdown]
"""
## Step 3: Flatten

A `Linear` layer wants (N, features). `flatten` keeps the batch axis and merges the rest:
(N, C, H, W) -> (N, C*H*W).
"""

# %% nbgrader={"grade": false, "grade_id": "flatten-function", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
def flatten(x: Tensor) -> Tensor:
    """TODO: Reshape to (batch, -1), keeping the first axis."""
    ### BEGIN SOLUTION
    return Tensor(x.data.reshape(x.data.shape[0], -1))
    ### END SOLUTION

# %% [markdown]
"""
### Unit Test: conv2d_naive
"""

# %% nbgrader={"grade": false, "grade_id": "test-conv2d-naive", "locked": false, "schema_version": 3, "solution": false, "task": false}
def test_unit_conv2d_naive():
    """The loop version on a hand-checked example."""
    print("Unit Test: conv2d_naive...")
    image = np.array([[1, 2, 3, 0], [0, 1, 2, 3], [3, 0, 1, 2], [2, 3, 0, 1]], dtype=float)
    kernel = np.array([[1, 0], [0, -1]], dtype=float)
    out = conv2d_naive(image, kernel)
    assert out.shape == (3, 3), "A 4x4 image and 2x2 kernel should give a 3x3 output."
    assert np.allclose(out, [[0, 0, 0], [0, 0, 0], [0, 0, 0]]), "This diagonal-difference kernel gives zeros on this image."
    assert np.allclose(conv2d_naive(image, np.ones((1, 1))), image), "A 1x1 kernel of one should copy the image."
    sums = conv2d_naive(image, np.ones((2, 2)))
    assert sums[0, 0] == 4 and sums[2, 2] == 4 and sums[1, 2] == 8, "A 2x2 kernel of ones should give window sums."
    print("conv2d_naive tests passed")

# %% [markdown]
"""
### Unit Test: Conv2D and flatten
"""

# %% nbgrader={"grade": false, "grade_id": "test-conv2d-layer", "locked": false, "schema_version": 3, "solution": false, "task": false}
def test_unit_conv2d_layer():
    """Conv2D shapes and agreement with the loop version."""
    print("Unit Test: Conv2D and flatten...")
    conv = Conv2D(1, 2, kernel_size=3)
    assert conv.weight.shape == (2, 1, 3, 3) and conv.bias.shape == (2,), "Conv2D(1, 2, 3) weight should be (2, 1, 3, 3)."
    x = Tensor(np.random.default_rng(0).normal(size=(2, 1, 5, 5)))
    y = conv(x)
    assert y.shape == (2, 2, 3, 3), "A (2,1,5,5) batch with 3x3 kernels should give (2,2,3,3)."
    assert np.allclose(y.data[1, 0], conv2d_naive(x.data[1, 0], conv.weight.data[0, 0])), "Conv2D should match conv2d_naive."
    assert flatten(y).shape == (2, 18), "flatten should give (batch, C*H*W)."
    print("Conv2D tests passed")

# %% [markdown]
"""
### Comprehensive Test (graded)
"""

# %% nbgrader={"grade": true, "grade_id": "test-spatial-comprehensive", "locked": true, "points": 10, "schema_version": 3, "solution": false, "task": false}
def test_module_spatial():
    """conv2d_naive, multi-channel Conv2D with bias, and flatten."""
    rng = np.random.default_rng(7)
    image = rng.normal(size=(6, 5))
    kernel = rng.normal(size=(3, 2))
    expected = np.array([[np.sum(image[i:i + 3, j:j + 2] * kernel) for j in range(4)] for i in range(4)])
    assert np.allclose(conv2d_naive(image, kernel), expected), "conv2d_naive should compute the valid cross-correlation."
    np.random.seed(3)
    conv = Conv2D(3, 4, kernel_size=(3, 2))
    conv.bias.data = np.array([0.5, -0.5, 1.0, 0.0])
    x = Tensor(rng.normal(size=(2, 3, 6, 5)))
    y = conv(x)
    assert isinstance(y, Tensor) and y.shape == (2, 4, 4, 4), "Conv2D(3, 4, (3, 2)) on (2,3,6,5) should give (2,4,4,4)."
    for n in range(2):
        for o in range(4):
            ref = sum(conv2d_naive(x.data[n, c], conv.weight.data[o, c]) for c in range(3)) + conv.bias.data[o]
            assert np.allclose(y.data[n, o], ref), "Each output channel should sum the per-channel convolutions plus its bias."
    try:
        conv(Tensor(np.zeros((1, 2, 6, 5))))
    except ValueError:
        pass
    else:
        raise AssertionError("Conv2D(3, ...) given 2 input channels should raise ValueError.")
    flat = flatten(y)
    assert flat.shape == (2, 64) and np.allclose(flat.data[1], y.data[1].reshape(-1)), "flatten should keep samples apart and merge the rest."
    print("Spatial module: all comprehensive checks passed")

# %% [markdown]
"""
## Reflection

- A Conv2D(3, 16, 3) layer has 16*3*3*3 + 16 = 448 parameters whatever the image size.
  How many would a Linear layer need to map a 32x32x3 image to a 30x30x16 output?
- Why does `sliding_window_view` make the vectorised version fast without copying memory?
"""

# %% nbgrader={"grade": false, "grade_id": "run-spatial-tests", "locked": false, "schema_version": 3, "solution": false, "task": false}
if __name__ == "__main__":
    test_unit_conv2d_naive()
    test_unit_conv2d_layer()
    test_module_spatial()
    print("Spatial module complete!")
