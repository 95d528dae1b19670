"""Write the ULM parity fixture with decoupler 2.2.0 (run with the /tmp/scref interpreter).

    /tmp/scref/bin/python tests/singlecell/data/make_ulm_reference.py

Writes ulm_input.csv (cells × genes, log-normalised-like values with zeros), ulm_net.csv (long
network: source, target, weight) and ulm_expected.csv (decoupler.mt.ulm scores, cells ×
sources). Never imported by the tests.
"""

from pathlib import Path

import anndata
import decoupler as dc
import numpy as np
import pandas as pd

here = Path(__file__).parent
rng = np.random.default_rng(23)
n_cells, n_genes = 40, 60
genes = [f"G{i:02d}" for i in range(n_genes)]
values = rng.gamma(1.5, 1.0, size=(n_cells, n_genes))
values[rng.random(values.shape) < 0.4] = 0.0
values[:, 5] = 0.0  # a gene never seen: decoupler drops empty features
frame = pd.DataFrame(values, index=[f"c{i:02d}" for i in range(n_cells)], columns=genes)
net = pd.DataFrame(
    [("A", g, float(w)) for g, w in zip(genes[:15], rng.normal(size=15), strict=True)]
    + [("B", g, 1.0) for g in genes[10:30]]
    + [("C", g, -1.0 if i % 3 else 1.0) for i, g in enumerate(genes[0:60:4])]
    + [("D", g, 1.0) for g in genes[50:53]],  # 3 targets: pruned by tmin=5
    columns=["source", "target", "weight"],
)
adata = anndata.AnnData(frame)
dc.mt.ulm(adata, net, tmin=5)
frame.to_csv(here / "ulm_input.csv", float_format="%.17g")
net.to_csv(here / "ulm_net.csv", index=False, float_format="%.17g")
adata.obsm["score_ulm"].to_csv(here / "ulm_expected.csv", float_format="%.17g")
print(adata.obsm["score_ulm"].head(), dc.__version__)
