"""Every elbo_math check passes, every erratum stays refuted, and a perturbed formula is
reported as a failure (so no check can pass vacuously)."""

import dataclasses
import subprocess
import sys

import pytest
import sympy as sp

from elbo_math import (
    discretized_logistic,
    errata,
    evidence,
    gaussian,
    gradcheck,
    gradients,
    iwae,
    kl,
    layers,
    likelihoods,
    linear_gaussian,
    objectives,
    priors,
    reparam,
    surgery,
)
from elbo_math.__main__ import main
from elbo_math.check import Check, CheckResult, is_zero
from elbo_math.handouts import HANDOUTS
from elbo_math.registry import CHECKS, get_check
from elbo_math.symbols import eps, log_var, logit, mu, mu2, sigma, sigma1, sigma2, x, x_hat

# The lecture notes cite these; renaming one is a deliberate change to this list.
STABLE_IDS = {
    "elbo.evidence_decomposition": "(2.1)",
    "elbo.kl_nonnegative_gaussian": "(2.2)",
    "elbo.kl_nonnegative_jensen": "(2.3)",
    "elbo.lower_bound_tight_iff_posterior": "(2.4)",
    "elbo.reconstruction_minus_kl": "(2.5)",
    "elbo.joint_plus_entropy": "(2.6)",
    "linear_gaussian.posterior": "(1.1)",
    "linear_gaussian.posterior_diagonal_iff_orthogonal": "(2.8)",
    "linear_gaussian.log_evidence": "(1.2)",
    "linear_gaussian.closed_forms": "(2.7)",
    "linear_gaussian.evidence_decomposition": "(2.1)",
    "linear_gaussian.tight_at_posterior": "(2.4)",
    "linear_gaussian.reconstruction_minus_kl": "(2.5)",
    "linear_gaussian.joint_plus_entropy": "(2.6)",
    "likelihood.bernoulli_is_bce": "(3.1)",
    "likelihood.bernoulli_logits": "(3.2)",
    "likelihood.gaussian_is_scaled_sse": "(3.3), (3.4)",
    "likelihood.gaussian_sigma_weights_kl": "(3.5)",
    "likelihood.dequantized_bits_per_dim": "(3.6)",
    "gaussian.log_density": "(4.1)",
    "gaussian.moments": "(4.2)",
    "gaussian.entropy": "(4.3)",
    "kl.univariate_closed_form": "(4.4)",
    "kl.std_normal": "(4.5)",
    "kl.sum_over_dimensions": "(4.6)",
    "kl.log_var_form": "(4.7)",
    "reparam.distribution": "(5.1)",
    "reparam.derivatives": "(5.2)",
    "grad.kl": "(6.1), (6.2)",
    "grad.bernoulli_logits": "(6.3)",
    "grad.gaussian_mean": "(6.4)",
    "grad.through_reparameterization": "(6.5)",
    "layer.linear_backward": "(6.6)",
    "layer.relu_derivative": "(6.7)",
    "layer.tanh_derivative": "(6.8)",
    "layer.sigmoid_derivative": "(6.9)",
    "gradcheck.fourth_order_central_difference": "(6.10)",
    "iwae.logsumexp_form": "(8.1)",
    "iwae.k1_equals_elbo": "(8.2)",
    "iwae.bounded_by_evidence": "(8.3)",
    "iwae.nondecreasing_in_k": "(8.4)",
    "iwae.exact_at_posterior": "(8.5)",
    "surgery.average_kl": "(8.6)",
    "objective.warmup": "(12.1)",
    "objective.free_bits": "(12.2)",
    "objective.mmd": "(12.3)",
    "prior.vamp_log_density": "(13.1)",
    "prior.monte_carlo_kl": "(13.2)",
    "distributed.rank_loss_scaling": "(17.1)",
    "likelihood.continuous_bernoulli": "(3.7)",
    "likelihood.continuous_bernoulli_taylor": "(3.8)",
    "likelihood.continuous_bernoulli_mean": "(3.9)",
    "likelihood.discretized_logistic": "(3.10)",
    "likelihood.discretized_logistic_limit": "(3.11)",
    "likelihood.autoregressive_bernoulli": "(3.14)",
    "likelihood.discretized_logistic_stable": "(3.12)",
    "likelihood.discretized_logistic_mean": "(3.13)",
    "erratum.elbo_bound_direction": "(11.1)",
    "erratum.kl_loss": "(11.2)",
    "erratum.bce_log_of_target": "(11.3)",
    "erratum.conv_flatten_size": "(11.4)",
    "erratum.elbo_missing_log": "(11.5)",
    "erratum.posterior_from_encoder": "(11.6)",
    "erratum.gaussian_nll_scale": "(11.7)",
}

dl_mu, dl_s = discretized_logistic.MU, discretized_logistic.S

IDENTITIES = [c.id for c in CHECKS if c.kind == "identity"]
ERRATA = [c.id for c in CHECKS if c.kind == "erratum"]


def test_check_ids_and_equation_numbers_are_stable():
    assert {c.id: c.equation for c in CHECKS} == STABLE_IDS


def test_each_equation_number_names_one_equation():
    """A number belongs to one check; the linear Gaussian model may re-verify an equation
    of chapter 2 in its closed forms (its checks repeat that equation's number), nothing else."""
    owners: dict[str, list[str]] = {}
    for c in CHECKS:
        for number in c.equation.split(", "):
            owners.setdefault(number, []).append(c.id)
    shared = {
        number: ids
        for number, ids in owners.items()
        if len(ids) > 1 and len([i for i in ids if not i.startswith("linear_gaussian.")]) != 1
    }
    assert shared == {}


def test_every_check_states_its_latex_and_title():
    missing = [c.id for c in CHECKS if not (c.latex.strip() and c.title.strip())]
    assert missing == []


def test_each_seed_error_listed_in_the_readme_has_an_erratum_eq_11():
    assert len(ERRATA) == 7
    names = tuple(h.name for h in HANDOUTS)
    assert all(get_check(i).source.startswith(names) for i in ERRATA)
    assert all(get_check(i).wrong_latex for i in ERRATA)


@pytest.fixture(scope="module")
def table() -> subprocess.CompletedProcess:
    """``python -m elbo_math --details`` as a user runs it: every check, once."""
    return subprocess.run(
        [sys.executable, "-m", "elbo_math", "--details"],
        capture_output=True,
        text=True,
        check=False,
    )


def status_of(table: subprocess.CompletedProcess, check_id: str) -> tuple[str, str]:
    """The status a check's row of the table gives, and what it found (its next line)."""
    lines = table.stdout.splitlines()
    (row,) = [i for i, line in enumerate(lines) if line.split()[:1] == [check_id]]
    words = lines[row].split()
    status = next(w for w in words if w in ("PASS", "FAIL", "REFUTED", "NOT"))
    found = lines[row + 1].strip() if row + 1 < len(lines) else ""
    return ("NOT REFUTED" if status == "NOT" else status), found


@pytest.mark.parametrize("check_id", IDENTITIES)
def test_identity_check_passes(table, check_id):
    status, found = status_of(table, check_id)
    assert status == "PASS", found


@pytest.mark.parametrize("check_id", ERRATA)
def test_course_formula_stays_refuted_eq_11(table, check_id):
    status, found = status_of(table, check_id)
    assert status == "REFUTED", found


def _swap_step(steps, index, new):
    steps = list(steps)
    steps[index] = new
    return tuple(steps)


q, p_joint, p_post, p_lik, p_prior = (
    evidence.q,
    evidence.p_joint,
    evidence.p_post,
    evidence.p_lik,
    evidence.p_prior,
)


def _wrong_closed_forms(field: str, factor):
    def claimed(inst):
        forms = linear_gaussian.closed_forms(inst)
        return dataclasses.replace(forms, **{field: factor(getattr(forms, field))})

    return claimed


def _v_statistic(xs, ys):
    """(12.3)'s estimator with the diagonal k(x_i, x_i) kept: biased."""
    k = objectives.KERNEL
    return (
        sum(k[u, v] for u in xs for v in xs) / len(xs) ** 2
        + sum(k[u, v] for u in ys for v in ys) / len(ys) ** 2
        - 2 * sum(k[u, v] for u in xs for v in ys) / (len(xs) * len(ys))
    )


# Each builds a check (or runs a verifier) on a formula with one deliberate mistake.
PERTURBED = {
    "eq_2_1_step_flips_a_ratio": lambda: evidence.decomposition_check(
        _swap_step(
            evidence.DECOMPOSITION_STEPS,
            2,
            evidence.expect(sp.log(sp.Mul(p_joint / q, p_post / q, evaluate=False))),
        )
    ).verify(),
    "eq_2_1_final_sign": lambda: evidence.decomposition_check(
        _swap_step(
            evidence.DECOMPOSITION_STEPS,
            3,
            evidence.expect(sp.log(p_joint / q)) - evidence.expect(sp.log(q / p_post)),
        )
    ).verify(),
    "eq_2_2_split_missing_half": lambda: evidence.verify_kl_nonnegative_gaussian(
        sigma1**2 / sigma2**2 - 1 - sp.log(sigma1**2 / sigma2**2)
    ),
    "eq_2_5_kl_sign": lambda: evidence.reconstruction_check(
        _swap_step(
            evidence.RECONSTRUCTION_STEPS,
            2,
            evidence.expect(sp.log(p_lik)) + evidence.expect(sp.log(q / p_prior)),
        )
    ).verify(),
    "eq_2_6_missing_log": lambda: evidence.entropy_form_check(
        _swap_step(evidence.ENTROPY_STEPS, 1, evidence.expect(p_joint) + evidence.ENTROPY)
    ).verify(),
    "eq_2_7_posterior_cov_doubled": lambda: linear_gaussian.posterior_check(
        _wrong_closed_forms("posterior_cov", lambda c: 2 * c)
    ).verify(),
    "eq_2_9_off_by_one_nat": lambda: linear_gaussian.log_evidence_check(
        _wrong_closed_forms("log_evidence", lambda e: e + 1)
    ).verify(),
    "eq_2_10_kl_prior_halved": lambda: linear_gaussian.closed_forms_check(
        _wrong_closed_forms("kl_prior", lambda e: e / 2)
    ).verify(),
    "eq_3_1_bce_halved": lambda: likelihoods.bernoulli_bce_check(likelihoods.BCE_SUM / 2).verify(),
    "eq_3_2_softplus_sign": lambda: likelihoods.bernoulli_logits_check(
        x * logit - likelihoods.softplus(-logit)
    ).verify(),
    "eq_3_4_scale_dropped": lambda: likelihoods.gaussian_sse_check(
        likelihoods.SQUARED_ERROR + likelihoods.D * sp.log(2 * sp.pi * sigma**2) / 2
    ).verify(),
    "eq_3_5_beta_is_sigma_squared": lambda: likelihoods.kl_weight_check(sigma**2).verify(),
    "eq_3_6_bits_minus_eight": lambda: likelihoods.bits_per_dim_check(
        likelihoods.BITS_PER_DIM_DEQUANTIZED - 16
    ).verify(),
    "eq_3_6_natural_log": lambda: likelihoods.bits_per_dim_check(
        likelihoods.nats / likelihoods.D + 8
    ).verify(),
    "eq_3_12_expm1_factor_dropped": lambda: discretized_logistic.verify_stable(
        lambda a, b: discretized_logistic.sigmoid(a) * discretized_logistic.sigmoid(-b)
    ),
    "eq_3_13_tail_below_not_above": lambda: discretized_logistic.verify_mean(
        lambda t: discretized_logistic.sigmoid(
            (t - discretized_logistic.MU) / discretized_logistic.S
        )
    ),
    "eq_4_2_log_density_doubled": lambda: gaussian.density_check(
        2 * gaussian.LOG_DENSITY_LOG_VAR
    ).verify(),
    "eq_4_3_entropy_without_e": lambda: gaussian.entropy_check(
        gaussian.ENTROPY_LOG_VAR - sp.Rational(1, 2)
    ).verify(),
    "eq_4_4_sigma2_not_squared": lambda: kl.univariate_check(
        kl.KL_UNIVARIATE.subs(sigma2**2, sigma2)
    ).verify(),
    "eq_4_5_handout_kl": lambda: kl.std_normal_check(errata.HANDOUT_KL).verify(),
    "eq_4_6_twice_per_dimension": lambda: kl.sum_check(2 * kl.KL_UNIVARIATE).verify(),
    "eq_4_7_log_var_dropped": lambda: kl.log_var_check(
        kl.KL_LOG_VAR, (mu**2 + sp.exp(log_var) - 1) / 2
    ).verify(),
    "eq_5_1_variance_as_std": lambda: reparam.distribution_check(
        mu + sp.exp(log_var) * eps
    ).verify(),
    "eq_5_2_half_dropped": lambda: reparam.derivatives_check(1, sp.exp(log_var / 2) * eps).verify(),
    "eq_6_2_minus_one_dropped": lambda: gradients.kl_check(mu, sp.exp(log_var) / 2).verify(),
    "eq_6_3_sign": lambda: gradients.bernoulli_check(likelihoods.sigmoid(logit) - x).verify(),
    "eq_6_4_sigma_not_squared": lambda: gradients.gaussian_check((x - x_hat) / sigma).verify(),
    "eq_6_5_std_for_var": lambda: gradients.chain_check(
        gradients.g, gradients.g * sp.exp(log_var) * eps / 2
    ).verify(),
    "eq_6_6_bias_gradient_averaged_not_summed": lambda: layers.linear_check(
        layers.DL_DX, layers.DL_DW, sp.OneMatrix(1, layers.batch) * layers.G / layers.batch
    ).verify(),
    "eq_6_6_weight_gradient_in_torch_layout": lambda: layers.linear_check(
        layers.DL_DX, layers.G.T * layers.X, layers.DL_DB
    ).verify(),
    "eq_6_7_half_at_the_kink": lambda: layers.relu_check(sp.Heaviside(layers.t)).verify(),
    "eq_6_8_tanh_squared_dropped": lambda: layers.tanh_check(1 - layers.y).verify(),
    "eq_6_9_sigmoid_derivative_sign": lambda: layers.sigmoid_check(
        layers.y * (layers.y - 1)
    ).verify(),
    "eq_6_9_softplus_without_abs": lambda: layers.sigmoid_check(
        layers.DSIGMOID,
        layers.SIGMOID_STABLE,
        sp.Max(layers.t, 0) + sp.log(1 + sp.exp(-layers.t)),
    ).verify(),
    "eq_6_10_error_sixtieth": lambda: gradcheck.central_difference_check(
        claimed_four_point_error=-(gradcheck.h**4) * gradcheck.derivative(5) / 60
    ).verify(),
    "eq_6_10_stencil_weight_seven": lambda: gradcheck.central_difference_check(
        claimed_four_point=gradcheck.FOUR_POINT.subs(8, 7)
    ).verify(),
    "eq_6_10_two_point_is_second_order": lambda: gradcheck.central_difference_check(
        claimed_two_point_error=gradcheck.h * gradcheck.derivative(2)
    ).verify(),
    "eq_8_1_log_k_dropped": lambda: iwae.verify_logsumexp(
        lambda a, m: m + sp.log(sum(sp.exp(ai - m) for ai in a))
    ),
    "eq_8_4_mean_of_the_logs": lambda: iwae.verify_nondecreasing(lambda a: a.mean(axis=0)),
    "eq_8_6_information_dropped": lambda: surgery.verify_surgery(surgery.MARGINAL_KL),
    "eq_8_6_marginal_dropped": lambda: surgery.verify_surgery(surgery.MUTUAL_INFORMATION),
    "eq_8_6_information_to_the_prior": lambda: surgery.verify_surgery(
        sum(surgery.kl(q, surgery.P) for q in surgery.Q[:1]) + surgery.MARGINAL_KL
    ),
    "eq_12_3_diagonal_kept": lambda: objectives.verify_mmd(_v_statistic),
    "eq_12_3_cross_term_once": lambda: objectives.verify_mmd(
        lambda xs, ys: (
            objectives.mmd_u_statistic(xs, ys)
            + sum(objectives.KERNEL[u, v] for u in xs for v in ys) / (len(xs) * len(ys))
        )
    ),
    "eq_13_1_log_sum_exp_without_log_k": lambda: priors.verify_mixture(
        lse=lambda a, m: m + sp.log(sum(sp.exp(ak - m) for ak in a))
    ),
    "eq_13_1_squares_without_weights": lambda: priors.verify_mixture(
        squares=lambda zs, ms, ws: sum((a - b) ** 2 for a, b in zip(zs, ms, strict=True))
    ),
    "eq_13_2_prior_term_sign": lambda: priors.verify_mc_kl(
        lambda m_u, s_u: (
            priors.log_density(priors.z, mu, sigma) + priors.log_density(priors.z, m_u, s_u)
        )
    ),
    "eq_11_1_correct_direction": lambda: errata.verify_direction(lambda e, lp: sp.Le(e, lp)),
    "eq_11_2_correct_kl": lambda: errata.verify_kl_loss(kl.KL_STD_NORMAL),
    "eq_11_3_correct_bce": lambda: errata.verify_bce(errata.CORRECT_BCE),
    "eq_11_4_correct_size": lambda: errata.verify_flat_size(
        lambda c, d, k: c * (d - 2 * (k - 1)) ** 2
    ),
    "eq_11_5_with_the_log": lambda: errata.verify_missing_log(lambda log_joint: log_joint),
    "eq_11_6_encoder_wiring": lambda: errata.verify_encoder_outputs(errata.CORRECT_WIRING),
    "eq_11_7_scaled_nll": lambda: errata.verify_gaussian_nll(
        lambda data, means, c: (
            sum((a - m) ** 2 for a, m in zip(data, means, strict=True)) / (2 * sigma**2) + c
        )
    ),
}


@pytest.mark.parametrize("name", sorted(PERTURBED))
def test_perturbed_formula_is_reported_as_fail(name):
    result = PERTURBED[name]()
    assert isinstance(result, CheckResult)
    assert not result.passed, result.detail


def test_a_check_that_raises_is_a_fail_not_a_crash():
    def broken() -> CheckResult:
        raise ZeroDivisionError("boom")

    result = Check("test.broken", "broken", "(0.0)", "0", broken).verify()
    assert not result.passed
    assert "ZeroDivisionError" in result.detail


def test_is_zero_is_one_sided():
    assert is_zero(sp.log(2 * sigma) - sp.log(2) - sp.log(sigma))
    assert not is_zero(sp.log(2) - sp.Rational(69, 100))
    assert not is_zero(mu - mu2)


def test_main_exits_1_when_a_check_fails(monkeypatch, capsys):
    from elbo_math import registry

    failing = Check("test.fails", "always fails", "(0.0)", "0", lambda: CheckResult(False, "no"))
    monkeypatch.setattr(registry, "CHECKS", (failing,))
    assert main([]) == 1
    assert "FAIL" in capsys.readouterr().out


def test_main_rejects_an_unknown_id(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--only", "no.such.check"])
    assert exit_info.value.code == 2
    assert "no.such.check" in capsys.readouterr().err


def test_main_only_with_latex_prints_the_statement(capsys):
    assert main(["--only", "kl.std_normal", "--latex"]) == 0
    out = capsys.readouterr().out
    assert r"\mathrm{KL}" in out and "PASS" in out


def test_python_m_elbo_math_lists_every_check_and_exits_0(table):
    assert table.returncode == 0, table.stdout + table.stderr
    for check in CHECKS:
        assert check.id in table.stdout
    assert table.stdout.count("REFUTED") == len(ERRATA)
    assert "FAIL" not in table.stdout and "NOT REFUTED" not in table.stdout
    assert f"{len(CHECKS)} checks: {len(CHECKS)} passed, 0 failed" in table.stdout
