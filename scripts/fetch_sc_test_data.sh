#!/usr/bin/env bash
# Fetch the single-cell test data that ships inside a published wheel, for the tests of
# oncoresist.singlecell (issue 23). Nothing is imported from the wheel: it is only a carrier.
#
#   .cache/sc/oligodendroglioma.h5ad  infercnvpy 0.6.1's bundled data set (Tirosh et al. 2016,
#                                     Nature 539:309, doi:10.1038/nature20123; 184 cells x 9450
#                                     genes, obs "cell_type", var chromosome/start/end)
#
# Usage: scripts/fetch_sc_test_data.sh [PYTHON]   (PYTHON defaults to .venv/bin/python)
# It does nothing when the file is already there; the tests that need it skip when it is absent.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${1:-.venv/bin/python}"
target=.cache/sc/oligodendroglioma.h5ad
if [ -s "$target" ]; then
    exit 0
fi
mkdir -p .cache/wheels .cache/sc
"$PYTHON" -m pip download --quiet infercnvpy==0.6.1 --no-deps -d .cache/wheels
wheel=$(ls .cache/wheels/infercnvpy-0.6.1-*.whl | head -n 1)
"$PYTHON" - "$wheel" "$target" <<'PY'
import os
import sys
import zipfile

import hashlib

wheel, target = sys.argv[1], sys.argv[2]
member = "infercnvpy/datasets/data/oligodendroglioma.h5ad"
expected = "f1c5bf67613cabc6931b90f4a623bdd5ed7e32f574a98901f3f55b9d80523f5e"  # infercnvpy 0.6.1
with zipfile.ZipFile(wheel) as archive:
    data = archive.read(member)
digest = hashlib.sha256(data).hexdigest()
if digest != expected:
    sys.exit(f"{wheel}: {member} has SHA-256 {digest}; expected {expected}")
partial = target + ".part"
with open(partial, "wb") as handle:
    handle.write(data)
os.replace(partial, target)
print(f"wrote {target} ({len(data):,} bytes) from {os.path.basename(wheel)}")
PY
