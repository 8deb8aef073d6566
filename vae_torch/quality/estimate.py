"""A measured number with its standard error, the unit every score of the package is
reported in; its JSON is {"value": v, "standard_error": s}."""

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Estimate:
    value: float
    standard_error: float

    @classmethod
    def binomial(cls, share: float, n: int) -> "Estimate":
        """A share of n trials, with the binomial standard error √(s(1 − s)/n)."""
        return cls(share, math.sqrt(max(share * (1 - share), 0) / n))

    @classmethod
    def mean_of(cls, draws) -> "Estimate":
        """The mean of Monte Carlo draws (a 1-D tensor), with its standard error
        s/√M (NaN for a single draw)."""
        m = len(draws)
        se = draws.std().item() / math.sqrt(m) if m > 1 else math.nan
        return cls(draws.mean().item(), se)

    @classmethod
    def of(cls, record: dict) -> "Estimate":
        """The estimate a JSON record holds."""
        return cls(record["value"], record["standard_error"])

    def json(self) -> dict:
        return {"value": self.value, "standard_error": self.standard_error}

    def show(self, digits: int = 3) -> str:
        """ "0.621 ± 0.015"."""
        return f"{self.value:.{digits}f} ± {self.standard_error:.{digits}f}"
