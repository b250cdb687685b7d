"""Data preparation: splits, standardization, label encoding, mini-batches, augmentation.

Arrays are ``(n_samples, n_features)``, one example per row. Every random
choice is drawn from a ``numpy.random.Generator`` that is passed in (``rng``)
or made from ``seed``; the global ``np.random`` state is never used. This
package imports NumPy and the standard library only.

- :mod:`~mllib.data.split`: training, development and test sets (notes §4).
- :mod:`~mllib.data.standardize`: x̂ = (x − μ)/σ with training statistics (§4).
- :mod:`~mllib.data.encoding`: one-hot rows and class codes (§10).
- :mod:`~mllib.data.batches`: shuffled mini-batch indices (§7).
- :mod:`~mllib.data.augment`: per-batch augmentation hooks (§5.2).
"""

from .augment import GaussianNoise, ImageAugmenter, flip_images, shift_images
from .batches import iter_minibatches, minibatch_indices
from .encoding import ClassEncoder, decode_one_hot, one_hot
from .split import default_ratios, split_indices, split_sizes, train_dev_test_split
from .standardize import Standardizer

__all__ = [
    "ClassEncoder", "GaussianNoise", "ImageAugmenter", "Standardizer",
    "decode_one_hot", "default_ratios", "flip_images", "iter_minibatches",
    "minibatch_indices", "one_hot", "shift_images", "split_indices", "split_sizes",
    "train_dev_test_split",
]
