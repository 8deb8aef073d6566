"""Optimizers that update a dict of numpy parameters in place.

Adam follows torch.optim.Adam step for step (Kingma & Ba 2015, Algorithm 1), so the
two backends can be compared update by update:

    m ← β₁ m + (1 − β₁) g,   v ← β₂ v + (1 − β₂) g²
    θ ← θ − lr · (m / (1 − β₁ᵗ)) / (√v / √(1 − β₂ᵗ) + ε)

The update is the same rearranged, with c = √(1 − β₂ᵗ), as
θ ← θ − (lr c / (1 − β₁ᵗ)) · m / (√v + ε c), computed in place in one scratch
buffer per parameter: numpy cannot fuse the steps as torch's fused Adam does, so
the fewer passes over memory, the faster.
"""

import numpy as np


class Adam:
    def __init__(
        self,
        params: dict[str, np.ndarray],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ):
        self.params, self.lr, self.betas, self.eps = params, lr, betas, eps
        self.m = {k: np.zeros_like(p) for k, p in params.items()}
        self.v = {k: np.zeros_like(p) for k, p in params.items()}
        self.scratch = {k: np.empty_like(p) for k, p in params.items()}
        self.t = 0

    def step(self, grads: dict[str, np.ndarray]) -> None:
        """One update of every parameter, in place."""
        b1, b2 = self.betas
        self.t += 1
        c = np.sqrt(1 - b2**self.t)
        step_size = self.lr * c / (1 - b1**self.t)
        for name, p in self.params.items():
            g, m, v, s = grads[name], self.m[name], self.v[name], self.scratch[name]
            m *= b1
            np.multiply(g, 1 - b1, out=s)
            m += s
            v *= b2
            np.multiply(g, g, out=s)
            s *= 1 - b2
            v += s
            np.sqrt(v, out=s)
            s += self.eps * c
            np.divide(m, s, out=s)
            s *= step_size
            p -= s
