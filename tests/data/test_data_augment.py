import re

import numpy as np
import pytest

from mllib.data import GaussianNoise, ImageAugmenter, flip_images, shift_images


def one_pixel(h, w, y, x, value=5.0):
    image = np.zeros((h, w))
    image[y, x] = value
    return image


# -- the deterministic operations -------------------------------------------------------


def test_shift_moves_a_known_pixel():
    image = one_pixel(3, 3, 1, 1)
    images = np.stack([image] * 4)
    out = shift_images(images, [1, 0, -1, 2], [0, -1, 1, 2])
    np.testing.assert_array_equal(out[0], one_pixel(3, 3, 2, 1))    # down by 1
    np.testing.assert_array_equal(out[1], one_pixel(3, 3, 1, 0))    # left by 1
    np.testing.assert_array_equal(out[2], one_pixel(3, 3, 0, 2))    # up and right
    np.testing.assert_array_equal(out[3], np.zeros((3, 3)))         # off the frame
    np.testing.assert_array_equal(images[0], image)                 # input untouched


def test_shift_fills_with_zeros_by_hand():
    image = np.array([[[1, 2], [3, 4]]])
    np.testing.assert_array_equal(shift_images(image, 1, -1), [[[0, 0], [2, 0]]])
    np.testing.assert_array_equal(shift_images(image, 0, 0), image)


def test_flip_mirrors_columns_and_keeps_channels():
    image = np.array([[[1, 2, 3], [4, 5, 6]]])
    np.testing.assert_array_equal(flip_images(image), [[[3, 2, 1], [6, 5, 4]]])
    rgb = np.arange(12).reshape(1, 2, 2, 3)                     # (n, h, w, c)
    np.testing.assert_array_equal(flip_images(rgb)[0, 0, 0], rgb[0, 0, 1])


# -- ImageAugmenter -------------------------------------------------------------------------


def test_flips_only_mirror_about_half_of_the_images():
    image = np.arange(12.0).reshape(3, 4)
    X = np.tile(image.ravel(), (400, 1))
    out = ImageAugmenter((3, 4), max_shift=0)(X, np.random.default_rng(0))
    same = (out == image.ravel()).all(axis=1)
    mirrored = (out == image[:, ::-1].ravel()).all(axis=1)
    assert (same | mirrored).all()
    assert 0.4 < mirrored.mean() < 0.6


def test_shifts_only_move_a_centre_pixel_by_at_most_max_shift():
    X = np.tile(one_pixel(5, 5, 2, 2).ravel(), (500, 1))
    out = ImageAugmenter((5, 5), flip_horizontal=False, max_shift=1)(X, np.random.default_rng(1))
    images = out.reshape(500, 5, 5)
    assert (images.sum(axis=(1, 2)) == 5.0).all()                # never pushed out of the frame
    ys, xs = np.divmod(np.nonzero(images.reshape(500, 25))[1], 5)    # one lit pixel per image
    offsets = set(zip((ys - 2).tolist(), (xs - 2).tolist()))
    assert offsets == {(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)}


def test_flip_and_shift_move_every_channel_together():
    image = np.zeros((3, 3, 2))
    image[0, 0] = [1.0, 2.0]                                     # top-left pixel, two channels
    X = np.tile(image.ravel(), (300, 1))
    out = ImageAugmenter((3, 3, 2), max_shift=1)(X, np.random.default_rng(2)).reshape(300, 3, 3, 2)
    lit = np.argwhere(out[..., 0] == 1.0)                        # (image, y, x) of channel 0
    assert len(lit) > 0
    np.testing.assert_array_equal(out[lit[:, 0], lit[:, 1], lit[:, 2], 1], 2.0)
    assert (np.abs(out).sum(axis=(1, 2, 3))[lit[:, 0]] == 3.0).all()
    # A flip sends column 0 to column 2, so the pixel can end up anywhere in the frame.
    assert set(map(tuple, lit[:, 1:].tolist())) == {(y, x) for y in range(2) for x in range(3)}


def test_the_callers_array_is_never_modified():
    X = np.random.default_rng(3).normal(size=(16, 12)).astype(np.float32)
    copy = X.copy()
    for augment in (ImageAugmenter((3, 4)), ImageAugmenter((3, 4), False, 0), GaussianNoise(0.0)):
        out = augment(X, np.random.default_rng(0))
        assert out.shape == X.shape and out.dtype == np.float32
        assert not np.shares_memory(out, X)
        np.testing.assert_array_equal(X, copy)


def test_same_seed_same_augmentation():
    X = np.random.default_rng(4).normal(size=(10, 16))
    augment = ImageAugmenter((4, 4))
    np.testing.assert_array_equal(augment(X, np.random.default_rng(9)),
                                  augment(X, np.random.default_rng(9)))


@pytest.mark.parametrize("kwargs, match", [
    ({"image_shape": (0, 3)}, r"image_shape must be \(h, w\) or \(h, w, c\) .* got \(0, 3\)"),
    ({"image_shape": (3,)}, r"got \(3,\)"),
    ({"image_shape": "28x28"}, "got '28x28'"),
    ({"image_shape": (4, 4), "max_shift": -1}, "max_shift must be a non-negative integer, got -1"),
    ({"image_shape": (4, 4), "max_shift": 1.5}, "max_shift must be a non-negative integer, got 1.5"),
    ({"image_shape": (4, 3), "max_shift": 3}, r"smaller than the image height and width \(4, 3\), got 3"),
    ({"image_shape": (4, 4), "flip_horizontal": "yes"}, "flip_horizontal must be True or False"),
])
def test_image_augmenter_rejects_bad_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ImageAugmenter(**kwargs)


def test_image_augmenter_rejects_bad_batches():
    augment = ImageAugmenter((3, 3))
    with pytest.raises(ValueError, match=r"X_batch has 8 features, but images of shape \(3, 3\) have 9"):
        augment(np.zeros((2, 8)), np.random.default_rng(0))
    with pytest.raises(ValueError, match="rng must be a numpy.random.Generator"):
        augment(np.zeros((2, 9)), 0)


# -- GaussianNoise ------------------------------------------------------------------------


def test_gaussian_noise_has_the_requested_spread():
    X = np.full((2000, 10), 3.0)
    out = GaussianNoise(0.5)(X, np.random.default_rng(0))
    noise = out - X
    assert abs(noise.mean()) < 0.02
    assert abs(noise.std() - 0.5) < 0.01
    np.testing.assert_array_equal(X, 3.0)


def test_gaussian_noise_dtypes_and_zero_std():
    rng = np.random.default_rng(0)
    assert GaussianNoise(0.1)(np.zeros((2, 2), np.float32), rng).dtype == np.float32
    ints = GaussianNoise(0.1)(np.ones((2, 2), int), rng)
    assert ints.dtype == np.float64 and not (ints == 1.0).all()
    np.testing.assert_array_equal(GaussianNoise(0)(np.array([[1.5, 2.5]]), rng), [[1.5, 2.5]])


@pytest.mark.parametrize("std", [-0.1, float("nan"), float("inf"), True, "0.1"])
def test_gaussian_noise_rejects_bad_std(std):
    with pytest.raises(ValueError, match=re.escape(f"std must be a number in [0, inf), got {std!r}")):
        GaussianNoise(std)


def test_the_global_numpy_random_state_is_untouched():
    before = np.random.get_state()[1].copy()
    ImageAugmenter((2, 2), max_shift=1)(np.ones((5, 4)), np.random.default_rng(0))
    GaussianNoise(1.0)(np.ones((5, 4)), np.random.default_rng(0))
    np.testing.assert_array_equal(np.random.get_state()[1], before)
