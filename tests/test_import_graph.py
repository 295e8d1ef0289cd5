"""The tiers of ``services``, lowest first: a module imports only from its own package or a
lower tier (never upward, never sideways into another package of its tier). Walked from the
source with ``ast``, so an import inside a function counts too."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "services"

TIERS = (
    ("services.settings",),  # Setting: one ABC_* variable (a leaf: imports nothing of Abc's)
    ("services.store",),  # the DocumentStore port and its adapters
    ("services.journal",),  # the protocol: pure logic over the port
    ("services.api",),  # generated protobuf and gRPC code
    ("services.runtime",),  # what every process needs: server, auth, NATS, telemetry, settings
    ("services.payouts",),  # payout rails (manual, webhook): what a payer calls to pay out
    ("services.messages",),  # journal values <-> API messages
    ("services.events",),  # NATS subjects and the publisher
    ("services.wiring",),  # one process's parts put together
    # the deployed services (the gateway: a pure gRPC client, see tests/gateway)
    ("services.purchase", "services.notify", "services.recovery", "services.gateway"),
    ("services.lab",),  # sim, loadgen, cluster, demo: never deployed
    ("services.cli",),  # the abc command
)


def package_of(module: str) -> str | None:
    """The tiered package ``module`` belongs to (None: outside ``services``'s tiers)."""
    for tier in TIERS:
        for package in tier:
            if module == package or module.startswith(package + "."):
                return package
    return None


def tier_of(package: str) -> int:
    return next(i for i, tier in enumerate(TIERS) if package in tier)


def imports(path: Path, root: Path) -> Iterator[tuple[int, str]]:
    """(line, absolute module) for every import in ``path``, a file under ``root``."""
    module = ".".join(path.relative_to(root.parent).with_suffix("").parts)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            name = ".".join(part for part in (base, node.module or "") if part)
            yield node.lineno, name


def upward_imports(root: Path = ROOT) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.py")):
        if "api" in path.relative_to(root).parts[:1]:
            continue
        module = ".".join(path.relative_to(root.parent).with_suffix("").parts)
        own = package_of(module)
        if own is None:
            continue
        for line, imported in sorted(imports(path, root)):
            other = package_of(imported)
            if other is None or other == own:
                continue
            if tier_of(other) >= tier_of(own):
                found.append(f"{path.relative_to(root.parent)}:{line}: {own} (tier "
                             f"{tier_of(own)}) imports {imported} (tier {tier_of(other)})")
    return found


def test_every_package_of_services_has_a_tier() -> None:
    packages = {f"services.{p.name}" for p in ROOT.iterdir() if (p / "__init__.py").exists()}
    assert packages == {package for tier in TIERS for package in tier}


def test_no_module_imports_upward_or_sideways() -> None:
    assert upward_imports() == []


def test_the_walk_sees_an_upward_import(tmp_path: Path) -> None:
    """The check itself can fail: a journal module importing the purchase service, absolute
    or relative, inside a function or not, is found."""
    journal = tmp_path / "services" / "journal"
    journal.mkdir(parents=True)
    (journal / "__init__.py").write_text("")
    (journal / "_bad.py").write_text(
        "from services.store import NotFound\n"
        "def late() -> None:\n"
        "    from ..purchase import PurchaseServicer\n"
        "import services.cli\n")
    found = upward_imports(tmp_path / "services")
    assert [line.split(": ", 1)[0] for line in found] == ["services/journal/_bad.py:3",
                                                          "services/journal/_bad.py:4"]
