"""Compare every number of two trees of experiment results, ignoring times, paths,
statuses and tables: `python .ci/compare_metrics.py docs/figures runs/experiments-STAMP
gaussian-digits baseline-vs-deep ...` prints, per experiment, how many numbers differ and
the first differences. For checking that a change left every experiment's metrics.json
as it was (run the old and the new code on the same machine: float32 kernels differ
between CPUs)."""

import json
import math
import sys
from pathlib import Path

IGNORE = {
    "folder",
    "path",
    "status",
    "evaluation",
    "evaluation_reused",
    "files",
    "run",
    "trained_on",
    "device",
    "figures",
    "table",
}


def differences(a, b, where: str, out: list[str]) -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in a.keys() & b.keys():
            if key not in IGNORE and "seconds" not in key:
                differences(a[key], b[key], f"{where}.{key}", out)
        for key in sorted(a.keys() ^ b.keys()):
            if key not in IGNORE and "seconds" not in key:
                out.append(f"KEY {where}.{key} only in the {'first' if key in a else 'second'}")
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            out.append(f"LEN {where}: {len(a)} vs {len(b)}")
            return
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            differences(x, y, f"{where}[{i}]", out)
    elif isinstance(a, float) or isinstance(b, float):
        both_nan = all(isinstance(v, float) and math.isnan(v) for v in (a, b))
        if a != b and not both_nan:
            out.append(f"NUM {where}: {a} vs {b}")
    elif a != b:
        out.append(f"VAL {where}: {str(a)[:80]} vs {str(b)[:80]}")


def main(first: Path, second: Path, names: list[str]) -> int:
    failed = 0
    for name in names:
        out: list[str] = []
        differences(
            json.loads((first / name / "metrics.json").read_text()),
            json.loads((second / name / "metrics.json").read_text()),
            name,
            out,
        )
        numbers = sum(line.startswith("NUM") for line in out)
        print(f"{name}: {numbers} numbers differ, {len(out) - numbers} other differences")
        for line in out[:15]:
            print("   ", line)
        failed += bool(out)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3:]))
