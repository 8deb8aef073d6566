"""What both backends share about a training run.

- ``config``: ``TrainConfig``, what defines a run;
- ``options``: ``Options``, how a command runs (data folder, downloads, progress, device);
- ``folder``: ``RunFolder``, the only code that knows a run folder's file names;
- ``records``: the bound (ELBO and its parts), the epoch record, the random streams;
- ``errors``: the errors a user can fix; ``io``: files written atomically;
- ``lazy``: a package's public names loaded on first use (PEP 562), for the packages'
  ``__init__`` files.

Import from the modules; this file imports nothing, so any of them can be used
without the others.
"""
