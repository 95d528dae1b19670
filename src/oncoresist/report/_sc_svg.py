"""Figures of the single-cell page: embeddings, programme distributions, DA, copy number.

Every figure is drawn with the shared figure layer (:mod:`oncoresist.figures`) and its size
is bounded whatever the number of cells: embeddings are binned onto a grid of squares (each
square shows its cells' mean score or their most frequent condition), the DA plot merges
neighbourhoods that fall on the same pixels, and the copy-number heat map shows at most
``max_rows`` cells (sampled evenly within each clone) and ``max_columns`` genomic bins, with
runs of equal colour merged into one rectangle.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from oncoresist import figures as fg

__all__ = [
    "cnv_heatmap_svg",
    "da_svg",
    "embedding_condition_svg",
    "embedding_score_svg",
    "programme_box_svg",
]

WIDTH = 1000
#: a perceptually ordered sequential scale (viridis anchors, van der Walt & Smith 2015)
SEQUENTIAL = ("#440154", "#3b528b", "#21918c", "#5ec962", "#fde725")
#: a diverging scale for copy number: loss blue, neutral white, gain red (Okabe-Ito ends)
DIVERGING = ("#0072B2", "#ffffff", "#D55E00")
UP, DOWN, GREY = "#D55E00", "#0072B2", "#9a9a9a"


def _hex(rgb: np.ndarray) -> list[str]:
    return ["#{:02x}{:02x}{:02x}".format(*row) for row in np.clip(np.rint(rgb), 0, 255).astype(int)]


def ramp(values: np.ndarray, anchors: Sequence[str]) -> list[str]:
    """Colours for ``values`` in [0, 1] interpolated between ``anchors`` (hex)."""
    stops = np.array([[int(a[i : i + 2], 16) for i in (1, 3, 5)] for a in anchors], dtype=float)
    t = np.clip(np.nan_to_num(np.asarray(values, dtype=float)), 0, 1) * (len(anchors) - 1)
    lo = np.minimum(np.floor(t).astype(int), len(anchors) - 2)
    frac = (t - lo)[:, None]
    return _hex(stops[lo] * (1 - frac) + stops[lo + 1] * frac)


def colour_bar(
    lo: float, hi: float, anchors: Sequence[str], *, x: float, y: float, label: str
) -> list[str]:
    """A horizontal colour bar (24 steps) with its end and middle values and a label."""
    steps = 24
    colours = ramp(np.linspace(0, 1, steps), anchors)
    width = 240 / steps
    parts = [fg.text(x, y - 8, label, font_size=14)]
    parts += [fg.el("rect", x=x + i * width, y=y, width=width + 0.5, height=14, fill=c)
              for i, c in enumerate(colours)]  # fmt: skip
    for value, at in ((lo, 0.0), ((lo + hi) / 2, 0.5), (hi, 1.0)):
        parts.append(fg.text(x + 240 * at, y + 32, f"{value:.3g}".replace("-", "\u2212"),
                             font_size=13, text_anchor="middle"))  # fmt: skip
    return [fg.el("g", "".join(parts), class_="colour-bar")]


def _bins(xy: np.ndarray, box: tuple[float, float, float, float], cell: float):
    """Pixel squares of ``cell`` px for 2-D points: (square id per point, x and y scales)."""
    left, right, top, bottom = box
    finite = np.isfinite(xy).all(axis=1)
    lo, hi = xy[finite].min(axis=0), xy[finite].max(axis=0)
    pad = (hi - lo) * 0.03 + 1e-9
    xs = fg.LinearScale((lo[0] - pad[0], hi[0] + pad[0]), (left, right))
    ys = fg.LinearScale((lo[1] - pad[1], hi[1] + pad[1]), (bottom, top))
    px = np.floor((xs(xy[:, 0]) - left) / cell).astype(int)
    py = np.floor((ys(xy[:, 1]) - top) / cell).astype(int)
    ncol = int(np.ceil((right - left) / cell)) + 1
    ids = np.where(finite, py * ncol + px, -1)
    return ids, ncol


def _square(ident: int, ncol: int, cell: float, left: float, top: float) -> tuple[float, float]:
    return left + (ident % ncol) * cell, top + (ident // ncol) * cell


def _embedding_frame(basis: str, n_cells: int, n_squares: int, cell: float) -> str:
    return (f"Cells on the {basis} embedding, binned into {cell:g}-pixel squares "
            f"({n_cells:,} cells in {n_squares:,} squares)")  # fmt: skip


EMBED_BOX = (70.0, 690.0, 30.0, 650.0)  # left, right, top, bottom (px)


def _embedding_frame_marks(basis: str) -> list[str]:
    """The embedding's frame and its two axis names (embeddings have no meaningful ticks)."""
    left, right, top, bottom = EMBED_BOX
    middle = (top + bottom) / 2
    return [fg.el("rect", x=left, y=top, width=right - left, height=bottom - top,
                  fill="none", stroke=fg.GRID),
            fg.text((left + right) / 2, bottom + 40, f"{basis} 1", text_anchor="middle"),
            fg.text(24, middle, f"{basis} 2", text_anchor="middle",
                    transform=f"rotate(-90 24 {middle:g})")]  # fmt: skip


def embedding_score_svg(
    xy: np.ndarray,
    score: np.ndarray,
    *,
    programme: str,
    basis: str,
    cell: float = 6.0,
    ident: str = "embedding-score",
) -> str:
    """Cells on a 2-D embedding coloured by a programme's score (mean per square).

    Parameters
    ----------
    xy
        Cells × 2 coordinates (``X_umap`` or the first two PCs).
    score
        The programme score of each cell.
    programme, basis
        Names for the title and the axis labels (``"UMAP"``, ``"PC"``).
    cell
        Square size (px): cells in one square are drawn as one square of their mean score.
    """
    left, top = EMBED_BOX[0], EMBED_BOX[2]
    xy = np.asarray(xy, dtype=float)[:, :2]
    score = np.asarray(score, dtype=float)
    ids, ncol = _bins(xy, EMBED_BOX, cell)
    keep = ids >= 0
    frame = pd.DataFrame({"id": ids[keep], "score": score[keep]}).groupby("id")["score"]
    means, counts = frame.mean(), frame.size()
    lo, hi = np.nanpercentile(score, [2, 98]) if len(score) else (0.0, 1.0)
    hi = hi if hi > lo else lo + 1.0
    colours = ramp(((means - lo) / (hi - lo)).to_numpy(), SEQUENTIAL)
    fig = fg.Svg(
        WIDTH, 720, title=f"{programme} score on the {basis} embedding", ident=ident,
        desc=(f"{_embedding_frame(basis, int(keep.sum()), len(means), cell)}, coloured by the "
              f"mean {programme} score of the square's cells from {lo:.3g} (dark purple) to "
              f"{hi:.3g} (yellow; 2nd and 98th percentiles)."),
    )  # fmt: skip
    squares = []
    for (square, mean), colour, n in zip(means.items(), colours, counts, strict=True):
        x, y = _square(int(square), ncol, cell, left, top)
        squares.append(fg.el("rect", fg.tip(f"{n} cells, mean score {mean:.3g}"), x=x, y=y,
                             width=cell, height=cell, fill=colour))  # fmt: skip
    fig.add(fg.el("g", "".join(squares), class_="cells"))
    fig.extend(_embedding_frame_marks(basis))
    fig.extend(colour_bar(lo, hi, SEQUENTIAL, x=720, y=80, label=f"{programme} score"))
    return fig.standalone()


def embedding_condition_svg(
    xy: np.ndarray,
    labels: Sequence[str],
    *,
    what: str,
    basis: str,
    cell: float = 6.0,
    ident: str = "embedding-condition",
) -> str:
    """Cells on a 2-D embedding coloured by a category (the most frequent one per square)."""
    left, top = EMBED_BOX[0], EMBED_BOX[2]
    xy = np.asarray(xy, dtype=float)[:, :2]
    labels = pd.Series(np.asarray(labels, dtype=object)).astype(str)
    ids, ncol = _bins(xy, EMBED_BOX, cell)
    keep = ids >= 0
    frame = pd.DataFrame({"id": ids[keep], "label": labels[keep].to_numpy()})
    table = frame.groupby(["id", "label"]).size().unstack(fill_value=0)
    styles = fg.assign(sorted(labels.unique()))
    fig = fg.Svg(
        WIDTH, 720, title=f"{what} on the {basis} embedding", ident=ident,
        desc=(f"{_embedding_frame(basis, int(keep.sum()), len(table), cell)}, coloured by "
              f"the most frequent {what} of the square's cells: "
              + ", ".join(f"{k} ({int((labels == k).sum()):,} cells)" for k in styles) + "."),
    )  # fmt: skip
    squares = []
    for square, row in table.iterrows():
        top_label = str(row.idxmax())
        x, y = _square(int(square), ncol, cell, left, top)
        share = row.max() / row.sum()
        squares.append(fg.el("rect", fg.tip(f"{int(row.sum())} cells, {share:.0%} {top_label}"),
                             x=x, y=y, width=cell, height=cell, fill=styles[top_label].colour,
                             data_label=top_label))  # fmt: skip
    fig.add(fg.el("g", "".join(squares), class_="cells"))
    fig.extend(_embedding_frame_marks(basis))
    keys = [(fg.el("rect", x=14, y=-8, width=16, height=16, fill=s.colour), k)
            for k, s in styles.items()]  # fmt: skip
    fig.add(fg.legend(keys, x=720, y=60, width=270, columns=1))
    return fig.standalone()


def programme_box_svg(
    scores: pd.DataFrame,
    condition: Sequence[str],
    sample: Sequence[str],
    *,
    ident: str = "programme-distributions",
) -> str:
    """Each programme's score per condition: box (quartiles, 5-95 % whiskers), samples as points.

    Parameters
    ----------
    scores
        Cells × programmes.
    condition, sample
        Each cell's condition and sample; a point is one sample's mean score.
    """
    cond = pd.Series(np.asarray(condition, dtype=object)).astype(str)
    samp = pd.Series(np.asarray(sample, dtype=object)).astype(str)
    levels = sorted(cond.unique())
    styles = fg.assign(levels)
    programmes = [str(c) for c in scores.columns]
    values = scores.to_numpy(dtype=float)
    finite = values[np.isfinite(values)]
    lo, hi = np.percentile(finite, [1, 99]) if finite.size else (0.0, 1.0)
    lo, hi = min(lo, 0.0), max(hi, lo + 1e-9)
    left, right, top, bottom = 90.0, WIDTH - 20.0, 60.0, 470.0
    ys = fg.LinearScale((lo, hi), (bottom, top))
    group = (right - left) / max(len(programmes), 1)
    box_w = min(40.0, group / (len(levels) + 1))
    lines = []
    fig = fg.Svg(
        WIDTH, 600, title="Programme scores per condition", ident=ident,
        desc=(f"Boxes: the cells' scores of {len(programmes)} programmes per condition "
              f"({', '.join(levels)}); the box spans the quartiles with the median line, the "
              "whiskers the 5th to 95th percentiles; points are the samples' mean scores."),
    )  # fmt: skip
    fig.extend(fg.y_axis(ys, ys.ticks(6), left=left, right=right, top=top, bottom=bottom,
                         label="Programme score (cells)"))  # fmt: skip
    for j, programme in enumerate(programmes):
        centre = left + group * (j + 0.5)
        fig.add(fg.text(centre, bottom + 26, programme.replace("_", " "), text_anchor="middle",
                        font_size=13))  # fmt: skip
        for i, level in enumerate(levels):
            x = centre + (i - (len(levels) - 1) / 2) * box_w * 1.15
            mask = (cond == level).to_numpy() & np.isfinite(values[:, j])
            if not mask.any():
                continue
            q5, q25, q50, q75, q95 = np.clip(np.percentile(values[mask, j], [5, 25, 50, 75, 95]),
                                             lo, hi)  # fmt: skip
            colour = styles[level].colour
            words = (f"{programme}, {level}: median {q50:.3g}, quartiles {q25:.3g} to "
                     f"{q75:.3g} ({int(mask.sum())} cells)")  # fmt: skip
            parts = [fg.line(x, ys(q5), x, ys(q95), stroke=fg.INK, stroke_width=1.2),
                     fg.el("rect", fg.tip(words), x=x - box_w / 2, y=ys(q75), width=box_w,
                           height=max(ys(q25) - ys(q75), 1), fill=colour, fill_opacity=0.35,
                           stroke=colour, stroke_width=1.5),
                     fg.line(x - box_w / 2, ys(q50), x + box_w / 2, ys(q50), stroke=fg.INK,
                             stroke_width=2)]  # fmt: skip
            means = pd.Series(values[mask, j]).groupby(samp[mask].to_numpy()).mean()
            for k, (name, mean) in enumerate(means.items()):
                offset = ((k % 5) - 2) * box_w / 8
                parts.append(fg.marker(styles[level].marker, x + offset, float(ys(mean)), 4.5,
                                       fill="#ffffff", stroke=fg.INK, width=1.2,
                                       title=f"{name}: mean {mean:.3g}"))  # fmt: skip
            lines.append(fg.el("g", "".join(parts), class_="box", data_condition=level,
                               data_programme=programme))  # fmt: skip
    fig.extend(lines)
    keys = [(fg.marker(styles[k].marker, 22, 0, 6, fill=styles[k].colour, stroke=fg.INK), k)
            for k in levels]  # fmt: skip
    fig.add(fg.legend(keys, x=left, y=20, width=right - left, columns=max(len(levels), 1)))
    return fig.standalone()


def da_svg(
    table: pd.DataFrame,
    *,
    annotate: str | None = None,
    fdr: float = 0.1,
    ident: str = "da-neighbourhoods",
) -> str:
    """Neighbourhood log fold changes, by annotation (rows), significant ones coloured.

    Parameters
    ----------
    table
        :func:`~oncoresist.singlecell.da`'s table (``logFC``, ``spatial_fdr``, and the
        ``annotate`` column when given).
    annotate
        Column naming each neighbourhood's cell type: one row per value; else one row.
    fdr
        Neighbourhoods with spatial FDR below this are coloured (red up, blue down).
    """
    logfc = pd.to_numeric(table["logFC"], errors="coerce").to_numpy(dtype=float)
    sfdr = pd.to_numeric(table["spatial_fdr"], errors="coerce").to_numpy(dtype=float)
    groups = (table[annotate].astype(str).to_numpy() if annotate and annotate in table
              else np.full(len(table), "all neighbourhoods", dtype=object))  # fmt: skip
    names = sorted(set(groups))
    row_h = max(28.0, min(60.0, 420.0 / max(len(names), 1)))
    left, right, top = 230.0, WIDTH - 30.0, 30.0
    bottom = top + row_h * len(names)
    finite = logfc[np.isfinite(logfc)]
    span = float(np.abs(finite).max()) * 1.05 if finite.size else 1.0
    xs = fg.LinearScale((-span, span), (left, right))
    sig = (sfdr < fdr) & np.isfinite(logfc)
    fig = fg.Svg(
        WIDTH, bottom + 80, title="Differential abundance of neighbourhoods", ident=ident,
        desc=(f"{len(table):,} kNN neighbourhoods by their log2 fold change in abundance "
              f"(treated over control){' per ' + annotate if annotate else ''}; "
              f"{int((sig & (logfc > 0)).sum())} more and {int((sig & (logfc < 0)).sum())} less "
              f"abundant at spatial FDR < {fdr:g} (coloured); others grey. Points on the same "
              "2-pixel square are drawn once."),
    )  # fmt: skip
    fig.extend(fg.x_axis(xs, xs.ticks(8), left=left, right=right, top=top, bottom=bottom,
                         label="log2 fold change of abundance (treated / control)"))  # fmt: skip
    fig.add(fg.line(float(xs(0)), top, float(xs(0)), bottom, stroke=fg.INK, stroke_width=1.2))
    jitter = (np.sin(np.arange(len(table)) * 12.9898) * 43758.5453) % 1.0 - 0.5  # fixed spread
    for r, name in enumerate(names):
        centre = top + row_h * (r + 0.5)
        fig.add(fg.text(left - 10, centre + 5, name, text_anchor="end", font_size=13))
        here = (groups == name) & np.isfinite(logfc)
        for colour, mask, cls in ((GREY, here & ~sig, "nhood"),
                                  (UP, here & sig & (logfc > 0), "nhood up"),
                                  (DOWN, here & sig & (logfc < 0), "nhood down")):  # fmt: skip
            if not mask.any():
                continue
            px = np.round(xs(logfc[mask]) / 2) * 2
            py = np.round((centre + jitter[mask] * row_h * 0.7) / 2) * 2
            unique = sorted(set(zip(px.tolist(), py.tolist(), strict=True)))
            d = "".join(f"M{fg.fmt(a)} {fg.fmt(b)}h.1" for a, b in unique)
            fig.add(fg.el("path", fg.tip(f"{name}: {int(mask.sum())} neighbourhoods"),
                          d=d, stroke=colour, stroke_width=6, stroke_linecap="round",
                          fill="none", class_=cls))  # fmt: skip
    return fig.standalone()


def _downsample(labels: np.ndarray, score: np.ndarray, max_rows: int) -> np.ndarray:
    """Row order for the heat map: by clone, then score; evenly thinned to ``max_rows``."""
    order = np.lexsort((-score, labels))
    if len(order) <= max_rows:
        return order
    picks = np.linspace(0, len(order) - 1, max_rows).round().astype(int)
    return order[picks]


def cnv_heatmap_svg(
    profiles: np.ndarray,
    *,
    chr_pos: dict[str, int],
    clones: Sequence[str],
    score: np.ndarray,
    max_rows: int = 200,
    max_columns: int = 300,
    ident: str = "cnv-heatmap",
) -> str:
    """Cells × genomic position of inferred copy number, chromosomes marked, clones at left.

    Parameters
    ----------
    profiles
        Cells × windows (``obsm["X_cnv"]``, dense or sparse).
    chr_pos
        First window of each chromosome (``uns["cnv"]["chr_pos"]``).
    clones, score
        Each cell's clone and CNV score (rows are ordered by clone, then score).
    max_rows, max_columns
        At most this many cells (evenly spaced in that order) and genomic bins (means of
        adjacent windows) are drawn.
    """
    import scipy.sparse as sp

    dense = profiles.toarray() if sp.issparse(profiles) else np.asarray(profiles, dtype=float)
    labels = np.asarray(clones, dtype=object).astype(str)
    rows = _downsample(labels, np.asarray(score, dtype=float), max_rows)
    n_windows = dense.shape[1]
    edges = np.linspace(0, n_windows, min(max_columns, n_windows) + 1).round().astype(int)
    binned = np.add.reduceat(dense[rows], edges[:-1], axis=1) / np.diff(edges)[None, :]
    limit = float(np.percentile(np.abs(dense[dense != 0]), 99)) if np.any(dense) else 1.0
    levels = np.clip(np.rint(binned / limit * 5), -5, 5).astype(int)  # 11 shades
    shades = ramp(np.linspace(0, 1, 11), DIVERGING)
    left, top, width = 120.0, 40.0, WIDTH - 150.0
    cell_w, cell_h = width / binned.shape[1], max(1.5, min(4.0, 500.0 / len(rows)))
    height = cell_h * len(rows)
    fig = fg.Svg(
        WIDTH, top + height + 120, title="Inferred copy number", ident=ident,
        desc=(f"{len(rows):,} of {dense.shape[0]:,} cells (rows, by clone then CNV score) "
              f"across {binned.shape[1]} genomic bins of {n_windows} windows (columns, "
              f"chromosomes {', '.join(chr_pos)}); red gain, blue loss, white neutral, full "
              f"colour at ±{limit:.3g} (99th percentile of non-zero values)."),
    )  # fmt: skip
    runs = []
    for r, row in enumerate(levels):
        y = top + r * cell_h
        change = np.flatnonzero(np.diff(row)) + 1
        for a, b in zip(np.r_[0, change], np.r_[change, len(row)], strict=True):
            if row[a] != 0:
                runs.append(fg.el("rect", x=left + a * cell_w, y=y, width=(b - a) * cell_w,
                                  height=cell_h, fill=shades[row[a] + 5]))  # fmt: skip
    fig.add(fg.el("g", "".join(runs), class_="cnv-cells"))
    clone_styles = fg.assign(sorted(set(labels)))
    strip = []
    for r, i in enumerate(rows):
        strip.append(fg.el("rect", x=left - 24, y=top + r * cell_h, width=16, height=cell_h,
                           fill=clone_styles[labels[i]].colour))  # fmt: skip
    fig.add(fg.el("g", "".join(strip), class_="clone-strip"))
    fig.add(fg.text(left - 30, top - 10, "clone", font_size=13, text_anchor="end"))
    marks = []
    starts = list(chr_pos.items())
    for k, (name, start) in enumerate(starts):
        end = starts[k + 1][1] if k + 1 < len(starts) else n_windows
        x0 = left + width * start / n_windows
        x1 = left + width * end / n_windows
        marks.append(fg.line(x0, top, x0, top + height, stroke=fg.INK, stroke_width=0.8))
        if x1 - x0 >= 14:
            marks.append(fg.text((x0 + x1) / 2, top + height + 18, name.removeprefix("chr"),
                                 font_size=12, text_anchor="middle"))  # fmt: skip
    marks.append(fg.el("rect", x=left, y=top, width=width, height=height, fill="none",
                       stroke=fg.INK))  # fmt: skip
    fig.add(fg.el("g", "".join(marks), class_="chromosomes"))
    fig.add(fg.text(left + width / 2, top + height + 42, "Chromosome", text_anchor="middle"))
    fig.extend(colour_bar(-limit, limit, DIVERGING, x=left, y=top + height + 70,
                          label="copy-number signal (loss to gain)"))  # fmt: skip
    keys = [(fg.el("rect", x=14, y=-8, width=16, height=16, fill=s.colour), f"clone {k}")
            for k, s in clone_styles.items()]  # fmt: skip
    fig.add(fg.legend(keys, x=left + 300, y=top + height + 70, width=width - 300,
                      columns=min(len(keys), 4), row=24))  # fmt: skip
    return fig.standalone()
