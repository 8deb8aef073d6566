"""The device of the tests that train, evaluate and sample: the CPU, or with
``VAE_TEST_DEVICE=cuda`` the GPU. CI has no GPU; on a machine with one,
``VAE_TEST_DEVICE=cuda bash .ci/test`` runs the same tests through the CUDA path
(``benchmarks/device_session.sh`` does, with the GPU measurements). Tests of what is
CPU-only by design (the ONNX export's onnxruntime check, the judge, gloo's two
processes, bit-identical resumption) keep the CPU."""

import os

DEVICE = os.environ.get("VAE_TEST_DEVICE", "cpu")
