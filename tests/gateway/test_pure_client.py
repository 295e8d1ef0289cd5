"""The gateway is a pure client of the gRPC API: it imports only the generated API, the
settings leaf and third-party packages (walked with ``ast``, so an import inside a function
counts), and ``abc serve gateway`` loads nothing of the store, the journal or the services'
runtime (counted in a fresh interpreter). Its templates and static files ship with it."""

from __future__ import annotations

import ast
import fnmatch
import sys
import tomllib
from pathlib import Path

from tests.cli.test_serve_imports import loaded_by

ROOT = Path(__file__).resolve().parents[2]
GATEWAY = ROOT / "services" / "gateway"
ALLOWED_ABC = ("services.api", "services.settings", "services.gateway")
THIRD_PARTY = ("starlette", "uvicorn", "jinja2", "itsdangerous", "multipart", "grpc",
               "grpc_status", "google.protobuf", "google.rpc", "opentelemetry")
SERVER_SIDE = ("services.store", "services.journal", "services.runtime", "services.wiring",
               "services.messages", "services.events")


def imported_by(source: str, package: str = "services.gateway") -> list[str]:
    """Every module ``source`` (a module of ``package``) imports, as an absolute name."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            found.append(".".join(part for part in (base, node.module or "") if part))
    return found


def _allowed(module: str) -> bool:
    top = module.split(".")[0]
    if top in sys.stdlib_module_names or top == "__future__":
        return True
    return any(module == p or module.startswith(p + ".") for p in (*ALLOWED_ABC, *THIRD_PARTY))


def test_the_gateway_imports_only_the_api_the_settings_and_third_party_packages() -> None:
    files = sorted(GATEWAY.rglob("*.py"))
    assert len(files) > 5
    bad = [f"{path.relative_to(ROOT)}: {module}" for path in files
           for module in imported_by(path.read_text()) if not _allowed(module)]
    assert bad == []


def test_the_check_sees_a_store_import() -> None:
    """It can fail: a module importing the store (relatively or not) is caught."""
    source = "from ..store import open_store\nimport services.journal\nfrom . import _views\n"
    assert [m for m in imported_by(source) if not _allowed(m)] == [
        "services.store", "services.journal"]


def test_serving_the_gateway_loads_nothing_of_the_servers() -> None:
    loaded = loaded_by("serve", "gateway", "--help")
    assert "services.gateway" in loaded
    assert [m for m in loaded if m.startswith(SERVER_SIDE)] == []
    assert [m for m in loaded if m.startswith("services.lab")] == []


def test_templates_and_static_files_are_package_data() -> None:
    """``pip install .`` ships every template and static file (setuptools' package-data)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["services.gateway"]
    files = [p.relative_to(GATEWAY).as_posix() for folder in ("templates", "static")
             for p in (GATEWAY / folder).iterdir() if p.is_file()]
    assert "templates/campaign.html" in files
    assert [f for f in files if not any(fnmatch.fnmatch(f, p) for p in patterns)] == []
