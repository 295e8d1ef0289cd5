"""docs/protocol.md keeps up with the code: every invariant number the audit can report is
defined there, and every key pattern a ``*_key`` function builds has a row in its keys table.

Both lists are read from the source with ``ast`` (nothing is hard-coded here), so a new
invariant number or a new key function fails these tests until the document describes it.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "protocol.md"
SERVICES = ROOT / "services"
JOURNAL = SERVICES / "journal"
GENERATED = SERVICES / "api"
PLACEHOLDER = r"<[^>]+>"


def _doc() -> str:
    return DOC.read_text(encoding="utf-8")


def _int_constants(tree: ast.Module) -> dict[str, int]:
    """Module-level ``NAME = <int>`` assignments, so ``Violation(NAME, ...)`` resolves too."""
    found: dict[str, int] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if (isinstance(target, ast.Name) and isinstance(value, ast.Constant)
                and type(value.value) is int):
            found[target.id] = value.value
    return found


def _is_violation(call: ast.Call) -> bool:
    func = call.func
    name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
    return name == "Violation"


def _invariant_of(call: ast.Call, constants: dict[str, int], where: str) -> int:
    """The ``invariant`` argument of one ``Violation(...)`` call (keyword or first positional)."""
    args = [k.value for k in call.keywords if k.arg == "invariant"] or call.args[:1]
    assert args, f"{where}: Violation(...) without an invariant argument"
    arg = args[0]
    if isinstance(arg, ast.Constant) and type(arg.value) is int:
        return arg.value
    if isinstance(arg, ast.Name) and arg.id in constants:
        return constants[arg.id]
    raise AssertionError(f"{where}: can't read the invariant number of "
                         f"{ast.unparse(call)[:80]!r}; teach this test the new form")


def audit_invariants() -> set[int]:
    """Every invariant number a ``Violation`` is built with in services/journal."""
    numbers: set[int] = set()
    for path in sorted(JOURNAL.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        constants = _int_constants(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _is_violation(node):
                where = f"{path.relative_to(ROOT)}:{node.lineno}"
                numbers.add(_invariant_of(node, constants, where))
    return numbers


def test_audit_invariants_are_defined_in_the_doc() -> None:
    numbers = audit_invariants()
    assert numbers, "found no Violation(...) in services/journal: has the audit moved?"
    doc = _doc()
    missing = [n for n in sorted(numbers)
               if re.search(rf"^\s*(?:#{{1,6}}\s+|[-*]\s+)?\**Invariant {n}\b", doc,
                            re.MULTILINE) is None]
    assert not missing, (f"docs/protocol.md defines no 'Invariant N' heading or list item "
                         f"for {missing} (the audit reports {sorted(numbers)})")


def _key_functions() -> Iterator[tuple[Path, ast.FunctionDef]]:
    """Every module-level function named ``*_key`` in services/ (generated code aside)."""
    for path in sorted(SERVICES.rglob("*.py")):
        if GENERATED in path.parents:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name.endswith("_key"):
                yield path, node


def _pattern(fstring: ast.JoinedStr) -> str:
    """A regex for the keys an f-string builds: each ``{expr}`` becomes ``<placeholder>``."""
    parts = []
    for value in fstring.values:
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            parts.append(re.escape(value.value))
        else:
            parts.append(PLACEHOLDER)
    return "".join(parts)


def _key_patterns(path: Path, func: ast.FunctionDef) -> list[str]:
    returns = [n for n in ast.walk(func) if isinstance(n, ast.Return)]
    where = f"{path.relative_to(ROOT)}:{func.lineno} {func.name}"
    assert returns, f"{where} returns nothing"
    patterns = []
    for ret in returns:
        assert isinstance(ret.value, ast.JoinedStr), (
            f"{where}: can't derive its key pattern (not an f-string); teach this test")
        patterns.append(_pattern(ret.value))
    return patterns


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def _sample_key(path: Path, func: ast.FunctionDef) -> str | None:
    """The function's real output for sample ids and numbers, when every parameter is a plain
    ``str`` or ``int`` (others, like ``index_key``'s enum, are judged from the source only)."""
    function = getattr(importlib.import_module(_module_name(path)), func.name)
    samples: list[object] = []
    for parameter in inspect.signature(function).parameters.values():
        annotation = str(parameter.annotation)
        if annotation in ("str", "<class 'str'>"):
            samples.append(f"p{len(samples)}")
        elif annotation in ("int", "<class 'int'>"):
            samples.append(7 + len(samples))
        else:
            return None
    key = function(*samples)
    assert isinstance(key, str)
    return key


def test_key_patterns_are_in_the_doc() -> None:
    doc = _doc()
    found = list(_key_functions())
    assert found, "found no *_key function in services/"
    missing = []
    for path, func in found:
        patterns = _key_patterns(path, func)
        sample = _sample_key(path, func)
        if sample is not None:  # the source's pattern is what the function really builds
            loose = [p.replace(PLACEHOLDER, r"[A-Za-z0-9_-]+") for p in patterns]
            assert any(re.fullmatch(p, sample) for p in loose), (func.name, sample, patterns)
        missing += [f"{func.name}: {p}" for p in patterns
                    if re.search(rf"^\|\s*`{p}`\s*\|", doc, re.MULTILINE) is None]
    assert not missing, (f"docs/protocol.md's keys table has no row for {missing} "
                         "(first cell: the key pattern in backticks)")
