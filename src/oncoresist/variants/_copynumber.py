"""Copy-number calls: when an absolute copy number is an amplification or a deep deletion.

Defaults (see docs/formats.md, "Copy-number and structural variants"): amplification at
CN >= 6 (three times a diploid genome; with a ploidy given, CN >= 3 x ploidy), a deep
deletion at CN 0 (below 0.5, so callers' fractional estimates round to it). Between
them a copy number at least one above the baseline (the ploidy, 2 by default) is a gain
and one at least one below is a shallow loss: both are reported as warnings, not called,
because the knowledge base's "amplification" and "loss" mean focal high-level gains and
biallelic losses (as in the FDA-recognised panels, e.g. ERBB2 or MET amplification, and
GISTIC's discrete -2/2 calls that cBioPortal shows as AMP and HOMDEL).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from oncoresist.errors import InputError

CopyNumberCall = Literal["amplification", "gain", "neutral", "shallow_loss", "deep_deletion"]


@dataclass(frozen=True)
class CopyNumberThresholds:
    """When an absolute copy number is called amplification or deep deletion.

    Parameters
    ----------
    amplification
        Copies at or above which a gene is amplified, when no ploidy is given.
    amplification_ratio
        With ``ploidy`` given: amplified at or above ``amplification_ratio * ploidy``.
    deep_deletion_below
        Copies below which a gene is deeply (homozygously) deleted.
    ploidy
        Tumour ploidy (copies of a neutral region); ``None`` assumes 2 for the gain/loss
        baseline and uses ``amplification`` as it is.

    Examples
    --------
    >>> t = CopyNumberThresholds()
    >>> [t.call(c) for c in (0, 1, 2, 4, 6, 12)]
    ['deep_deletion', 'shallow_loss', 'neutral', 'gain', 'amplification', 'amplification']
    >>> CopyNumberThresholds(ploidy=4).call(8)
    'gain'
    """

    amplification: float = 6.0
    amplification_ratio: float = 3.0
    deep_deletion_below: float = 0.5
    ploidy: float | None = None

    def __post_init__(self) -> None:
        if self.ploidy is not None and not self.ploidy > 0:
            raise InputError(f"ploidy {self.ploidy} must be > 0", field="ploidy")
        if not self.deep_deletion_below < self.baseline < self.amplification_at:
            raise InputError(
                f"thresholds out of order: expected deep deletion below "
                f"{self.deep_deletion_below} < baseline {self.baseline} < amplification at "
                f"{self.amplification_at}",
                field="copy-number thresholds",
            )

    @property
    def baseline(self) -> float:
        """Copies of a neutral region: the ploidy, or 2."""
        return 2.0 if self.ploidy is None else float(self.ploidy)

    @property
    def amplification_at(self) -> float:
        """Copies at or above which a gene is called amplified."""
        if self.ploidy is None:
            return float(self.amplification)
        return float(self.amplification_ratio * self.ploidy)

    def call(self, copies: float) -> CopyNumberCall:
        """Call an absolute copy number (copies per cell, >= 0)."""
        if copies < self.deep_deletion_below:
            return "deep_deletion"
        if copies >= self.amplification_at:
            return "amplification"
        if copies >= self.baseline + 1:
            return "gain"
        if copies <= self.baseline - 1:
            return "shallow_loss"
        return "neutral"

    def describe(self) -> str:
        """The thresholds in words, for messages."""
        amp = f"CN >= {self.amplification_at:g}"
        if self.ploidy is not None:
            amp += f" ({self.amplification_ratio:g} x ploidy {self.ploidy:g})"
        return f"amplification at {amp}, deep deletion at CN < {self.deep_deletion_below:g}"


DEFAULT_THRESHOLDS = CopyNumberThresholds()
