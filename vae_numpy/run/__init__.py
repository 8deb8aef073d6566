"""What both backends share about a training run (DESIGN.md).

- ``config``: ``TrainConfig``, what defines a run, and ``Options``, how a command runs;
- ``folder``: ``RunFolder``, the only code that knows a run folder's file names;
- ``records``: the bound (ELBO and its parts), the epoch record, the random streams;
- ``errors``: the errors a user can fix; ``io``: files written atomically.

Import from the modules; this file imports nothing, so any of them can be used
without the others.
"""
