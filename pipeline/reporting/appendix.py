"""The review's appendix, for analysts: how the model was built and tested.

The body of the review speaks to sales; what training noted, the backtest's folds, the
tournament of model kinds, the champion decision, the quality by slice, the segments' own
models and the leakage guard's figures are in a data scientist's terms, so they close the page, after every section
for sales.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from leadscore.reporting.backtest import BacktestSection, backtest_section
from leadscore.reporting.inputs import RunTables
from leadscore.reporting.leakage import LeakageSection, leakage_section
from leadscore.reporting.segments import SegmentSection, segment_section
from leadscore.reporting.slices import SliceSection, slice_section
from leadscore.reporting.wording import plurals


@dataclass
class Appendix:
    notes: list[str] = field(default_factory=list)
    backtest: BacktestSection | None = None
    slices: SliceSection | None = None
    leakage: LeakageSection | None = None
    segments: SegmentSection | None = None


def appendix_section(run: RunTables) -> Appendix | None:
    """Training's notes, the backtest, the quality by slice, the segments and the leakage
    guard; None when the run logged none of them."""
    bt = backtest_section(run)
    sl = slice_section(run.slices, run.slice_min_conversions)
    guard = leakage_section(run.leakage, run.tags.get("leakage.rows"))
    seg = segment_section(run.segments, run.tags.get("segments.column"))
    if not run.notes and bt is None and sl is None and guard is None and seg is None:
        return None
    notes = [plurals(n) for n in run.notes]
    return Appendix(notes=notes, backtest=bt, slices=sl, leakage=guard, segments=seg)
