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
# DataLoader - Feeding the Training Loop

Models train on mini-batches: a few dozen samples at a time, in a fresh random order every
epoch. The `Dataset` / `DataLoader` pair separates *what* the data is from *how* it is
served: a Dataset knows how many samples there are and how to fetch sample `i`; a DataLoader
shuffles indices, groups them into batches and stacks the samples into Tensors.

## Learning Goals
- Define the `Dataset` interface (`__len__`, `__getitem__`) and two concrete datasets
- Build a `DataLoader` that batches, optionally shuffles (reproducibly with a seed) and stacks
- Understand the number of batches per epoch: `ceil(len(dataset) / batch_size)`
"""

# %% nbgrader={"grade": false, "grade_id": "dataloader-imports", "locked": false, "schema_version": 3, "solution": false, "task": false}
#| default_exp utils.data

#| export
import math
import numpy as np
from typing import Iterator, Optional, Tuple
from tinytorch.core.tensor import Tensor

# %% [markdown]
"""
## Step 1: The Dataset interface

A Dataset answers two questions: how many samples (`len(ds)`) and what is sample `i`
(`ds[i]`, a `(features, label)` pair of Tensors). `Dataset` itself is abstract; its two
helpers work for any subclass.

`TensorDataset(features, labels)` serves rows of two arrays. `SimpleDataset` makes a small
synthetic classification problem (Gaussian blobs, one per class) that is reproducible
through its `seed`.
"""

# %% nbgrader={"grade": false, "grade_id": "dataset-classes", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
class Dataset:
    """Abstract dataset: subclasses implement __len__ and __getitem__."""

    def __getitem__(self, index: int) -> Tuple[Tensor, Tensor]:
        raise NotImplementedError("Dataset subclasses must implement __getitem__")

    def __len__(self) -> int:
        raise NotImplementedError("Dataset subclasses must implement __len__")

    def get_sample_shape(self) -> Tuple[int, ...]:
        """Shape of one sample's features."""
        return self[0][0].shape

    def get_num_classes(self) -> int:
        """Number of distinct labels (labels are 0..K-1)."""
        return int(max(int(self[i][1].item()) for i in range(len(self)))) + 1


class TensorDataset(Dataset):
    """Rows of a feature array paired with entries of a label array."""

    def __init__(self, features, labels):
        """
        TODO: Store features and labels as numpy arrays; raise ValueError if their lengths differ.
        """
        ### BEGIN SOLUTION
        self.features = features.data if isinstance(features, Tensor) else np.asarray(features)
        self.labels = labels.data if isinstance(labels, Tensor) else np.asarray(labels)
        if len(self.features) != len(self.labels):
            raise ValueError(f"{len(self.features)} feature rows but {len(self.labels)} labels")
        ### END SOLUTION

    def __len__(self) -> int:
        """TODO: The number of samples."""
        ### BEGIN SOLUTION
        return len(self.labels)
        ### END SOLUTION

    def __getitem__(self, index: int) -> Tuple[Tensor, Tensor]:
        """TODO: Return (Tensor(features[index]), Tensor(labels[index]))."""
        ### BEGIN SOLUTION
        return Tensor(self.features[index]), Tensor(self.labels[index])
        ### END SOLUTION


class SimpleDataset(TensorDataset):
    """Synthetic classification data: one Gaussian blob per class, reproducible via `seed`."""

    def __init__(self, size: int = 100, num_features: int = 4, num_classes: int = 3, seed: int = 0):
        rng = np.random.default_rng(seed)
        centers = rng.normal(scale=3.0, size=(num_classes, num_features))
        labels = np.arange(size) % num_classes
        features = centers[labels] + rng.normal(size=(size, num_features))
        super().__init__(features, labels)

# %% [markdown]
"""
## Step 2: The DataLoader

```
indices (shuffled):  [7, 2, 9, 0, 4, 1, 8, 3, 6, 5]
batch_size = 4:      [7, 2, 9, 0] [4, 1, 8, 3] [6, 5]      -> 3 batches, the last one short
each batch:          (Tensor of shape (4, features), Tensor of shape (4,))
```
Use `np.random.default_rng(seed)` created once in `__init__`, so that a seeded loader gives
a different order every epoch but the same sequence of orders every run.
"""

# %% nbgrader={"grade": false, "grade_id": "dataloader-class", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
class DataLoader:
    """Iterate over a Dataset in (optionally shuffled) batches of stacked Tensors."""

    def __init__(self, dataset: Dataset, batch_size: int = 32, shuffle: bool = True,
                 drop_last: bool = False, seed: Optional[int] = None):
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        """TODO: Number of batches per epoch (mind drop_last)."""
        ### BEGIN SOLUTION
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)
        ### END SOLUTION

    def __iter__(self) -> Iterator[Tuple[Tensor, Tensor]]:
        """
        TODO: Yield (batch_features, batch_labels) Tensors for one epoch.

        HINTS:
        - order = self.rng.permutation(n) if shuffle else np.arange(n)
        - np.stack([sample.data for sample in ...]) builds each batch array
        - skip a short last batch when drop_last is set
        """
        ### BEGIN SOLUTION
        n = len(self.dataset)
        order = self.rng.permutation(n) if self.shuffle else np.arange(n)
        for start in range(0, n, self.batch_size):
            indices = order[start:start + self.batch_size]
            if self.drop_last and len(indices) < self.batch_size:
                break
            samples = [self.dataset[int(i)] for i in indices]
            features = np.stack([x.data for x, _ in samples])
            labels = np.stack([y.data for _, y in samples])
            yield Tensor(features), Tensor(labels)
        ### END SOLUTION

# %% [markdown]
"""
### Unit Test: Datasets
"""

# %% nbgrader={"grade": false, "grade_id": "test-datasets", "locked": false, "schema_version": 3, "solution": false, "task": false}
def test_unit_datasets():
    """TensorDataset and SimpleDataset."""
    print("Unit Test: datasets...")
    ds = TensorDataset(np.arange(12.0).reshape(6, 2), np.array([0, 1, 0, 1, 2, 2]))
    assert len(ds) == 6, "TensorDataset should have one sample per row."
    x, y = ds[2]
    assert isinstance(x, Tensor) and np.allclose(x.data, [4.0, 5.0]) and y.item() == 0, "ds[2] should be row 2 and label 0."
    assert ds.get_sample_shape() == (2,) and ds.get_num_classes() == 3, "Sample shape (2,) and 3 classes expected."
    try:
        TensorDataset(np.zeros((3, 2)), np.zeros(4))
        raise AssertionError("Mismatched lengths should raise ValueError.")
    except ValueError:
        pass
    simple = SimpleDataset(size=30, num_features=5, num_classes=3, seed=1)
    assert len(simple) == 30 and simple.get_sample_shape() == (5,), "SimpleDataset should honour size and num_features."
    assert np.allclose(simple[0][0].data, SimpleDataset(size=30, num_features=5, num_classes=3, seed=1)[0][0].data), "The same seed should give the same data."
    print("Dataset tests passed")

# %% [markdown]
"""
### Unit Test: DataLoader
"""

# %% nbgrader={"grade": false, "grade_id": "test-dataloader", "locked": false, "schema_version": 3, "solution": false, "task": false}
def test_unit_dataloader():
    """Batch shapes, counts and ordering."""
    print("Unit Test: DataLoader...")
    ds = TensorDataset(np.arange(20.0).reshape(10, 2), np.arange(10))
    loader = DataLoader(ds, batch_size=4, shuffle=False)
    batches = list(loader)
    assert len(loader) == 3 and len(batches) == 3, "10 samples in batches of 4 should give 3 batches."
    assert batches[0][0].shape == (4, 2) and batches[2][0].shape == (2, 2), "Batches should be (4, 2), (4, 2), (2, 2)."
    assert np.array_equal(batches[0][1].data, [0, 1, 2, 3]), "Without shuffling the order should be kept."
    dropped = DataLoader(ds, batch_size=4, shuffle=False, drop_last=True)
    assert len(dropped) == 2 and len(list(dropped)) == 2, "drop_last should skip the short batch."
    print("DataLoader tests passed")

# %% [markdown]
"""
### Comprehensive Test (graded)
"""

# %% nbgrader={"grade": true, "grade_id": "test-dataloader-comprehensive", "locked": true, "points": 10, "schema_version": 3, "solution": false, "task": false}
def test_module_dataloader():
    """Datasets and the DataLoader: coverage, shuffling, reproducibility and use in a model."""
    from tinytorch.core.layers import Linear

    ds = SimpleDataset(size=50, num_features=3, num_classes=2, seed=4)
    assert len(ds) == 50 and ds.get_num_classes() == 2, "SimpleDataset(50, 3, 2) should have 50 samples and 2 classes."
    loader = DataLoader(ds, batch_size=16, shuffle=True, seed=123)
    assert len(loader) == 4, "50 samples in batches of 16 should give 4 batches."
    epoch1 = list(loader)
    epoch2 = list(loader)
    sizes = [x.shape[0] for x, _ in epoch1]
    assert sizes == [16, 16, 16, 2], f"Batch sizes should be [16, 16, 16, 2], got {sizes}."
    assert all(isinstance(x, Tensor) and isinstance(y, Tensor) for x, y in epoch1), "Batches should be Tensors."
    seen = np.concatenate([x.data for x, _ in epoch1])
    assert np.allclose(np.sort(seen, axis=0), np.sort(ds.features, axis=0)), "One epoch should serve every sample exactly once."
    order1 = np.concatenate([y.data for _, y in epoch1])
    order2 = np.concatenate([y.data for _, y in epoch2])
    first1 = np.concatenate([x.data for x, _ in epoch1])[:, 0]
    first2 = np.concatenate([x.data for x, _ in epoch2])[:, 0]
    assert np.array_equal(np.sort(order1), np.sort(order2)) and not np.allclose(first1, first2), "Each epoch should use a new shuffled order."
    again = list(DataLoader(ds, batch_size=16, shuffle=True, seed=123))
    assert np.allclose(np.concatenate([x.data for x, _ in again])[:, 0], first1), "The same seed should reproduce the same order."
    for x, y in epoch1:
        idx = [int(np.where(np.all(np.isclose(ds.features, row), axis=1))[0][0]) for row in x.data]
        assert np.array_equal(ds.labels[idx], y.data), "Each feature row should travel with its own label."
    out = Linear(3, 2)(epoch1[0][0])
    assert out.shape == (16, 2), "A batch should feed straight into a Linear layer."
    print("DataLoader module: all comprehensive checks passed")

# %% [markdown]
"""
## Reflection

- Why shuffle every epoch instead of once? What could go wrong if the data were sorted by label?
- With 50,000 images and batch size 128, how many optimizer steps make one epoch?
"""

# %% nbgrader={"grade": false, "grade_id": "run-dataloader-tests", "locked": false, "schema_version": 3, "solution": false, "task": false}
if __name__ == "__main__":
    test_unit_datasets()
    test_unit_dataloader()
    test_module_dataloader()
    print("DataLoader module complete!")
