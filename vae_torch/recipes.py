"""The course's experiments as data: each ``Recipe`` names its runs (the ``vae train``
flags of each), the datasets and epochs, the figures and what is measured.
``vae experiment --list`` prints them (``describe``); ``vae_torch.experiments`` runs them.
"""

from dataclasses import dataclass, field

from elbo_math.handouts import handout
from vae_numpy.run.config import TrainConfig

DIGITS = "digits"  # full MNIST where present, else mnist-5k
EMOJI = "emoji"  # Debian's colour emoji, drawn and imported by the recipe (vae data emoji)
EMOJI_SIZE = (32, 32)

CONV = {"model": "conv", "channels": (32, 64), "strides": (2, 2), "hidden": (256,)}
GAUSSIAN_CONV = CONV | {"likelihood": "gaussian", "pixels": "dequantized", "latent_dim": 4}
SIGMAS = (0.05, 0.1, 0.2, 0.3)
# the VampPrior of the sampling recipes (chapter 13): 100 pseudo-inputs, a fifth of Tomczak
# & Welling's 500, since each training step encodes them all
VAMP = {"prior": "vamp", "components": 100}
WIDE = {"model": "mlp", "hidden": (512, 512), "latent_dim": 32}  # best-fashion's network
# best-mnist: the published anchors' network (Tomczak & Welling 2018, Norouzi et al. 2020)
BENCHMARK_MLP = {"model": "mlp", "hidden": (300, 300), "latent_dim": 40}
PIXEL_CONTEXT = {"autoregressive": 1000, "context": 280}  # (3.14): ten rows back
GAUSSIAN_MLP = {
    "model": "mlp",
    "likelihood": "gaussian",
    "sigma": 0.1,
    "pixels": "dequantized",
    "latent_dim": 20,
}


LATENT_FIGURES = ("kl-per-dimension", "aggregate-posterior")
# the collapse lab: a conv decoder with a per-pixel scale can explain the 8-bit values
# without z for its first epochs (chapter 9)
COLLAPSE = {
    "model": "conv",
    "likelihood": "discretized-logistic",
    "pixels": "grey",
    "latent_dim": 16,
}


@dataclass(frozen=True)
class Recipe:
    name: str
    handouts: tuple[str, ...]  # keys of elbo_math.handouts; () for the package's own
    question: str
    dataset: str
    epochs: dict[str, int]  # by dataset
    runs: dict[str, dict]  # run folder name -> TrainConfig fields
    figures: tuple[str, ...]  # of every run
    k: int = 100  # importance samples of the log-likelihood estimate
    k_by_run: dict[str, int] = field(default_factory=dict)  # a run's own k, where not k
    samples: int | None = 1000  # samples judged by the dataset's classifier; None: no judge
    compare: bool = False
    track_latent: bool = False  # the latent diagnostics after every epoch, runs side by side
    extra_figures: dict[str, tuple[str, ...]] = field(default_factory=dict)  # by run
    # samplers judged beside the prior (vae_torch.samplers), with as many samples
    samplers: tuple[str, ...] = ()

    def k_of(self, run: str) -> int:
        """The importance samples of ``run``'s log-likelihood estimate."""
        return self.k_by_run.get(run, self.k)

    def figures_of(self, run: str) -> list[str]:
        """The figures drawn for ``run``: the recipe's, then the run's own."""
        return [*self.figures, *self.extra_figures.get(run, ())]

    notes: tuple[str, ...] = field(default=())


# the samplers fitted after training that the sampling recipes judge beside the prior
SAMPLERS = ("gmm", "gmm:50", "two-stage", "temperature:0.8")

RECIPES = {
    r.name: r
    for r in (
        Recipe(
            name="gaussian-digits",
            handouts=("conv-vae-exercise",),
            question="a conv VAE with a Gaussian likelihood of fixed σ = 0.1 on dequantized "
            "digits: test ELBO, ELBO / reconstruction / KL curves, samples (judged), "
            "interpolations; a 4-D latent, whose samples the judge recognises far more often, "
            "beside a 16-D one, whose ELBO is far higher; and the recipe's best sampler, the "
            "4-D model wider and trained with an MMD penalty pulling its codes to the prior; "
            "and the 4-D model with a prior it learns, the VampPrior, pulled to its codes",
            dataset=DIGITS,
            epochs={"mnist": 10, "mnist-5k": 60},
            runs={
                "conv-gaussian": GAUSSIAN_CONV | {"sigma": 0.1},
                "latent-16": GAUSSIAN_CONV | {"sigma": 0.1, "latent_dim": 16},
                "mmd-wide": GAUSSIAN_CONV  # chapter 9: what the MMD and the width each add
                | {"sigma": 0.1, "mmd": 300.0, "channels": (64, 128), "hidden": (512,)},
                # chapter 13: conv-gaussian with a prior it learns instead of N(0, I)
                "vamp": GAUSSIAN_CONV | {"sigma": 0.1} | VAMP,
            },
            figures=(
                "elbo-curves",
                "loss-terms",
                "samples",
                "interpolations",
                "reconstructions",
                *LATENT_FIGURES,
                "holes-2d",
                "samplers",
            ),
            samplers=SAMPLERS,
        ),
        Recipe(
            name="conv-fashion",
            handouts=("elbo-problem-set", "latent-space-problem-set"),
            question="a conv VAE with the summed BCE on Fashion-MNIST: test reconstruction "
            "loss, reconstructions, samples, hist2d of the two latent dimensions of highest "
            "variance, traversals; a 2-D latent, whose plane is the whole manifold; and the "
            "20-D model with a prior it learns, the VampPrior",
            dataset="fashion-mnist",
            epochs={"fashion-mnist": 10},
            runs={
                "latent-20": CONV | {"pixels": "grey", "latent_dim": 20},
                "latent-2": CONV | {"pixels": "grey", "latent_dim": 2},
                "latent-20-vamp": CONV | {"pixels": "grey", "latent_dim": 20} | VAMP,
            },
            figures=(
                "elbo-curves",
                "loss-terms",
                "reconstructions",
                "samples",
                "latent-hist2d",
                "traversals-1d",
                "traversal-2d",
                *LATENT_FIGURES,
                "holes-2d",
                "samplers",
            ),
            extra_figures={"latent-2": ("encoder-decoder",)},
            samplers=SAMPLERS,
            notes=(
                "grey-level pixels under the Bernoulli likelihood: the course's BCE, not a "
                "likelihood of images, so no bits/dim",
            ),
        ),
        Recipe(
            name="baseline-vs-deep",
            handouts=("ffn-vae-lab",),
            question="a Gaussian VAE (fixed σ) with no hidden layer against a deeper MLP with "
            "the same latent size: parameters, test ELBO, IWAE k=1000, time, samples",
            dataset=DIGITS,
            epochs={"mnist": 20, "mnist-5k": 100},
            runs={
                "baseline": GAUSSIAN_MLP | {"hidden": ()},
                "deep": GAUSSIAN_MLP | {"hidden": (512, 256)},
            },
            figures=("elbo-curves", "loss-terms", "reconstructions", "samples", *LATENT_FIGURES),
            k=1000,
            compare=True,
        ),
        Recipe(
            name="sigma-sweep",
            handouts=("conv-vae-exercise", "latent-space-problem-set"),
            question="the Gaussian likelihood's fixed σ in {0.05, 0.1, 0.2, 0.3} on "
            "dequantized digits, the gaussian-digits architecture: bits/dim, KL, active "
            "units, recognisable share and Fréchet distance side by side, with the samples; "
            "σ as the KL weight of (3.5)",
            dataset=DIGITS,
            epochs={"mnist": 10, "mnist-5k": 60},
            runs={f"sigma-{sigma}": GAUSSIAN_CONV | {"sigma": sigma} for sigma in SIGMAS},
            figures=("samples", "kl-per-dimension"),
            compare=True,
        ),
        Recipe(
            name="grey-likelihoods",
            handouts=("latent-space-problem-set",),
            question="the same MLP (784-400-20) on Fashion-MNIST's grey levels, trained on the "
            "summed BCE (a Bernoulli of grey levels, no likelihood), on the continuous "
            "Bernoulli (its normalised form, a density in nats), on the discretised logistic "
            "(a probability of the 8-bit images, in bits/dim) and, for that comparison, a "
            "Gaussian of σ = 0.1 on dequantized pixels: test bounds, samples, reconstructions",
            dataset="fashion-mnist",
            epochs={"fashion-mnist": 10},
            runs={
                "bernoulli": {"model": "mlp", "pixels": "grey", "likelihood": "bernoulli"},
                "continuous-bernoulli": {
                    "model": "mlp",
                    "pixels": "grey",
                    "likelihood": "continuous-bernoulli",
                },
                "discretized-logistic": {
                    "model": "mlp",
                    "pixels": "grey",
                    "likelihood": "discretized-logistic",
                },
                "gaussian": {
                    "model": "mlp",
                    "pixels": "dequantized",
                    "likelihood": "gaussian",
                    "sigma": 0.1,
                },
            },
            figures=("elbo-curves", "reconstructions", "samples"),
        ),
        Recipe(
            name="collapse",
            handouts=(),
            question="a conv VAE with the discretised logistic on the digits' 8-bit values, "
            "whose decoder explains the pixels without z at first: trained on the ELBO its "
            "code stays collapsed for epochs (active units, KL per dimension and I_q(n; z) "
            "after every epoch); the same model with KL warm-up, with free bits, and "
            "trained on IWAE_5",
            dataset=DIGITS,
            epochs={"mnist": 12, "mnist-5k": 12},
            runs={
                "elbo": COLLAPSE,
                "warm-up": COLLAPSE | {"warmup": 6},
                "free-bits": COLLAPSE | {"free_bits": 0.25},
                "iwae": COLLAPSE | {"objective": "iwae", "k": 5},
            },
            figures=("latent-curves", "samples", "kl-per-dimension"),
            compare=True,
            track_latent=True,
        ),
        Recipe(
            name="best-fashion",
            handouts=(),
            question="Fashion-MNIST, dynamically binarized, the test log-likelihood by IWAE_1000 "
            "over the 10,000 test images: the PyTorch example's MLP (784-400-20, 30 epochs) "
            "against the package's best recipe for these 2-core machines, trained in at most "
            "45 minutes: a deeper, wider MLP (784-512-512-32) trained on IWAE_5 with the "
            "cosine step size for 220 epochs; and what each ingredient adds at 30 epochs",
            dataset="fashion-mnist",
            epochs={"fashion-mnist": 30},
            runs={
                "reference": {"model": "mlp", "hidden": (400,), "latent_dim": 20},
                # what each ingredient adds, one at a time, at the reference's 30 epochs
                "wide": WIDE,
                "wide-iwae": WIDE | {"objective": "iwae", "k": 5},
                "wide-iwae-cosine": WIDE | {"objective": "iwae", "k": 5, "lr_schedule": "cosine"},
                "best": WIDE
                | {"objective": "iwae", "k": 5, "lr_schedule": "cosine", "epochs": 220},
            },
            figures=("elbo-curves", "reconstructions", "samples"),
            k=1000,
        ),
        Recipe(
            name="best-mnist",
            handouts=(),
            question="the field's MNIST benchmark: dynamically binarized digits, the test "
            "log-likelihood by IWAE_5000 over the 10,000 test images (Burda et al. 2015): the "
            "PyTorch example's MLP (784-400-20, 30 epochs) against the package's best recipe "
            "for these 2-core machines, trained in at most 60 minutes: the 2x300 MLP with a "
            "40-D code of the published anchors, whose Bernoulli pixels also take the 280 "
            "pixels before them through a MADE (3.14), the cosine step size, KL warm-up; and "
            "what each ingredient adds at 30 epochs",
            dataset="mnist",
            epochs={"mnist": 30},
            runs={
                "reference": {"model": "mlp", "hidden": (400,), "latent_dim": 20},
                "mlp-300": BENCHMARK_MLP,
                "autoregressive": BENCHMARK_MLP | PIXEL_CONTEXT,
                "best": BENCHMARK_MLP
                | PIXEL_CONTEXT
                | {"lr": 2e-3, "lr_schedule": "cosine", "warmup": 20, "epochs": 310},
            },
            figures=("elbo-curves", "reconstructions", "samples"),
            k=5000,
            # IWAE_5000 over 10,000 images is about 25 minutes of these CPUs a model: the
            # benchmark's run gets it, the steps towards it IWAE_1000 (within 0.3 nats)
            k_by_run={"reference": 1000, "mlp-300": 1000, "autoregressive": 1000},
            samples=None,
        ),
        Recipe(
            name="emoji",
            handouts=(),
            question="a conv VAE on a folder of real RGB images: the colour emoji of Debian's "
            "Noto font, drawn as PNG files, imported at 32x32 (transparency over black), a "
            "Gaussian likelihood on dequantized pixels: test ELBO and bits/dim, reconstructions, "
            "samples; no labels, so no judge",
            dataset=EMOJI,
            epochs={EMOJI: 150},
            runs={
                "conv-gaussian": CONV
                | {
                    "likelihood": "gaussian",
                    "pixels": "dequantized",
                    "sigma": 0.1,
                    "latent_dim": 32,
                }
            },
            figures=(
                "elbo-curves",
                "loss-terms",
                "reconstructions",
                "samples",
                "interpolations",
                "kl-per-dimension",
            ),
            samples=None,
        ),
        Recipe(
            name="conditional",
            handouts=("vae-homework",),
            question="a conditional conv VAE q(z|x,c), p(x|z,c), c in 0..9, with a 2-D code "
            "for the style: samples of every class from the same z, judged",
            dataset=DIGITS,
            epochs={"mnist": 10, "mnist-5k": 100},
            runs={"conv-cvae": CONV | {"model": "conv-cvae", "latent_dim": 2}},
            figures=(
                "elbo-curves",
                "loss-terms",
                "reconstructions",
                "samples",
                "class-grid",
                *LATENT_FIGURES,
            ),
            samplers=SAMPLERS,
        ),
    )
}


def configs(
    recipe: Recipe, dataset: str, epochs: int | None = None, device: str = "auto"
) -> dict[str, TrainConfig]:
    """The recipe's runs on ``dataset``: each trains the recipe's epochs for the dataset
    unless its fields give its own; ``epochs`` (``vae experiment --epochs``) overrides both."""
    forced = {"epochs": epochs} if epochs is not None else {}
    return {
        name: TrainConfig.from_flags(
            **{"epochs": recipe.epochs[dataset]} | fields | forced, dataset=dataset, device=device
        )
        for name, fields in recipe.runs.items()
    }


def flag_value(value) -> str:
    """A config value as ``vae train`` takes it: (512, 256) -> 512,256; () -> none;
    300.0 -> 300."""
    if isinstance(value, tuple):
        return ",".join(map(str, value)) or "none"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def asked_by(recipe: Recipe) -> str:
    """Which handouts the recipe answers, by name; the package's own recipes say so."""
    names = [handout(key).name for key in recipe.handouts]
    return " and ".join(names) if names else "beyond the handouts"


def describe(recipe: Recipe) -> str:
    """The recipe in a few lines: its question, datasets, epochs and run configs."""
    lines = [f"{recipe.name} ({asked_by(recipe)}): {recipe.question}"]
    epochs = ", ".join(f"{n} on {d}" for d, n in recipe.epochs.items())
    own = "".join(f", {k} for {run}" for run, k in recipe.k_by_run.items())
    lines.append(f"  epochs: {epochs}; IWAE k={recipe.k}{own}")
    for name, fields in recipe.runs.items():
        flags = " ".join(f"--{k.replace('_', '-')} {flag_value(v)}" for k, v in fields.items())
        lines.append(f"  {name}: vae train {flags}")
    return "\n".join(lines)
