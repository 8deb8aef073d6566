"""Layers with hand-written backward passes (chapter 6 of the notes).

Each layer has ``forward(x) -> (y, cache)`` and, right below it,
``backward(dy, cache) -> dx`` (plus parameter gradients for ``Linear``). ``dy`` is
the gradient of the scalar loss with respect to the layer's output, ``dx`` the one
with respect to its input. The cache holds exactly what backward needs and
nothing else; layers keep no state between the two calls.
"""

from dataclasses import dataclass

import numpy as np


@dataclass
class Linear:
    """y = x W + b, with W of shape (in, out) (torch's nn.Linear stores Wᵀ).

    Initialisation is torch's default, so both backends start from the same
    distribution: W and b uniform on [−1/√in, 1/√in].
    """

    weight: np.ndarray  # (in, out)
    bias: np.ndarray  # (out,)

    @classmethod
    def init(cls, n_in: int, n_out: int, rng: np.random.Generator, dtype=np.float64) -> "Linear":
        bound = 1.0 / np.sqrt(n_in)
        return cls(
            rng.uniform(-bound, bound, (n_in, n_out)).astype(dtype),
            rng.uniform(-bound, bound, n_out).astype(dtype),
        )

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return x @ self.weight + self.bias, x  # (B, out); cache: the input (B, in)

    def backward(
        self, dy: np.ndarray, x: np.ndarray, need_dx: bool = True
    ) -> tuple[np.ndarray | None, dict[str, np.ndarray]]:
        """(6.6) ∂L/∂x = dy Wᵀ, ∂L/∂W = xᵀ dy, ∂L/∂b = Σ_batch dy.

        ``need_dx=False`` skips ∂L/∂x where the input is data (the first layer).
        """
        dx = dy @ self.weight.T if need_dx else None
        return dx, {"weight": x.T @ dy, "bias": dy.sum(axis=0)}


class ReLU:
    @staticmethod
    def forward(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        positive = x > 0
        return x * positive, positive

    @staticmethod
    def backward(dy: np.ndarray, positive: np.ndarray) -> np.ndarray:
        """(6.7) relu'(x) = 1 where x > 0, else 0 (0 at x = 0, as torch)."""
        return dy * positive


class Tanh:
    @staticmethod
    def forward(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        y = np.tanh(x)
        return y, y

    @staticmethod
    def backward(dy: np.ndarray, y: np.ndarray) -> np.ndarray:
        """(6.8) tanh'(x) = 1 − tanh²(x), from the cached output."""
        return dy * (1 - y * y)


class Sigmoid:
    @staticmethod
    def forward(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        y = sigmoid(x)
        return y, y

    @staticmethod
    def backward(dy: np.ndarray, y: np.ndarray) -> np.ndarray:
        """(6.9) σ'(x) = σ(x)(1 − σ(x)), from the cached output."""
        return dy * y * (1 - y)


def sigmoid(x: np.ndarray) -> np.ndarray:
    """(6.9) 1 / (1 + e^−x), as e^{−|x|} / (1 + e^{−|x|}) for x < 0: no overflow for any x."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1, e) / (1 + e)


def softplus(x: np.ndarray) -> np.ndarray:
    """(6.9) log(1 + e^x) = max(x, 0) + log1p(e^{−|x|}): exact for any x, no overflow.

    (np.logaddexp(0, x) is the same function but several times slower here.)
    """
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


ACTIVATIONS = {"relu": ReLU, "tanh": Tanh, "sigmoid": Sigmoid}
