"""Account rollup: the open leads of each account (B2B buying group) as one row.

P(at least one lead of the account converts) is ``1 - prod(1 - p)`` over its leads'
calibrated probabilities. That assumes the leads convert independently of one another; in
a real buying group they do not (colleagues buy together), so read it as an upper bound of
the chance of at least one conversion and the expected conversions (the sum of the
probabilities, which needs no independence) as the account's weight.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

COLUMNS = [
    "account",
    "open_leads",
    "p_any_converts",
    "expected_conversions",
    "best_lead_id",
    "best_score",
    "best_tier",
    "best_reasons",
]


@dataclass(frozen=True)
class Rollup:
    accounts: pd.DataFrame
    leads_in: int
    without_account: int

    def line(self) -> str:
        return (
            f"in {self.leads_in:,} leads = in {len(self.accounts):,} accounts "
            f"{self.leads_in - self.without_account:,} + no account {self.without_account:,} "
            "(left out of the rollup)"
        )


def roll_up(scores: pd.DataFrame, account: pd.Series) -> Rollup:
    """One row per account of ``scores`` (``account``: each lead's, aligned; missing or
    blank means none), best first: by P(any converts), then expected conversions, then
    account. The best lead is the highest probability, ties by ``lead_id``."""
    acct = account.astype("string").str.strip()
    has = (acct.notna() & (acct != "")).to_numpy()
    frame = pd.DataFrame(
        {
            "account": acct.to_numpy()[has],
            "lead_id": scores["lead_id"].astype(str).to_numpy()[has],
            "p": scores["probability"].to_numpy("float64")[has],
            "score": scores["score"].to_numpy("float64")[has],
            # The night's rank orders leads one probability ties (files without it: by id).
            "rank": scores["rank"].to_numpy("float64")[has]
            if "rank" in scores
            else np.zeros(int(has.sum())),
            "tier": scores["tier"].astype(str).to_numpy()[has],
            "reasons": (
                scores["top_reasons"].astype(str).to_numpy()[has]
                if "top_reasons" in scores
                else np.full(int(has.sum()), "")
            ),
        }
    )
    # log1p(-p) summed is log prod(1 - p), exact for small p; p = 1 gives -inf -> P = 1.
    with np.errstate(divide="ignore"):
        frame["log_none"] = np.log1p(-frame["p"].to_numpy())
    grouped = frame.groupby("account", sort=False)
    agg = grouped.agg(
        open_leads=("lead_id", "size"), log_none=("log_none", "sum"), expected=("p", "sum")
    )
    best = frame.sort_values(["p", "rank", "lead_id"], ascending=[False, True, True], kind="stable")
    best = best.drop_duplicates("account").set_index("account")
    out = pd.DataFrame(
        {
            "account": agg.index.astype(str),
            "open_leads": agg["open_leads"].to_numpy(),
            "p_any_converts": np.round(-np.expm1(agg["log_none"].to_numpy()), 4),
            "expected_conversions": np.round(agg["expected"].to_numpy(), 4),
            "best_lead_id": best.loc[agg.index, "lead_id"].to_numpy(),
            "best_score": best.loc[agg.index, "score"].to_numpy(),
            "best_tier": best.loc[agg.index, "tier"].to_numpy(),
            "best_reasons": best.loc[agg.index, "reasons"].to_numpy(),
        }
    )
    out = out.sort_values(
        ["p_any_converts", "expected_conversions", "account"],
        ascending=[False, False, True],
        kind="stable",
        ignore_index=True,
    )
    return Rollup(out[COLUMNS], len(scores), int((~has).sum()))
