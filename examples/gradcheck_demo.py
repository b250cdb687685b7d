"""Build a network on generated data and check its gradients (notes §6).

Run: python examples/gradcheck_demo.py
"""

import numpy as np

import mllib
from mllib.gradcheck import check_gradients


def main():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(32, 4))
    y = (X[:, 0] * X[:, 1] > 0).astype(int)
    net = mllib.NeuralNetwork(
        nodes=[4, 8, 6, 1], activators=["tanh", "relu", "sigmoid"],
        batch_norm=[False, True, False, False], keep_probs=[1.0, 0.9, 1.0, 1.0],
        lp_reg=2, lambda_=0.1, dtype="float64", seed=0)
    errors = check_gradients(net, X, y)
    for name, error in errors.items():
        print(f"{name:>8}  relative error {error:.2e}")
    worst = max(errors.values())
    print(f"worst relative error {worst:.2e}: {'OK' if worst < 1e-7 else 'FAILED'}")
    return 0 if worst < 1e-7 else 1


if __name__ == "__main__":
    raise SystemExit(main())
