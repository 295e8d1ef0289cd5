"""What the journal's operations return: values a caller can act on.

Expected results (bought, lost the race, insufficient funds, ...) are returned, never raised.
Inside the journal a ``Rejected`` exception carries such a value out of a deep helper to the
operation's entry point, which returns it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from services.store import Json


@dataclass(frozen=True, slots=True)
class Bought:
    """Slot ``slot`` is ours at ``price``. ``balance`` is None when the buyer did not see the
    debit land itself: the finish (receipt, debit, advance) was interrupted, and recovery
    completes it, or the commit was in doubt and settled by reading it back."""

    slot: int
    price: int
    receipt: str
    start: int
    end: int
    balance: int | None
    # When the purchase was made (its intent, ms); metadata, so left out of equality.
    bought_at: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class LostRace:
    """Another buyer took slot ``slot`` first; ``price`` is the price of the next one now."""

    slot: int
    price: int


@dataclass(frozen=True, slots=True)
class PriceAboveMax:
    price: int
    max_price: int


@dataclass(frozen=True, slots=True)
class InsufficientFunds:
    balance: int
    price: int


@dataclass(frozen=True, slots=True)
class AccountBusy:
    """Another operation holds the account's lock; try again shortly."""

    uid: str


@dataclass(frozen=True, slots=True)
class Missing:
    """No such ``kind`` (user, campaign, filler) with that id."""

    kind: str
    ident: str


@dataclass(frozen=True, slots=True)
class InvalidInput:
    field: str
    reason: str


@dataclass(frozen=True, slots=True)
class InvalidImage(InvalidInput):
    """An ad's image Abc would not show (``field`` is ``image``, or ``content_type`` when the
    declared type is not what the image is): see ``_images.py``."""


@dataclass(frozen=True, slots=True)
class AdSizeMismatch:
    """Campaign ``campaign`` shows ads of ``ad_width`` x ``ad_height``; filler ``filler``'s
    image is ``width`` x ``height`` (0 x 0: it has none)."""

    campaign: str
    filler: str
    ad_width: int
    ad_height: int
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class AlreadyExists:
    kind: str
    ident: str


@dataclass(frozen=True, slots=True)
class Created:
    """``kind`` ``ident`` is created; ``value``, its document as written (what the journal
    read from an image is in a filler's), is left out of equality."""

    kind: str
    ident: str
    value: Json | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class Deposited:
    amount: int
    balance: int


@dataclass(frozen=True, slots=True)
class DuplicateDeposit:
    """This deposit id was already applied (by this or an earlier request); nothing changed."""

    deposit_id: str


@dataclass(frozen=True, slots=True)
class Interrupted:
    """The store failed mid-operation. Nothing is lost: a committed op is finished by recovery,
    an uncommitted one rolled back; the account's next login or op settles it."""

    detail: str


@dataclass(frozen=True, slots=True)
class Credited:
    """The run ``first``..``last`` of ``campaign``'s slots was credited to ``seller``:
    ``amount`` in shares. ``balance`` is None when the effect was left to recovery."""

    campaign: str
    seller: str
    first: int
    last: int
    amount: int
    balance: int | None


@dataclass(frozen=True, slots=True)
class NothingToCredit:
    """Every finished slot of ``campaign`` is credited already (up to ``credited``)."""

    campaign: str
    credited: int


@dataclass(frozen=True, slots=True)
class WithdrawalRequested:
    """Withdrawal ``withdrawal`` is committed: ``amount`` + ``fee`` left the balance (or will,
    when ``balance`` is None, by recovery). ``replay``: it was requested before with the
    same fields, and nothing changed now."""

    withdrawal: str
    amount: int
    fee: int
    balance: int | None
    replay: bool = False


@dataclass(frozen=True, slots=True)
class Refunded:
    """Rejected withdrawal ``withdrawal`` gave ``amount`` (its amount and fee) back."""

    withdrawal: str
    amount: int
    balance: int | None


@dataclass(frozen=True, slots=True)
class WrongState:
    """Withdrawal ``ident`` is ``state``; the move asked for needs one of ``wanted``."""

    ident: str
    state: str
    wanted: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class BadCredentials:
    """A wrong password, an unknown user or a user without a password: deliberately one
    answer, with nothing in it that tells them apart."""


@dataclass(frozen=True, slots=True)
class Throttled:
    """Too many failed attempts in a row on this account: the password was not checked; the
    next attempt may be made in ``retry_after_ms``."""

    retry_after_ms: int


@dataclass(frozen=True, slots=True)
class PasswordSet:
    """``uid``'s password is now the new one (and its failure count cleared)."""

    uid: str


class Resolution(enum.Enum):
    """What the account resolver found and did."""

    CLEAN = "clean"  # no lock
    ROLLED_FORWARD = "rolled_forward"  # the op had committed: its effects are now applied
    ROLLED_BACK = "rolled_back"  # the op had not committed (lost, fenced, duplicate)
    RESOLVED_ELSEWHERE = "resolved_elsewhere"  # someone else settled it while we waited
    IN_DOUBT = "in_doubt"  # the store failed before it could be settled


BuyOutcome = (
    Bought | LostRace | PriceAboveMax | InsufficientFunds | AccountBusy | Missing | InvalidInput
    | AdSizeMismatch | Interrupted
)
DepositOutcome = (
    Deposited | DuplicateDeposit | AlreadyExists | AccountBusy | Missing | InvalidInput
    | Interrupted
)
CreateOutcome = Created | AlreadyExists | Missing | InvalidInput | Interrupted
CreditOutcome = Credited | NothingToCredit | AccountBusy | Missing | InvalidInput | Interrupted
WithdrawOutcome = (
    WithdrawalRequested | AlreadyExists | InsufficientFunds | AccountBusy | Missing
    | InvalidInput | Interrupted
)
PasswordOutcome = PasswordSet | BadCredentials | Throttled | Missing | InvalidInput | Interrupted
RefundOutcome = Refunded | WrongState | AccountBusy | Missing | InvalidInput | Interrupted
Rejection = AccountBusy | Missing | InvalidInput


class Rejected(Exception):
    """Carries an expected outcome from a helper up to the operation's entry point."""

    def __init__(self, outcome: Rejection) -> None:
        super().__init__(outcome)
        self.outcome = outcome


class JournalError(Exception):
    """A fault the protocol cannot settle right now (bounded CAS retries exhausted); the
    operation is left for the resolver or the posse, which are always safe to run."""
