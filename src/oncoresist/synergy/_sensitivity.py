"""Single-drug and combination sensitivity: relative inhibition (RI) and CSS.

Malyutina A., Majumder M.M., Wang W., Pessia A., Heckman C.A., Tang J. (2019) Drug
combination sensitivity scoring facilitates the discovery of synergistic and efficacious drug
combinations in cancer. PLoS Comput Biol 15:e1006752. doi:10.1371/journal.pcbi.1006752
"""

from __future__ import annotations

import numpy as np

from oncoresist.synergy._doseresponse import CurveFits, fit_curves


def relative_inhibition(fit: CurveFits, dose: np.ndarray) -> np.ndarray:
    """Relative inhibition (%): the fitted curve's mean over log10 dose across the tested range.

    The area under the 4PL curve between the lowest and highest nonzero tested dose on a
    log10 axis, divided by the width of that range (so a curve at 100 % everywhere scores
    100); SynergyFinder's RI (Malyutina et al. 2019).
    """
    pos = np.where(dose > 0, dose, np.nan)
    lo = np.log10(np.nanmin(pos, axis=1))
    hi = np.log10(np.nanmax(pos, axis=1))
    t = np.linspace(0.0, 1.0, 201)
    grid = 10 ** (lo[:, None] + (hi - lo)[:, None] * t[None, :])
    y = fit.predict(grid)
    return np.trapezoid(y, t, axis=1) if hasattr(np, "trapezoid") else np.trapz(y, t, axis=1)


def css_scores(
    y: np.ndarray,
    weight: np.ndarray,
    conc_r: np.ndarray,
    conc_c: np.ndarray,
    *,
    ic50_r: np.ndarray,
    ic50_c: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Combination sensitivity scores (Malyutina et al. 2019), per block.

    ``css_row``: the relative inhibition of the row drug's 4PL along the column whose dose of
    the column drug is the tested dose closest to that drug's IC50 (log scale);
    ``css_col`` the same with the roles swapped. The drug's own IC50 falls back to the
    highest tested dose when its fit gave none.

    Parameters
    ----------
    y, weight
        ``(n_blocks, n_r, n_c)`` mean % inhibition and replicate counts.
    conc_r, conc_c
        Concentrations of the row and column drug (first = 0).
    ic50_r, ic50_c
        Each drug's fitted IC50 (NaN where none).

    Returns
    -------
    (css_row, css_col)
        Percent, one per block.
    """
    n_b = y.shape[0]
    rows = np.arange(n_b)

    def closest(conc: np.ndarray, ic50: np.ndarray) -> np.ndarray:
        target = np.where(np.isfinite(ic50), ic50, conc[:, -1])
        with np.errstate(divide="ignore"):
            dist = np.abs(np.log(np.where(conc > 0, conc, np.nan)) - np.log(target)[:, None])
        return np.nanargmin(np.where(np.isnan(dist), np.inf, dist), axis=1)

    j = closest(conc_c, ic50_c)
    i = closest(conc_r, ic50_r)
    along_r = fit_curves(conc_r, y[rows, :, j], weight[rows, :, j])
    along_c = fit_curves(conc_c, y[rows, i, :], weight[rows, i, :])
    return relative_inhibition(along_r, conc_r), relative_inhibition(along_c, conc_c)
