"""The production VAE in PyTorch, and the ``vae`` command line."""
