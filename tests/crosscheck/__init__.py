"""Cross-checks: elbo_math, vae_numpy, vae_torch and outside references agree.

Run them alone with ``.venv/bin/pytest tests/crosscheck``. By property:

1. numpy and torch, same weights, data and ε, float64: same loss, parts, gradients,
   importance weights                                        test_numpy_vs_torch.py
2. both backends equal elbo_math's verified closed forms      test_closed_forms.py
3. both equal torch.distributions, scipy.stats, torch losses  test_external_references.py
4. Monte Carlo KL -> closed form; samples' moments            test_monte_carlo.py
5. the linear Gaussian model's exact answers (2.1, 8.2-8.5)   test_linear_gaussian.py
6. logits to ±100, log σ² to ±30 stay finite                  test_closed_forms.py,
                                                              test_numpy_vs_torch.py
7. sum/mean conventions; dataset ELBO vs batch size           test_conventions.py
8. numpy -> torch -> numpy is the identity                    test_numpy_vs_torch.py

Each file ends with tests that break one formula (std = exp(log σ²), a dropped
constant, a KL without its −1, sigmoid-then-log) and show its comparison fails.
"""
