#!/usr/bin/env bash
# Install the MAGeCK2 peer for benchmarks/bench_screens.py: the Python package from the
# package index (the `bench` extra) and its compiled RRA helper, built from the sdist's
# C++ sources with the system compiler, into the virtual environment's bin folder.
# Usage: scripts/install_mageck2.sh [VENV]   (default .venv)
set -euo pipefail
venv="${1:-.venv}"
"$venv/bin/python" -m pip install -q "mageck2==0.3.0"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$venv/bin/python" -m pip download -q --no-deps --no-binary :all: "mageck2==0.3.0" -d "$work"
tar xzf "$work"/mageck2-0.3.0.tar.gz -C "$work"
make -s -C "$work/mageck2-0.3.0/rra" >/dev/null 2>&1
install -m 0755 "$work/mageck2-0.3.0/rra/bin/RRA" "$venv/bin/RRA"
echo "mageck2 and RRA installed in $venv/bin"
