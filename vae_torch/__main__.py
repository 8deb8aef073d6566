import sys

from vae_torch.cli import main

sys.exit(main())
