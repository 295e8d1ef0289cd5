"""Tokens, the bearer header and the loopback check: parsing only (nothing connects)."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.runtime import Role, TokenError, Tokens, bearer, is_loopback


def test_parse_takes_commas_new_lines_and_comments() -> None:
    tokens = Tokens.parse(" gateway:g1, operator : o1 \n# a comment line\n"
                          "gateway:g2  # the second gateway\n\n,,")
    assert dict(tokens.by_token) == {"g1": Role.GATEWAY, "o1": Role.OPERATOR,
                                     "g2": Role.GATEWAY}


def test_parse_of_nothing_is_no_tokens() -> None:
    assert dict(Tokens.parse("").by_token) == {}
    assert dict(Tokens.parse("# only a comment\n , ").by_token) == {}


@pytest.mark.parametrize("text", ["admin:x", "Gateway:x", "gateway:g1,root:r"])
def test_unknown_role_is_refused(text: str) -> None:
    with pytest.raises(TokenError, match="unknown role"):
        Tokens.parse(text)


@pytest.mark.parametrize("text", ["gateway", "gateway:", "gateway:   ", "operator:o1,g2"])
def test_entry_without_token_is_refused(text: str) -> None:
    with pytest.raises(TokenError, match="not role:token"):
        Tokens.parse(text)


def test_error_does_not_echo_any_of_a_secret() -> None:
    with pytest.raises(TokenError) as caught:
        Tokens.parse("averyveryverylongsecretwithoutrole")
    assert "avery" not in str(caught.value)


@pytest.mark.parametrize("value", ["Bearer t1", "bearer t1", "BEARER  t1 "])
def test_the_bearer_scheme_is_case_insensitive(value: str) -> None:
    assert bearer([("authorization", value)]) == "t1"


def test_load_joins_inline_and_file(tmp_path: Path) -> None:
    file = tmp_path / "tokens"
    file.write_text("operator:o1\n")
    tokens = Tokens.load("gateway:g1", file)
    assert dict(tokens.by_token) == {"g1": Role.GATEWAY, "o1": Role.OPERATOR}
    with pytest.raises(TokenError, match="can't read tokens file"):
        Tokens.load(None, tmp_path / "missing")


def test_role_of() -> None:
    tokens = Tokens.parse("gateway:g1,operator:o1")
    assert tokens.role_of("g1") is Role.GATEWAY
    assert tokens.role_of("o1") is Role.OPERATOR
    assert tokens.role_of("") is None
    assert tokens.role_of("g") is None
    assert tokens.role_of("g1 ") is None
    assert tokens.role_of("O1") is None


def test_bearer() -> None:
    assert bearer((("authorization", "Bearer t0k"),)) == "t0k"
    assert bearer([("x-other", "1"), ("authorization", "Bearer  spaced ")]) == "spaced"
    assert bearer((("authorization", "Basic dXNlcg=="),)) is None
    assert bearer((("authorization", b"Bearer t0k"),)) is None
    assert bearer(()) is None
    assert bearer(None) is None


@pytest.mark.parametrize(("listen", "loopback"), [
    ("127.0.0.1:1", True),
    ("127.1.2.3:1", True),
    ("[::1]:1", True),
    ("localhost:1", True),
    ("0.0.0.0:1", False),
    ("[::]:1", False),
    ("10.0.0.1:1", False),
    ("example.com:1", False),
    (":1", False),
])
def test_is_loopback(listen: str, loopback: bool) -> None:
    assert is_loopback(listen) is loopback
