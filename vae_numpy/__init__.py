"""The reference VAE in numpy: every gradient written by hand, and the shared data layer."""
