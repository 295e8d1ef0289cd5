"""The summary table printed at the end, and the list of what (if anything) was not clean."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from services.lab.loadgen import nearest_rank

from ._chaos import KINDS
from ._finale import Books
from ._money import MoneySettled, Withdrawers
from ._settle import Settled
from ._units import ms
from ._view import Sources

SHOW_AT_MOST = 10


@dataclass
class Ending:
    sources: Sources
    settled: Settled
    books: Books
    elapsed_s: float  # of buying
    failed_restarts: list[str]  # at the end, after the chaos
    money: MoneySettled
    withdrawers: Withdrawers

    def problems(self) -> list[str]:
        s, b, w = self.settled, self.books, self.sources.watcher
        found = [str(v) for v in b.violations] + b.mismatches
        found += [f"{uid}: still in doubt after logging in" for uid in s.in_doubt]
        found += [f"{cid}: slot head+1 still there" for cid in s.unfinished]
        found += [f"{cid}: the watcher saw slots up to {w.seen[cid].last} of {s.heads[cid]}"
                  for cid in s.behind]
        found += [f"{cid}: the watcher saw {w.seen[cid].fills} fills for head {head}"
                  for cid, head in s.heads.items() if w.seen[cid].fills != head]
        if w.disorder:
            found.append(f"the watcher got {w.duplicates} duplicate and {w.out_of_order} "
                         "out-of-order slots")
        found += [f"restart at the end failed: {f}" for f in self.failed_restarts]
        found += [f"{cid}: not credited up to its head" for cid in self.money.uncredited]
        found += [f"withdrawal {key}: not paid" for key in self.money.unpaid]
        found += b.payouts.mismatches
        if b.unbalanced:
            found.append(f"the books do not balance: off by {b.unbalanced}")
        return found

    def table(self) -> str:
        src, b, w, r = self.sources, self.books, self.sources.watcher, self.sources.repairs
        t, s = src.buyers, self.settled
        finished = sum(s.heads.values())
        rows = [
            ("purchases (receipts)", f"{b.receipts}",
             f"{t.bought} acknowledged, {b.receipts - t.bought} committed by Buy calls that got "
             "no answer"),
            ("purchases/s", f"{b.receipts / max(self.elapsed_s, 1e-9):.1f}", ""),
            ("lost races", f"{t.lost_races}", ""),
            ("priced out", f"{t.priced_out}", _counts(t.refusals, "other refusals: ")),
            ("errors (outcome unknown)", f"{sum(t.errors.values())}", _counts(t.errors)),
            ("logins after an error", f"{sum(t.logins.values())}", _counts(t.logins)),
            ("logins at the end", f"{sum(s.logins.values())}", _counts(s.logins)),
        ]
        kills = src.chaos.kills if src.chaos is not None else Counter[str]()
        rows += [(f"kills: {kind}", f"{kills[kind]}", "SIGKILL, then restart") for kind in KINDS]
        if src.chaos is not None and src.chaos.failures:
            rows.append(("restarts that failed", f"{len(src.chaos.failures)}",
                         "during the chaos; all revived at the end unless listed below"))
        rows += [
            ("repairs by the posse", f"{r.repairs}", f"{r.voids} of them voids"),
            ("repair delay p50 / max",
             f"{ms(nearest_rank(r.delays_ms, 50))} / {ms(max(r.delays_ms, default=None))}",
             "from the purchase to its repair"),
            ("voids (fenced purchases)", f"{b.voids}", ""),
            ("notify lag p50 / p99",
             f"{ms(nearest_rank(w.lags_ms, 50))} / {ms(nearest_rank(w.lags_ms, 99))}",
             f"max {ms(max(w.lags_ms, default=None))}; fills by "
             + (", ".join(f"{k} {n}" for k, n in sorted(w.sources.items())) or "none")),
            ("audit violations", f"{len(b.violations)}", "quiescent audit, in process"),
            ("balance mismatches", f"{len(b.mismatches)}",
             "every user: GetAccount = deposits - the store's receipts - withdrawals (the "
             f"audit's per-user ledger checks it too); {b.exact_users} users with every Buy "
             "answered also match their acknowledged purchases"),
            ("slots seen / finished", f"{w.fills} / {finished}",
             f"{w.duplicates} duplicates, {w.out_of_order} out of order, "
             f"{sum(w.stream_errors.values())} stream reconnects"),
            *self._money_rows(),
        ]
        width = max(len(label) for label, _, _ in rows)
        values = max(len(value) for _, value, _ in rows)
        return "\n".join(f"  {label:<{width}}  {value:>{values}}  {note}".rstrip()
                         for label, value, note in rows)

    def _money_rows(self) -> list[tuple[str, str, str]]:
        p, asked = self.books.payouts, self.withdrawers
        return [
            ("seller's earnings", f"{p.earned}", "the owner's credited shares (price - fee)"),
            ("withdrawals paid", f"{p.paid} / {p.withdrawals}",
             f"{len(asked.acknowledged)} acknowledged, {len(asked.unanswered)} unanswered, "
             f"{sum(asked.refused.values())} refused (not enough earned); {p.paid_amount} paid "
             f"out in {p.deliveries} deliveries to the payment system, each key paid once"),
            ("books", "balanced" if not self.books.unbalanced else
             f"off by {self.books.unbalanced}",
             "deposits = balances + uncredited sales + fees + withdrawn (abc ledger)"),
        ]

    def report(self) -> str:
        problems = self.problems()
        lines = [self.table()]
        if problems:
            lines += [f"  ! {p}" for p in problems[:SHOW_AT_MOST]]
            if len(problems) > SHOW_AT_MOST:
                lines.append(f"  ! ... and {len(problems) - SHOW_AT_MOST} more")
            lines.append(f"result: NOT CLEAN ({len(problems)} problems)")
        else:
            lines.append("result: CLEAN (every invariant holds, every slot seen once in order, "
                         "the books balance, every withdrawal paid once)")
        return "\n".join(lines)


def _counts(counts: Counter[str], prefix: str = "") -> str:
    if not counts:
        return ""
    return prefix + ", ".join(f"{name.lower()} {n}" for name, n in counts.most_common())
