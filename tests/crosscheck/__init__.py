"""Cross-checks: elbo_math, vae_numpy, vae_torch and outside references agree."""
