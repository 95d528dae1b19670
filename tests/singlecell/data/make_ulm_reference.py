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

# Second fixture: the real panobinostat file (shared data), counts normalised by scanpy
# (normalize_total 1e4, log1p), Hallmark v7.0 sets as vendored by oncoresist, decoupler ULM;
# the first 100 cells are kept (ulm_zhao_hallmark_expected.csv).
zhao = Path("/work/shared/data/singlecell/zhao2021_gbm_panobinostat_5000x300.h5ad")
if zhao.exists():
    import gzip

    import scanpy as sc

    cells = anndata.read_h5ad(zhao)
    cells.var_names = cells.var["symbol"].astype(str).to_numpy()
    cells.var_names_make_unique()
    cells.X = cells.layers["counts"].astype(float)
    sc.pp.normalize_total(cells, target_sum=1e4)
    sc.pp.log1p(cells)
    gmt = here.parents[2] / "src/oncoresist/singlecell/data/hallmark/h.all.v7.0.symbols.gmt.gz"
    rows = []
    for line in gzip.decompress(gmt.read_bytes()).decode().splitlines():
        name, _, *genes = line.split("\t")
        rows += [(name.removeprefix("HALLMARK_"), g, 1.0) for g in dict.fromkeys(genes) if g]
    hallmark = pd.DataFrame(rows, columns=["source", "target", "weight"])
    dc.mt.ulm(cells, hallmark, tmin=5)
    cells.obsm["score_ulm"].iloc[:100].to_csv(
        here / "ulm_zhao_hallmark_expected.csv", float_format="%.17g"
    )
