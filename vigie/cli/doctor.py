"""``vigie doctor``: a configuration checked against the README's production checklist.

The settings are loaded as ``vigie serve`` loads them (``VIGIE_*`` variables, ``.env`` of the
working directory, or ``--env-file``); with ``--url``, a running service is asked too: its
``/healthz``, its TLS certificate, its security headers, its API docs and its body limit. Each
point prints one line in French for the administrator who reads it (``✓`` conform, ``✗``
wrong, ``?`` to check by hand: backups and log rotation live outside Vigie), then a summary; the
exit code is 1 when something is wrong.

Registered in ``vigie.cli.main``.
"""

from __future__ import annotations

import enum
import http.client
import ipaddress
import json
import ssl
import stat
import urllib.parse
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from planning.french import number
from vigie.cli.context import out

if TYPE_CHECKING:
    from vigie.settings import Settings

EXPIRY_WARNING_DAYS = 30
"""A certificate closer than this to its end is reported: renewal is due."""
BROAD_PREFIX = {4: 16, 6: 48}
"""A trusted proxy network wider than this (IPv4 /16, IPv6 /48) is more than a proxy."""
DEFAULT_BODY_BYTES = 1024 * 1024
SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "content-security-policy": None,  # present, whatever its value
}


class Level(enum.Enum):
    OK = "✓"
    WRONG = "✗"
    CHECK = "?"  # outside what Vigie can see: the administrator checks it by hand


@dataclass(frozen=True)
class Finding:
    level: Level
    topic: str  # the checklist's item, in French
    text: str

    def line(self) -> str:
        return f"{self.level.value} {self.topic} : {self.text}"


def ok(topic: str, text: str) -> Finding:
    return Finding(Level.OK, topic, text)


def wrong(topic: str, text: str) -> Finding:
    return Finding(Level.WRONG, topic, text)


def by_hand(topic: str, text: str) -> Finding:
    return Finding(Level.CHECK, topic, text)


# --- the settings ---------------------------------------------------------------------------


def check_settings(settings: Settings) -> list[Finding]:
    """Every point of the checklist that the settings alone answer."""
    return [
        *_environment(settings),
        *_keys(settings),
        *_tls(settings),
        *_proxies(settings),
        *_bodies(settings),
        *_browsers(settings),
        *_database(settings),
        *_retention(settings),
        *_notifications(settings),
        _pictures(),
    ]


def _environment(settings: Settings) -> list[Finding]:
    if settings.environment == "development":
        return [
            wrong(
                "mode",
                "VIGIE_ENVIRONMENT=development : clés aléatoires acceptées et documentation "
                "interactive servie ; retirez-le en production",
            )
        ]
    return [ok("mode", "production")]


def _keys(settings: Settings) -> list[Finding]:
    found = []
    for name, value, what in (
        ("VIGIE_SECRET_KEY", settings.secret_key, "signe les jetons d'accès"),
        ("VIGIE_CREDENTIALS_KEYS", settings.credentials_keys, "chiffre les mots de passe caméra"),
    ):
        if value is None:
            found.append(wrong("clés", f"{name} n'est pas défini ({what}) : `vigie keys generate`"))
        else:
            found.append(ok("clés", f"{name} défini ({what})"))
    if Path(".env").is_file():
        found.append(_private_file("clés", Path(".env"), "le fichier .env"))
    return found


def _private_file(topic: str, path: Path, what: str) -> Finding:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        return wrong(
            topic, f"{what} ({path}) est lisible par d'autres comptes ({mode:o}) : chmod 600"
        )
    return ok(topic, f"{what} ({path}) n'est lisible que par son propriétaire")


def _tls(settings: Settings) -> list[Finding]:
    cert, key = settings.tls_cert, settings.tls_key
    if cert is None and key is None:
        if settings.trusted_proxies:
            return [ok("TLS", "assuré par le proxy inverse (VIGIE_TRUSTED_PROXIES)")]
        return [
            wrong(
                "TLS",
                "ni certificat (VIGIE_TLS_CERT, VIGIE_TLS_KEY) ni proxy inverse de confiance "
                "(VIGIE_TRUSTED_PROXIES) : mots de passe et jetons circuleraient en clair",
            )
        ]
    if cert is None or key is None:
        return [wrong("TLS", "VIGIE_TLS_CERT et VIGIE_TLS_KEY vont ensemble : donnez les deux")]
    for path in (cert, key):
        if not path.is_file():
            return [wrong("TLS", f"{path} n'existe pas ou n'est pas un fichier")]
    return [_certificate_file(cert), _private_file("TLS", key, "la clé privée TLS")]


def _certificate_file(path: Path) -> Finding:
    from cryptography import x509

    try:
        certificate = x509.load_pem_x509_certificate(path.read_bytes())
    except (ValueError, OSError) as error:
        return wrong("TLS", f"{path} n'est pas un certificat PEM lisible ({error})")
    return _expiry(certificate.not_valid_after_utc, str(path))


def _expiry(end: datetime, what: str) -> Finding:
    days = (end - datetime.now(UTC)).days
    when = end.strftime("%d/%m/%Y")
    if days < 0:
        return wrong("TLS", f"le certificat {what} a expiré le {when}")
    if days < EXPIRY_WARNING_DAYS:
        return wrong("TLS", f"le certificat {what} expire dans {number(days)} jours ({when})")
    return ok("TLS", f"certificat {what} valable jusqu'au {when}")


def _proxies(settings: Settings) -> list[Finding]:
    if not settings.trusted_proxies:
        return [
            ok(
                "proxys de confiance",
                "aucun : l'adresse du client est celle de la connexion, X-Forwarded-For ignoré",
            )
        ]
    found = []
    for text in settings.trusted_proxies:
        network = ipaddress.ip_network(text)
        if network.prefixlen < BROAD_PREFIX[network.version]:
            found.append(
                wrong(
                    "proxys de confiance",
                    f"{network} est un réseau trop large : tout poste de ce réseau pourrait "
                    "choisir l'adresse que le journal d'audit et la limite de connexions voient",
                )
            )
    if not found:
        listed = ", ".join(settings.trusted_proxies)
        found.append(ok("proxys de confiance", f"X-Forwarded-For cru de {listed} seulement"))
    return found


def _size(n_bytes: int) -> str:
    """``1 Mio``, ``512 Kio``: the body limit as an administrator writes it."""
    if n_bytes >= 1024 * 1024:
        return f"{number(n_bytes / 1024 / 1024, 1, trim=True)} Mio"
    return f"{number(n_bytes / 1024, 1, trim=True)} Kio"


def _bodies(settings: Settings) -> list[Finding]:
    seconds = number(settings.body_timeout_seconds, 1, trim=True)
    text = f"{_size(settings.max_body_bytes)} au plus, reçus en {seconds} s"
    if settings.max_body_bytes > DEFAULT_BODY_BYTES:
        return [wrong("corps de requête", f"{text} : plus que le 1 Mio dont l'API a besoin")]
    if settings.body_timeout_seconds > 30:
        return [wrong("corps de requête", f"{text} : un client lent garde sa connexion longtemps")]
    return [ok("corps de requête", text)]


def _browsers(settings: Settings) -> list[Finding]:
    found = []
    if "*" in settings.cors_origins:
        found.append(wrong("navigateurs", "VIGIE_CORS_ORIGINS ouvre l'API à toute origine (*)"))
    for origin in settings.cors_origins:
        if origin.startswith("http://"):
            found.append(wrong("navigateurs", f"origine CORS en clair : {origin}"))
    if settings.map_tile_url.startswith("http://"):
        found.append(wrong("navigateurs", "fond de carte en clair (VIGIE_MAP_TILE_URL en http://)"))
    return found


def _pictures() -> Finding:
    from supervision import jpeg

    if jpeg.backend() == "libturbojpeg":
        return ok("images", "instantanés décodés en une passe (libturbojpeg)")
    return wrong(
        "images",
        "libturbojpeg absente : chaque instantané est décodé deux fois, gris puis couleur "
        "(environ 40 % de CPU de plus pour le décodage) ; installez le paquet Debian libturbojpeg0",
    )


def _database(settings: Settings) -> list[Finding]:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    from vigie import db
    from vigie.errors import DatabaseError

    found = []
    if settings.database_echo:
        found.append(
            wrong("base de données", "VIGIE_DATABASE_ECHO écrit chaque requête SQL au journal")
        )
    sqlite_file = (
        make_url(settings.db_url).database if settings.db_url.startswith("sqlite") else None
    )
    if sqlite_file and not Path(sqlite_file).is_file():  # connecting would create it
        found.append(
            wrong("base de données", f"{sqlite_file} n'existe pas : `vigie db upgrade` la crée")
        )
        return [*found, _backups(settings)]
    engine = db.make_engine(settings.db_url)
    try:
        db.require_current_schema(engine)
        found.append(ok("base de données", f"{db._safe_url(settings.db_url)} à jour"))
    except (SQLAlchemyError, DatabaseError) as error:
        found.append(wrong("base de données", f"{db._safe_url(settings.db_url)} : {error}"))
    finally:
        engine.dispose()
    return [*found, _backups(settings)]


def _backups(settings: Settings) -> Finding:
    how = (
        "sqlite3 vigie.db '.backup ...'"
        if settings.db_url.startswith("sqlite")
        else "pg_dump, ou la sauvegarde continue du serveur"
    )
    return by_hand(
        "sauvegardes",
        f"une sauvegarde régulière et restaurée à l'essai ({how}), "
        "les clés gardées ailleurs que les sauvegardes",
    )


def _retention(settings: Settings) -> list[Finding]:
    return [
        ok(
            "conservation",
            f"journal d'audit {number(settings.audit_retention_days)} jours "
            f"(`vigie audit purge`), résultats de contrôle "
            f"{number(settings.observation_retention_days)} jours",
        ),
        by_hand(
            "journaux",
            "rotation et durée de conservation des journaux du service (journald, logrotate, "
            "Docker)",
        ),
    ]


def _notifications(settings: Settings) -> list[Finding]:
    """The escalation channels: configured, protected, and able to reach what the rules ask."""
    from urllib.parse import urlsplit

    from vigie.settings import is_loopback

    topic = "notifications"
    found = []
    host = settings.notify_smtp_host
    if host:
        where = f"{host}:{settings.notify_smtp_port}"
        if settings.notify_smtp_security == "none" and not is_loopback(host):
            found.append(wrong(topic, f"e-mails envoyés en clair à {where} : starttls ou tls"))
        else:
            found.append(ok(topic, f"e-mails par {where} ({settings.notify_smtp_security})"))
    sms = settings.notify_sms_url
    if sms:
        parts = urlsplit(sms)
        gateway = f"{parts.scheme}://{parts.hostname}"  # never the path or a login in the URL
        if parts.scheme != "https" and not is_loopback(parts.hostname or ""):
            found.append(wrong(topic, f"passerelle SMS en clair ({gateway}) : jeton lisible"))
        else:
            found.append(ok(topic, f"SMS par {gateway}"))
    base = urlsplit(settings.notify_base_url)
    if settings.environment != "development" and is_loopback(base.hostname or ""):
        found.append(
            wrong(
                topic,
                f"les liens des messages mènent à {settings.notify_base_url} : définissez "
                "VIGIE_NOTIFY_BASE_URL (l'adresse du service vue des destinataires)",
            )
        )
    wanted = _channels_wanted(settings)
    for channel, setting, have in (
        ("email", "VIGIE_NOTIFY_SMTP_HOST", host),
        ("phone", "VIGIE_NOTIFY_SMS_URL", sms),
    ):
        rules = wanted.get(channel, [])
        if rules and not have:
            what = "des e-mails" if channel == "email" else "des SMS"
            found.append(
                wrong(
                    topic,
                    f"{len(rules)} règle(s) demandent {what} ({', '.join(rules[:3])}) mais "
                    f"{setting} n'est pas défini : ils attendraient dans la file",
                )
            )
    if not host and not sms:
        found.append(
            by_hand(
                topic,
                "ni e-mail ni SMS configurés : personne n'est prévenu hors de l'écran du centre "
                "(VIGIE_NOTIFY_SMTP_HOST, VIGIE_NOTIFY_SMS_URL)",
            )
        )
    return found


def _channels_wanted(settings: Settings) -> dict[str, list[str]]:
    """The active rules' names per recipient field they use (``email``, ``phone``); nothing
    when the database cannot be read (the database check says why)."""
    from sqlalchemy import select
    from sqlalchemy.exc import SQLAlchemyError

    from vigie import db
    from vigie.models import NotificationRule

    if settings.db_url.startswith("sqlite"):
        from sqlalchemy.engine import make_url

        file = make_url(settings.db_url).database
        if file and not Path(file).is_file():
            return {}
    engine = db.make_engine(settings.db_url)
    wanted: dict[str, list[str]] = {}
    try:
        with db.session_factory(engine)() as session:
            for rule in session.scalars(
                select(NotificationRule).where(NotificationRule.active.is_(True))
            ):
                for field in ("email", "phone"):
                    if any(r.get(field) for level in rule.levels for r in level["recipients"]):
                        wanted.setdefault(field, []).append(rule.name)
    except SQLAlchemyError:
        return {}
    finally:
        engine.dispose()
    return wanted


# --- a running service ----------------------------------------------------------------------


def check_service(url: str, *, cafile: Path | None = None, timeout: float = 10) -> list[Finding]:
    """What a running service shows from outside: health, TLS, headers, docs, body limit."""
    parts = urllib.parse.urlsplit(url.rstrip("/"))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return [wrong("service", f"{url} n'est pas une adresse http(s)://hôte[:port]")]
    context = ssl.create_default_context(cafile=str(cafile) if cafile else None)
    found: list[Finding] = []
    try:
        status, headers, body, certificate = _get(parts, "/healthz", context, timeout)
    except (OSError, http.client.HTTPException) as error:
        return [wrong("service", f"{url} ne répond pas ({_reason(error)})")]
    if status == 200 and _json(body) == {"status": "ok"}:
        found.append(ok("service", f"{url}/healthz répond ok"))
    else:
        found.append(wrong("service", f"{url}/healthz répond {status} : service ou base en panne"))
    found.append(_transport(parts, certificate))
    found.extend(_headers(parts, headers))
    try:
        docs_status = _get(parts, "/api/v1/docs", context, timeout)[0]
        refusal = _declared_gigabyte(parts, context, timeout)
    except (OSError, http.client.HTTPException) as error:
        return [*found, wrong("service", f"{url} a coupé la connexion ({_reason(error)})")]
    if docs_status == 200:
        found.append(wrong("mode", "la documentation interactive est servie (mode développement)"))
    if refusal == 413:
        found.append(ok("corps de requête", "un corps annoncé de 1 Gio est refusé d'emblée (413)"))
    else:
        found.append(
            wrong("corps de requête", f"un corps annoncé de 1 Gio n'est pas refusé ({refusal})")
        )
    return found


def _connection(
    parts: urllib.parse.SplitResult, context: ssl.SSLContext, timeout: float
) -> http.client.HTTPConnection:
    if parts.scheme == "https":
        return http.client.HTTPSConnection(
            parts.hostname, parts.port, timeout=timeout, context=context
        )
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)


def _get(
    parts: urllib.parse.SplitResult, path: str, context: ssl.SSLContext, timeout: float
) -> tuple[int, http.client.HTTPMessage, bytes, dict | None]:
    connection = _connection(parts, context, timeout)
    try:
        connection.request("GET", parts.path + path)
        response = connection.getresponse()
        body = response.read(65536)
        certificate = connection.sock.getpeercert() if parts.scheme == "https" else None
        return response.status, response.headers, body, certificate
    finally:
        connection.close()


def _declared_gigabyte(
    parts: urllib.parse.SplitResult, context: ssl.SSLContext, timeout: float
) -> int:
    """The status answered to a POST announcing 1 GiB, of which nothing is sent."""
    connection = _connection(parts, context, timeout)
    try:
        connection.putrequest("POST", parts.path + "/api/v1/auth/logout")
        connection.putheader("Content-Type", "application/json")
        connection.putheader("Content-Length", str(1024**3))
        connection.endheaders()
        try:
            return connection.getresponse().status
        except TimeoutError:
            return 0  # waited for the body: not refused
    finally:
        connection.close()


def _transport(parts: urllib.parse.SplitResult, certificate: dict | None) -> Finding:
    if parts.scheme == "https":
        if certificate and "notAfter" in certificate:
            end = datetime.fromtimestamp(ssl.cert_time_to_seconds(certificate["notAfter"]), UTC)
            return _expiry(end, f"de {parts.hostname}")
        return ok("TLS", f"{parts.hostname} présente un certificat valide")
    from vigie.settings import is_loopback

    if is_loopback(parts.hostname or ""):
        return by_hand(
            "TLS",
            f"{parts.netloc} en clair, sur la machine même : le proxy inverse doit être le "
            "seul à y accéder, et servir en https",
        )
    return wrong("TLS", f"{parts.netloc} est servi en clair (http://) sur le réseau")


def _headers(parts: urllib.parse.SplitResult, headers: http.client.HTTPMessage) -> list[Finding]:
    found = []
    expected = dict(SECURITY_HEADERS)
    if parts.scheme == "https":
        expected["strict-transport-security"] = None
    missing = [
        name
        for name, value in expected.items()
        if headers.get(name) is None or (value is not None and headers.get(name) != value)
    ]
    if missing:
        found.append(wrong("en-têtes", "absents ou différents : " + ", ".join(missing)))
    else:
        found.append(ok("en-têtes", "de sécurité présents (" + ", ".join(expected) + ")"))
    if headers.get("server"):
        found.append(wrong("en-têtes", f"Server annonce le logiciel : {headers.get('server')}"))
    return found


def _json(body: bytes) -> object:
    try:
        return json.loads(body)
    except ValueError:
        return None


def _reason(error: Exception) -> str:
    if isinstance(error, ssl.SSLCertVerificationError):
        return f"certificat refusé : {error.verify_message}"
    return str(error) or type(error).__name__


# --- the command ----------------------------------------------------------------------------


def summary(findings: list[Finding]) -> str:
    """``Bilan : 2 problèmes, 1 point à vérifier à la main, 9 points conformes.``"""
    counts = {level: sum(f.level is level for f in findings) for level in Level}

    def plural(n: int, one: str, many: str) -> str:
        return f"{number(n)} {one if n <= 1 else many}"

    return (
        "Bilan : "
        + ", ".join(
            (
                plural(counts[Level.WRONG], "problème", "problèmes"),
                plural(counts[Level.CHECK], "point à vérifier", "points à vérifier") + " à la main",
                plural(counts[Level.OK], "point conforme", "points conformes"),
            )
        )
        + "."
    )


def doctor(
    url: Annotated[
        str | None,
        typer.Option(help="A running service to ask too, e.g. https://vigie.example.fr."),
    ] = None,
    cafile: Annotated[
        Path | None,
        typer.Option(help="CA certificate (PEM) that signed the service's, if not a public one."),
    ] = None,
    env_file: Annotated[
        Path | None,
        typer.Option(help="The service's environment file, read as `vigie serve` reads .env."),
    ] = None,
) -> None:
    """Check the configuration against the production checklist (README: Security): keys, TLS,
    trusted proxies, body limits, database, backups, retention; with --url, a running service."""
    from vigie.errors import ConfigurationError
    from vigie.settings import load_settings

    findings: list[Finding] = []
    if env_file is not None:
        if not env_file.is_file():
            raise ConfigurationError(f"{env_file}: no such file")
        findings.append(_private_file("clés", env_file, "le fichier d'environnement"))
    try:
        settings = load_settings(**({"_env_file": env_file} if env_file else {}))
    except ConfigurationError as error:
        findings.append(
            wrong("réglages", f"illisibles, le service refuserait de démarrer : {error}")
        )
    else:
        findings.extend(check_settings(settings))
    if url is not None:
        findings.extend(check_service(url, cafile=cafile))
    for finding in findings:
        out.print(finding.line(), highlight=False, markup=False)
    out.print(summary(findings), highlight=False, markup=False)
    if any(f.level is Level.WRONG for f in findings):
        raise typer.Exit(1)
