from __future__ import annotations

import pytest

from vigie.auth.passwords import (
    WeakPasswordError,
    check_policy,
    hash_password,
    is_common,
    needs_rehash,
    verify_password,
)


def test_hashes_are_argon2id_salted_and_verifiable() -> None:
    first, second = hash_password("a long pass phrase"), hash_password("a long pass phrase")
    assert first.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert first != second  # salted
    assert verify_password(first, "a long pass phrase")
    assert not verify_password(first, "a long pass phrasE")
    assert not verify_password("not a hash", "a long pass phrase")
    assert not needs_rehash(first)


@pytest.mark.parametrize(
    "password", ["short", "jean.dupont-2026!", "aaaaaaaaaaaaaaaa", "abababababababab"]
)
def test_policy_refuses_short_or_guessable_passwords(password: str) -> None:
    with pytest.raises(WeakPasswordError):
        check_policy(password, username="jean.dupont")


def test_policy_accepts_a_pass_phrase() -> None:
    check_policy("correct horse battery staple", username="jean.dupont")


@pytest.mark.parametrize(
    "password", ["password1234", "Azerty123456", "2026motdepasse", "!!iloveyou!!", "soleil 2026 !!"]
)
def test_common_passwords_and_their_padded_forms_are_refused(password: str) -> None:
    assert is_common(password)
    with pytest.raises(WeakPasswordError, match="common"):
        check_policy(password, username="jean.dupont")


@pytest.mark.parametrize(
    "password",
    ["correct horse battery staple", "Vigie: 27 caméras, 3 EPCI!", "p4ss-w0rd-r0ute-Eure"],
)
def test_uncommon_passwords_pass(password: str) -> None:
    assert not is_common(password)
