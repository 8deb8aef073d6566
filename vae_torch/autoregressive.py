"""The decoder's autoregressive part over the pixels: p(x|z) without independent pixels.

A Bernoulli decoder of independent pixels (3.1) must explain every pixel by z alone;
what the pixels tell about each other (a stroke continues, an edge is sharp) costs nats
that no z can save. ``--autoregressive H`` adds to each pixel's logit a function of the
pixels before it in raster order (channel, row, column):

(3.14)  p(x|z) = Π_i Bernoulli(x_i; sigmoid(ℓ_i(z) + g_i(x_<i))),
        log p(x|z) = Σ_i x_i a_i − softplus(a_i),   a_i = ℓ_i(z) + g_i(x_<i),

a product of conditionals, so a distribution over the binary images whatever g is
(``elbo_math.autoregressive``), each factor the Bernoulli of (3.2). g is a MADE (Germain
et al. 2015) with H hidden units and direct connections: masks on its weights keep
every path from x_j to g_i at j < i, so g_i sees only the pixels before i (H = 0: the
direct connections alone, a fully visible sigmoid belief net, Frey 1998). g does not
depend on z, so it is computed once per image, however many codes the IWAE draws:
evaluating (8.1) costs what the decoder of independent pixels costs.

The price is sampling: x_i needs x_<i, so an image is drawn pixel by pixel
(``draw``), and E[x|z] has no closed form. ``VAE.decode`` returns, for each pixel,
its probability of being 1 given z and the pixels drawn before it, along one draw.
"""

import torch
from torch import nn
from torch.nn import functional as F


class PixelAutoregression(nn.Module):
    """g(x) for images of ``x_dim`` pixels: direct connections (strictly lower-triangular
    weights) plus, when ``hidden`` > 0, one masked hidden layer of ReLU units. Unit k
    has degree m_k in 1..x_dim − 1 (spread evenly): it sees x_j for j <= m_k and feeds
    g_i for i > m_k, so g_i depends on x_<i alone; with ``context`` N, only on the N
    pixels before i (direct weights and hidden paths alike). Starts at g = 0: the decoder
    of independent pixels."""

    def __init__(self, x_dim: int, hidden: int, context: int | None = None):
        super().__init__()
        self.x_dim, self.hidden, self.context = x_dim, hidden, context
        near = x_dim if context is None else context  # how far back a pixel looks
        pixel = torch.arange(1, x_dim + 1)
        before = pixel[None, :] < pixel[:, None]  # (i, j): j < i
        within = pixel[:, None] - pixel[None, :] <= near
        self.direct = nn.Parameter(torch.zeros(x_dim, x_dim))
        self.register_buffer("direct_mask", (before & within).float(), False)
        if hidden:
            degree = torch.arange(hidden) % max(x_dim - 1, 1) + 1
            self.into = nn.Linear(x_dim, hidden)
            self.out = nn.Linear(hidden, x_dim)
            nn.init.zeros_(self.out.weight)
            nn.init.zeros_(self.out.bias)
            # unit k sees x_j for m_k − near/2 < j <= m_k and feeds g_i for
            # m_k < i <= m_k + near/2: a path from x_j to g_i spans fewer than near pixels
            half = max(near // 2, 1)
            sees = (degree[:, None] >= pixel[None, :]) & (degree[:, None] - pixel[None, :] < half)
            feeds = (pixel[:, None] > degree[None, :]) & (pixel[:, None] - degree[None, :] <= half)
            self.register_buffer("into_mask", sees.float(), False)
            self.register_buffer("out_mask", feeds.float(), False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """g(x) for images x (..., x_dim), flattened in raster order: (..., x_dim)."""
        g = F.linear(x, self.direct * self.direct_mask)
        if self.hidden:
            h = F.relu(F.linear(x, self.into.weight * self.into_mask, self.into.bias))
            g = g + F.linear(h, self.out.weight * self.out_mask, self.out.bias)
        return g

    @torch.no_grad()
    def draw(
        self, logits: torch.Tensor, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Images drawn pixel by pixel for the decoder's logits ℓ(z) (B, x_dim): (the
        probability of each pixel given z and the pixels drawn before it, the draws),
        (B, x_dim) each. The hidden layer's input is updated one pixel at a time, so a
        draw costs about one evaluation of g per image, not one per pixel."""
        batch = logits.shape[0]
        x = torch.zeros_like(logits)
        probs = torch.empty_like(logits)
        direct = self.direct * self.direct_mask
        if self.hidden:
            into = self.into.weight * self.into_mask  # (H, D)
            out = self.out.weight * self.out_mask  # (D, H)
            pre = self.into.bias.expand(batch, -1).clone()  # (B, H): x_<i's input so far
        for i in range(self.x_dim):
            a = logits[:, i] + x[:, :i] @ direct[i, :i]
            if self.hidden:
                a = a + F.relu(pre) @ out[i] + self.out.bias[i]
            probs[:, i] = torch.sigmoid(a)
            u = torch.rand(batch, generator=generator, device=x.device, dtype=x.dtype)
            x[:, i] = (u < probs[:, i]).to(x.dtype)
            if self.hidden:
                pre += x[:, i, None] * into[:, i]
        return probs, x
