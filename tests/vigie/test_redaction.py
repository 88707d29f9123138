"""The logging filter, on real loggers and handlers: secrets never reach the output."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from vigie.credentials import KeyRing, generate_key
from vigie.redaction import SECRETS, install
from vigie.settings import parse_key_ring


@pytest.fixture
def output() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    root.addHandler(handler)
    install()
    try:
        yield stream
    finally:
        root.removeHandler(handler)


def test_a_password_the_process_decrypted_is_masked_anywhere(output: io.StringIO) -> None:
    keys = KeyRing(parse_key_ring(generate_key()))
    sealed = keys.encrypt("Zq7!camera-secret", context="camera:A")
    keys.decrypt(sealed, context="camera:A")
    log = logging.getLogger("cameras.onvif")
    log.warning("camera A: auth failed with %s", "Zq7!camera-secret")
    log.warning("soap body <Password>Zq7!camera-secret</Password>")
    text = output.getvalue()
    assert "Zq7!camera-secret" not in text
    assert text.count("***") == 2


@pytest.mark.parametrize(
    "message",
    [
        "connecting to http://admin:Sup3rS3cret@10.0.0.5/onvif/device_service",
        "form password=Sup3rS3cret&user=x",
        'payload {"password": "Sup3rS3cret"}',
        "header Authorization: Bearer Sup3rS3cret.Sup3rS3cret.Sup3rS3cret",
        "token vigie_Sup3rS3cretSup3rS3cretSup3rS3cret",
    ],
)
def test_credential_shapes_are_masked_even_unseen(output: io.StringIO, message: str) -> None:
    logging.getLogger("uvicorn.error").warning(message)
    text = output.getvalue()
    assert "Sup3rS3cret" not in text
    assert "***" in text


def test_tracebacks_are_masked_too(output: io.StringIO) -> None:
    SECRETS.add("Tr4ceback-secret")
    try:
        raise ValueError("bad password Tr4ceback-secret")
    except ValueError:
        logging.getLogger("vigie").exception("failed")
    assert "Tr4ceback-secret" not in output.getvalue()
    assert "ValueError: bad password ***" in output.getvalue()


def test_ordinary_messages_pass_unchanged(output: io.StringIO) -> None:
    logging.getLogger("vigie").warning("camera %s offline for %d s", "CAM-27056-01", 42)
    assert output.getvalue() == "camera CAM-27056-01 offline for 42 s\n"


def test_a_token_in_an_access_log_url_is_masked_and_the_line_written() -> None:
    """uvicorn's access formatter unpacks ``record.args``: masking must keep their shape (a
    ``?token=`` in a URL made the filter drop them, and the formatter raise; issue 16)."""
    from uvicorn.logging import AccessFormatter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(AccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s'))
    handler.addFilter(SECRETS)
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/api/v1/live/sse?token=Sup3rS3cretT0ken", "1.1", 200),
        None,
    )
    handler.handle(record)
    line = '127.0.0.1:5000 - "GET /api/v1/live/sse?token=*** HTTP/1.1" 200 OK\n'
    assert stream.getvalue() == line


def test_a_secret_split_between_the_message_and_its_arguments_is_masked(
    output: io.StringIO,
) -> None:
    logging.getLogger("vigie").warning("login with password=%s for %s", "Sup3rS3cret", "bob")
    assert output.getvalue() == "login with password=*** for bob\n"
