"""Writes the format-1 model files of test_model_state.py; run it with mllib 0.1.0.

Two releases wrote format 1: the first (56f3dbc) kept Adam's m and v, the
second (2f247d8) the undamped sums and a "fitted" field. Files of each:

    git worktree add /tmp/v010 2f247d8
    PYTHONPATH=/tmp/v010/src python tests/io/data/make_v1_files.py tests/io/data v1
    git worktree add /tmp/v010a 56f3dbc
    PYTHONPATH=/tmp/v010a/src python tests/io/data/make_v1_files.py tests/io/data v1a

It saves two trained float64 models, then trains each on for two epochs in that
version and records the weights, so that the test can check that this version
continues a format-1 file the same way.
"""

import sys
from pathlib import Path

import numpy as np

import mllib


def main(folder, prefix):
    folder = Path(folder)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 3))
    y = (X[:, 0] + X[:, 1] * X[:, 2] > 0).astype(int)
    # The first release drew dropout masks from another random stream than the second
    # and this version, so its network has no dropout: it would not train on the same.
    keep_probs = [1, 0.9, 1, 1] if prefix == "v1" else 1.0
    models = {
        f"{prefix}_adam_network": mllib.NeuralNetwork(
            nodes=[None, 5, 4, 1], activators=["relu", "tanh", "sigmoid"],
            batch_norm=[False, True, False, False], keep_probs=keep_probs, lp_reg=2,
            lambda_=0.01, seed=5, dtype="float64", standardize=True),
        f"{prefix}_logistic": mllib.LogisticRegression(seed=1, dtype="float64"),
    }
    for name, model in models.items():
        model.fit(X, y, epochs=3, batch_size=16, optimizer="adam", learning_rate=0.01)
        model.save(folder / f"{name}.npz")
        proba = model.predict_proba(X)
        model.fit(X, y, epochs=2, batch_size=16)
        after = {f"after/{k}": v for k, v in model.get_weights().items()}
        np.savez(folder / f"{name}_expected.npz", X=X, y=y, proba_at_load=proba, **after)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
