"""Train a [64, 64, 10] ReLU/softmax network on scikit-learn's bundled digits.

The 8×8 digit images ship inside scikit-learn, so nothing is downloaded.
Features are standardized with training statistics only (notes §4), the
network is trained with Adam on mini-batches (notes §7.4) and evaluated on a
held-out test set.

Run: python examples/train_digits.py   (needs ``pip install "mllib[sklearn]"``)
"""

import mllib
from mllib.data import train_dev_test_split
from mllib.datasets import load_digits


def main(seed=0, verbose=1):
    X, y = load_digits()
    X_train, X_dev, X_test, y_train, y_dev, y_test = train_dev_test_split(
        X, y, ratios=(0.7, 0.1, 0.2), stratify=True, seed=seed)
    net = mllib.NeuralNetwork(nodes=[64, 64, 10], activators=["relu", "softmax"],
                              standardize=True, seed=seed)
    net.fit(X_train, y_train, optimizer="adam", learning_rate=1e-3, epochs=150, batch_size=32,
            validation_data=(X_dev, y_dev), verbose=verbose,
            callbacks=[mllib.EarlyStopping(patience=20, restore_best_weights=True)])
    scores = net.evaluate(X_test, y_test)
    if verbose:
        net.summary()
        print(f"test accuracy {scores['accuracy']:.4f}, test cost {scores['cost']:.4f}")
    return scores


if __name__ == "__main__":
    main()
