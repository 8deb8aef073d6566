"""The five course handouts the package was made from, by the names the package uses.

The package, its CLI, its experiments and its notes call each handout by ``name`` (and
never by a file or a number); the notes' page "The five handouts" summarises each in
its own words, from ``summary``, ``source`` and ``asks``. The handouts are requirements,
not truth: the formulas of theirs that are wrong are the errata of chapter 11
(``elbo_math.errata``, each with its handout's name as its source).
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Handout:
    key: str  # stable identifier, e.g. in a recipe's ``handouts``
    name: str  # how the package and the notes refer to it, lower case mid-sentence
    source: str  # who wrote it, for which course, when
    summary: str
    asks: tuple[str, ...]
    answered_in: tuple[str, ...]  # where the notes and the package answer it

    @property
    def title(self) -> str:
        """The name at the start of a sentence."""
        return self.name[0].upper() + self.name[1:]


HANDOUTS = (
    Handout(
        key="elbo-problem-set",
        name="the ELBO problem set",
        source="Lake Yin and Zhiqi Wang (group U8), 'VAE Problem Set', 22 April 2023",
        summary="Why the ELBO is the VAE's objective, then a VAE trained on Fashion-MNIST "
        "with PyTorch: its reconstructions of test images and its samples from the prior.",
        asks=(
            "rewrite log p(x) = ELBO + KL(q(z|x) || p(z|x)) to show why the ELBO is a "
            "lower bound (the handout's own answer has the inequality reversed: (11.1))",
            "adapt a VAE class with an encoder and a decoder and train it on Fashion-MNIST",
            "the test reconstruction loss, and 10 test images reconstructed in a 2x5 grid",
            "10 new images decoded from z ~ N(0, I), in a 2x5 grid",
        ),
        answered_in=(
            "chapter 2: the decomposition (2.1) and why the bound is a lower one (2.4)",
            "chapter 11: the handout's reversed inequality, refuted (11.1)",
            "chapter 8: the test reconstruction loss; chapter 9: `vae experiment "
            "conv-fashion`, its reconstructions and samples in 2x5 grids",
        ),
    ),
    Handout(
        key="conv-vae-exercise",
        name="the convolutional VAE exercise",
        source="Dan Rosenbaum, 'Exercise 5: Variational Auto-Encoders', Advanced Course on "
        "Deep Generative Models, spring 2024",
        summary="A convolutional VAE on MNIST with a Gaussian likelihood of fixed σ on "
        "dequantized pixels, built on the training loop of the UvA deep learning tutorial on "
        "autoregressive image models, and submitted as a notebook.",
        asks=(
            "calc_elbo (reconstruction log-likelihood and KL) and sample(n)",
            "an encoder of convolutions (two with stride 2) then fully connected layers, a "
            "decoder of fully connected layers then transposed convolutions",
            "the fixed prior N(0, I); a diagonal Gaussian posterior whose parameters come "
            "from the encoder (the handout's wording of it is wrong: (11.6))",
            "pixels cast to float, plus U[0, 1) noise, divided by 256; a Gaussian likelihood "
            "with σ = 0.1; the sample shown as the decoder's mean",
            "the test ELBO; train and validation ELBO curves; reconstruction and KL curves; "
            "samples, most of which should look like valid digits",
            "interpolations: posterior samples of two images of different digits, 10 points "
            "on the line between them, for 3 pairs",
        ),
        answered_in=(
            "chapter 7: the convolutional model and `sample`; chapter 3: dequantization and "
            "the Gaussian likelihood with σ = 0.1 (3.3)-(3.6)",
            "chapter 9: `vae experiment gaussian-digits` (test ELBO, curves, samples judged "
            "for how many look like digits, interpolations) and the σ sweep",
            "chapter 8: interpolations; chapter 11: the posterior's parameters (11.6)",
        ),
    ),
    Handout(
        key="ffn-vae-lab",
        name="the feed-forward VAE lab",
        source="an undated lab on vanilla Gaussian VAEs from a machine-learning course whose "
        "work is submitted through the BRUTE system (it refers to the course's lecture 11); "
        "it recommends Doersch's 'Tutorial on Variational Autoencoders' (arXiv:1606.05908)",
        summary="Whether a VAE generates better with deeper networks: a baseline with no "
        "hidden layers against a deeper feed-forward VAE with the same latent size, on "
        "MNIST, with a Gaussian decoder of fixed σ.",
        asks=(
            "the encoder and decoder as PyTorch modules; the baseline's are one linear layer",
            "the learning step, with torch.distributions",
            "both models trained; their parameter counts",
            "the two compared quantitatively and qualitatively; the log-likelihood being "
            "intractable, with surrogate metrics (arXiv:1802.03446 lists 24)",
        ),
        answered_in=(
            "chapter 6: a feed-forward VAE with every gradient by hand; chapter 7: the same "
            "in PyTorch, with torch.distributions as the tests' reference",
            "chapter 8: surrogate metrics (the judge's scores, IWAE, latent diagnostics)",
            "chapter 9: `vae experiment baseline-vs-deep`, parameter counts and the comparison",
        ),
    ),
    Handout(
        key="latent-space-problem-set",
        name="the latent-space problem set",
        source="Lake Yin and Zhiqi Wang (group U8), 'VAE Problem Set', 24 April 2023",
        summary="A convolutional VAE on Fashion-MNIST written class by class, then what its "
        "latent space learned: the histogram of two latent dimensions and traversals.",
        asks=(
            "convolutional encoder and decoder classes (the handout's flattened size is "
            "wrong for unpadded convolutions: (11.4))",
            "the summed binary cross-entropy as the reconstruction loss (its r_loss takes "
            "the log of the target: (11.3))",
            "the KL term (its kl_loss is not the KL: (11.2)) and the reparameterization",
            "the two latent dimensions of highest variance over the test set, and their "
            "hist2d, which should look like N(0, I)",
            "decodings at norm.ppf(linspace(0.05, 0.95, 7)) along one dimension (1x7), and "
            "as a bonus over both (7x7)",
        ),
        answered_in=(
            "chapter 7: the convolutional classes; chapter 3: the summed BCE; chapter 4: "
            "the KL; chapter 5: the reparameterization",
            "chapter 8: the latent space (hist2d, traversals, what the variance recipe picks)",
            "chapter 9: `vae experiment conv-fashion`; chapter 11: (11.2)-(11.4)",
        ),
    ),
    Handout(
        key="vae-homework",
        name="the VAE homework",
        source="'Homework 4: Variational Autoencoders', New York University, 1 November "
        "2020, with the notebook hw_4.ipynb",
        summary="The theory of the VAE, derived by hand, four short-answer questions, and a "
        "convolutional and a conditional VAE trained in a notebook.",
        asks=(
            "log p(x) = ELBO + KL(q(z|x) || p(z|x)), and when equality holds",
            "ELBO = E_q[log p(x|z)] − KL(q(z|x) || p(z)) and ELBO = E_q[log p(x, z)] + H[q] "
            "(its equation (7) drops a log: (11.5))",
            "the Bernoulli likelihood as the summed BCE; the Gaussian as MSE up to scale and "
            "constant (its negative log-likelihood drops the scale: (11.7))",
            "the closed-form Gaussian KL (Kingma and Welling, Appendix B)",
            "short answers: why reparameterize, overlapping posteriors, learning with "
            "missing labels, discrete latent variables",
            "a convolutional VAE; a conditional VAE q(z|x, c), p(x|z, c) with c in 0..9",
        ),
        answered_in=(
            "chapter 2: the three forms of the ELBO; chapter 3: BCE and MSE as "
            "likelihoods; chapter 4: the closed-form KL",
            "chapter 10: the four short answers; chapters 13-15: the mathematics of the last three",
            "chapter 9: `vae experiment conditional`; chapter 11: (11.5) and (11.7)",
        ),
    ),
)

BY_KEY = {h.key: h for h in HANDOUTS}


def handout(key: str) -> Handout:
    """The handout with this key; a KeyError names the keys there are."""
    try:
        return BY_KEY[key]
    except KeyError:
        raise KeyError(f"no handout {key!r}; the handouts are {', '.join(BY_KEY)}") from None
