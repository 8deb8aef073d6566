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
