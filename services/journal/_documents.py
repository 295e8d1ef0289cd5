"""The documents of docs/protocol.md as typed values, with their JSON forms.

Money is an integer number of minor units; times are integer milliseconds since the epoch.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, replace

from services.store import Json

from ._money_out import CreditLock, RefundLock, WithdrawLock

MAX_MONEY = 10**15  # any balance, price or amount; well inside 2**53 for JSON readers
MAX_SLOT_SECONDS = 30 * 24 * 3600
MAX_FILLER_TEXT = 500  # characters
MAX_FILLER_LINK = 2048  # characters
MAX_FILLER_IMAGE = 262_144  # bytes of image (stored as base64 text)
MAX_AD_SIDE = 4096  # pixels: an ad image's width or height, a campaign's ad_width or ad_height


@dataclass(frozen=True, slots=True)
class BuyLock:
    """The intent of a purchase: everything needed to finish it or fence it off."""

    attempt: str
    campaign: str
    slot: int
    price: int
    filler: str | None
    bought_at: int
    start: int
    end: int
    trace: dict[str, str] | None = None  # the buyer's trace context, for repairs to link to

    def to_json(self) -> Json:
        return {"op": "buy", "attempt": self.attempt, "campaign": self.campaign,
                "slot": self.slot, "price": self.price, "filler": self.filler,
                "bought_at": self.bought_at, "start": self.start, "end": self.end,
                "trace": self.trace}


@dataclass(frozen=True, slots=True)
class DepositLock:
    attempt: str
    deposit_id: str
    amount: int
    trace: dict[str, str] | None = None
    at: int = 0  # when it was asked for (ms): its record's time, for the statement

    def to_json(self) -> Json:
        return {"op": "deposit", "attempt": self.attempt, "deposit_id": self.deposit_id,
                "amount": self.amount, "trace": self.trace, "at": self.at}


Lock = BuyLock | DepositLock | CreditLock | WithdrawLock | RefundLock


def lock_from_json(value: Json | None) -> Lock | None:
    if value is None:
        return None
    fields = {k: v for k, v in value.items() if k != "op"}
    match value["op"]:
        case "buy":
            return BuyLock(**fields)
        case "deposit":
            return DepositLock(**fields)
        case "credit":
            return CreditLock.from_json(value)
        case "withdraw":
            return WithdrawLock.from_json(value)
        case "refund":
            return RefundLock.from_json(value)
    raise ValueError(f"unknown lock op {value['op']!r}")


@dataclass(frozen=True, slots=True)
class User:
    balance: int
    lock: Lock | None
    last_login: int | None = None

    @classmethod
    def from_json(cls, value: Json) -> User:
        return cls(value["balance"], lock_from_json(value.get("lock")), value.get("last_login"))

    def to_json(self) -> Json:
        return {"balance": self.balance,
                "lock": None if self.lock is None else self.lock.to_json(),
                "last_login": self.last_login}

    def locked_by(self, attempt: str) -> bool:
        return self.lock is not None and self.lock.attempt == attempt

    def settled(self, delta: int) -> User:
        """The lock cleared together with the op's balance change."""
        return replace(self, balance=self.balance + delta, lock=None)


@dataclass(frozen=True, slots=True)
class Purchase:
    """A campaign's ``last``: the last real purchase, which sets the price."""

    slot: int
    price: int
    bought_at: int
    start: int
    end: int

    def to_json(self) -> Json:
        return {"slot": self.slot, "price": self.price, "bought_at": self.bought_at,
                "start": self.start, "end": self.end}


@dataclass(frozen=True, slots=True)
class Campaign:
    """``fee_bps``: the operator's fee on each sale, fixed when the campaign is created (a
    campaign written before fees reads as 0). ``credited``: a hint, the last slot whose share
    has reached the owner (the chain of credit runs is the truth); never moves back.
    ``ad_width`` x ``ad_height``: the size every filler bought here must be; 0 x 0 (and a
    campaign written before ad sizes): any, and written only when set."""

    owner: str
    min_price: int
    slot_seconds: int
    head: int = 0
    last: Purchase | None = None
    fee_bps: int = 0
    credited: int = 0
    ad_width: int = 0
    ad_height: int = 0

    @classmethod
    def from_json(cls, value: Json) -> Campaign:
        last = value.get("last")
        return cls(value["owner"], value["min_price"], value["slot_seconds"], value["head"],
                   None if last is None else Purchase(**last), value.get("fee_bps", 0),
                   value.get("credited", 0), value.get("ad_width", 0),
                   value.get("ad_height", 0))

    def to_json(self) -> Json:
        value: Json = {"owner": self.owner, "min_price": self.min_price,
                       "slot_seconds": self.slot_seconds, "head": self.head,
                       "last": None if self.last is None else self.last.to_json(),
                       "fee_bps": self.fee_bps, "credited": self.credited}
        if self.sized:
            value |= {"ad_width": self.ad_width, "ad_height": self.ad_height}
        return value

    @property
    def sized(self) -> bool:
        """Whether the campaign takes only fillers of one ad size."""
        return bool(self.ad_width or self.ad_height)

    def advanced(self, n: int, purchase: Purchase | None) -> Campaign:
        return replace(self, head=n, last=purchase if purchase is not None else self.last)


@dataclass(frozen=True, slots=True)
class Fill:
    """A slot's filler: the commit record of one purchase."""

    buyer: str
    attempt: str
    price: int
    filler: str | None
    bought_at: int
    start: int
    end: int
    trace: dict[str, str] | None = None

    @classmethod
    def of(cls, buyer: str, lock: BuyLock) -> Fill:
        return cls(buyer, lock.attempt, lock.price, lock.filler, lock.bought_at, lock.start,
                   lock.end, lock.trace)

    def to_json(self) -> Json:
        return {"buyer": self.buyer, "attempt": self.attempt, "price": self.price,
                "filler": self.filler, "bought_at": self.bought_at, "start": self.start,
                "end": self.end, "trace": self.trace}

    def purchase(self, slot: int) -> Purchase:
        return Purchase(slot, self.price, self.bought_at, self.start, self.end)


@dataclass(frozen=True, slots=True)
class Void:
    """A fence: the slot is closed to the attempt it names, whose fill can never land."""

    attempt: str
    user: str

    def to_json(self) -> Json:
        return {"void": True, "attempt": self.attempt, "user": self.user}


Slot = Fill | Void


def slot_from_json(value: Json) -> Slot:
    if value.get("void"):
        return Void(value["attempt"], value["user"])
    return Fill(**value)


@dataclass(frozen=True, slots=True)
class Receipt:
    """A finished sale: ``fee`` of ``price`` is the operator's, the rest the seller's share
    (a receipt written before fees reads as fee 0)."""

    buyer: str
    seller: str
    price: int
    attempt: str
    fee: int = 0

    @classmethod
    def from_json(cls, value: Json) -> Receipt:
        return cls(value["buyer"], value["seller"], value["price"], value["attempt"],
                   value.get("fee", 0))

    def to_json(self) -> Json:
        return {"buyer": self.buyer, "seller": self.seller, "price": self.price,
                "attempt": self.attempt, "fee": self.fee}

    @property
    def share(self) -> int:
        return self.price - self.fee


def fee_of(price: int, fee_bps: int) -> int:
    """The operator's fee on a sale at ``price``: ``fee_bps`` basis points, rounded up."""
    return (price * fee_bps + 9_999) // 10_000


@dataclass(frozen=True, slots=True)
class DepositRecord:
    """The commit record of a deposit: its id was applied, by this attempt, at ``at`` (ms; 0
    for a record written before deposits kept their time)."""

    user: str
    attempt: str
    amount: int
    at: int = 0

    @classmethod
    def from_json(cls, value: Json) -> DepositRecord:
        return cls(**value)

    def to_json(self) -> Json:
        return {"user": self.user, "attempt": self.attempt, "amount": self.amount,
                "at": self.at}


@dataclass(frozen=True, slots=True)
class Filler:
    """An ad: ``text``, ``link`` and an image checked on upload (``_images.py``), with its
    media type and size; no image: ``content_type`` "" and 0 x 0. ``encoded_image`` is the
    image as the document keeps it (base64 text), decoded only when ``image`` is asked for
    (a purchase reads the filler for its size only). A filler written before images were
    checked has no ``content_type``: its image was never checked, so it reads as no image
    (the document is left as it is)."""

    text: str
    link: str
    content_type: str = ""
    width: int = 0
    height: int = 0
    encoded_image: str = ""

    @classmethod
    def of(cls, text: str, link: str, image: bytes = b"", content_type: str = "",
           width: int = 0, height: int = 0) -> Filler:
        return cls(text, link, content_type, width, height,
                   base64.b64encode(image).decode("ascii"))

    @classmethod
    def from_json(cls, value: Json) -> Filler:
        if not value.get("content_type"):
            return cls(value["text"], value["link"])
        return cls(value["text"], value["link"], value["content_type"], value["width"],
                   value["height"], value["image"])

    def to_json(self) -> Json:
        return {"text": self.text, "link": self.link, "image": self.encoded_image,
                "content_type": self.content_type, "width": self.width, "height": self.height}

    @property
    def image(self) -> bytes:
        return base64.b64decode(self.encoded_image)

    def fits(self, campaign: Campaign) -> bool:
        """Whether it may be bought on ``campaign``: any filler on a campaign of any size,
        else only one whose image is exactly the campaign's ad size."""
        return not campaign.sized or (self.width, self.height) == (campaign.ad_width,
                                                                   campaign.ad_height)
