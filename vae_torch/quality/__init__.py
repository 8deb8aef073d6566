"""Measuring a trained model, each measurement with its standard error (chapter 8).

    bounds       the ELBO with its parts and IWAE_k over a dataset
    diagnostics  the latent code: KL per dimension, active units, the ELBO surgery (8.6)
    judge        the classifier each labelled dataset has, trained once and cached
    samples      the samples' scores by the judge: recognisable share, class coverage,
                 judge score, Fréchet distance, precision and recall

``vae_torch.evaluation`` (``vae evaluate``) runs them on a run and writes the record.
"""
