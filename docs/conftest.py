"""Every Python code block of the lecture notes runs in the test suite (Sybil).

A ``python`` block runs as it is; one with ``>>>`` prompts is a doctest whose printed
output must match. Blocks of one page share a namespace, top to bottom, in a fresh
temporary working directory (so a block may write files).
"""

import os
import tempfile

from sybil import Sybil
from sybil.parsers.myst import PythonCodeBlockParser, SkipParser


def setup(namespace):
    namespace["_cwd"] = os.getcwd()
    namespace["_tmp"] = tempfile.TemporaryDirectory(prefix="docs-")
    os.chdir(namespace["_tmp"].name)


def teardown(namespace):
    os.chdir(namespace["_cwd"])
    namespace["_tmp"].cleanup()


pytest_collect_file = Sybil(
    parsers=[PythonCodeBlockParser(), SkipParser()],
    patterns=["*.md"],
    excludes=["README.md"],
    setup=setup,
    teardown=teardown,
).pytest()
