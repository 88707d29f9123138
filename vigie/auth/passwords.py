"""Password hashing with argon2id and the minimal policy a password must meet."""

from __future__ import annotations

import functools
import gzip
import secrets
import string
from importlib import resources

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from vigie.errors import VigieError

# OWASP's argon2id profile (19 MiB, 2 passes, 1 lane): slow enough against offline guessing, and
# 40 logins at once (the threadpool) need 760 MiB, not the 2.5 GiB of RFC 9106's 64 MiB profile.
# needs_rehash() upgrades stored hashes at the next login if these parameters are raised.
_HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1, type=Type.ID)

MIN_LENGTH = 12


class WeakPasswordError(VigieError):
    """The password does not meet the policy: choose another one."""


def check_policy(password: str, *, username: str) -> None:
    """Refuse passwords a guesser tries first (NIST SP 800-63B, 3.1.1.2): shorter than
    :data:`MIN_LENGTH`, holding the user name, repeating a few characters, or a common password
    (:func:`is_common`)."""
    if len(password) < MIN_LENGTH:
        raise WeakPasswordError(f"the password must have at least {MIN_LENGTH} characters")
    if username.lower() in password.lower() or len(set(password)) < 5:
        raise WeakPasswordError(
            "the password is too easy to guess (contains the user name or repeats)"
        )
    if is_common(password):
        raise WeakPasswordError(
            "the password is a common one (or one with digits and symbols around it): "
            "guessers try those first; a few unrelated words make a better one"
        )


AFFIXES = string.digits + string.punctuation + string.whitespace
"""What people put around a common password to pass a length rule (``azerty123456``)."""


def is_common(password: str) -> bool:
    """True for a password of the shipped list, or one with only digits and symbols around it.

    The list: ``common-passwords.txt.gz``, the 19,646 common passwords Django ships (Royce
    Williams' list, BSD licence: ``common-passwords.LICENSE``)."""
    lowered = password.lower()
    core = lowered.strip(AFFIXES)
    return lowered in _common_passwords() or (bool(core) and core in _common_passwords())


@functools.cache
def _common_passwords() -> frozenset[str]:
    data = resources.files("vigie.auth").joinpath("common-passwords.txt.gz").read_bytes()
    return frozenset(gzip.decompress(data).decode("utf-8").split())


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's."""
    return _HASHER.check_needs_rehash(password_hash)


def burn_time(password: str) -> None:
    """Spend a verification's time on an unknown user, so timing does not reveal who exists."""
    verify_password(_dummy_hash(), password)


@functools.cache
def _dummy_hash() -> str:
    return _HASHER.hash(secrets.token_hex(16))
