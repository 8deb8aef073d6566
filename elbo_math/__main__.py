"""``python -m elbo_math``: run every check and print a table; exit 0 only if all pass.

python -m elbo_math                  # the table
python -m elbo_math --latex          # with each statement's LaTeX
python -m elbo_math --details        # with what each verification found
python -m elbo_math --only kl.std_normal --only erratum.kl_loss
"""

import argparse
import sys
import time

from elbo_math.check import Check, CheckResult


def _status(check: Check, result: CheckResult) -> str:
    if check.kind == "erratum":
        return "REFUTED" if result.passed else "NOT REFUTED"
    return "PASS" if result.passed else "FAIL"


def _row(check: Check, result: CheckResult, seconds: float) -> str:
    return (
        f"{check.id:<52} {check.equation:<13} {_status(check, result):<11} "
        f"{seconds:6.2f}s  {check.title}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m elbo_math", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--latex", action="store_true", help="print each statement's LaTeX")
    parser.add_argument("--details", action="store_true", help="print what each check found")
    parser.add_argument("--only", action="append", metavar="ID", help="run only this check")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    from elbo_math.registry import CHECKS, get_check

    try:
        checks = [get_check(i) for i in args.only] if args.only else list(CHECKS)
    except KeyError as error:
        parser.error(str(error.args[0]))
    print(f"{'check':<52} {'equation':<13} {'status':<11} {'time':>7}  title")
    failed = 0
    refuted = 0
    for i, check in enumerate(checks):
        if check.kind == "erratum" and (i == 0 or checks[i - 1].kind != "erratum"):
            print("\nFormulas from the course handouts that are wrong:")
        tick = time.perf_counter()
        result = check.verify()
        print(_row(check, result, time.perf_counter() - tick))
        failed += not result.passed
        refuted += check.kind == "erratum" and result.passed
        if check.kind == "erratum" and args.latex:
            print(f"    {check.source}: {check.wrong_latex}")
            print(f"    correct: {check.latex}")
        elif args.latex:
            print("    " + check.latex.replace("\n", "\n    "))
        if check.kind == "erratum" or args.details or not result.passed:
            print(f"    found: {result.detail}")
    total = time.perf_counter() - start
    print(
        f"\n{len(checks)} checks: {len(checks) - failed} passed, {failed} failed "
        f"({refuted} course formulas refuted) in {total:.1f}s"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
