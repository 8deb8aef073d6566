"""Errors that a user can fix.

The CLI prints the message of a ``VaeError`` as one line and exits non-zero; any
other exception is a bug in the package. Messages say what is wrong and how to
fix it.
"""


class VaeError(Exception):
    """A problem with the user's input, data or environment, not with the code."""


class DataError(VaeError):
    """A dataset is missing, corrupt, or does not match its published checksum."""


class TrainingDiverged(VaeError):
    """The loss or the parameters stopped being finite; the message says where."""


def one_line(text: str) -> str:
    """``text`` with every character that is not printable written as ``repr`` writes it
    (a newline as \\n, a tab as \\t, an undecodable byte of a file name as \\udcff), so a
    message that names a file stays one line whatever the file is called."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
