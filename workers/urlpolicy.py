"""Which repository URLs Preflight will clone, and where they may point.

A repository URL is user input that makes a worker open a connection, so it
is checked twice: when the project is saved, and again right before each clone
(DNS can change in between). The clone then pins the addresses checked here,
so a name cannot be re-pointed between the check and the connection.

Accepted: https:// and ssh (`git@host:path`, `ssh://`). Plain http:// and
git:// carry code and tokens unencrypted, so they pass only for hosts the
operator lists in PREFLIGHT_ALLOWED_GIT_HOSTS or, for the test suite, loopback.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.conf import settings

MAX_URL_LENGTH = 500
DEFAULT_PORTS = {"https": 443, "http": 80, "ssh": 22, "git": 9418}
# Cloud instance-metadata endpoints: never a git server, always worth stealing
# from, so they stay blocked even for hosts the operator allows.
METADATA_HOSTS = frozenset({"metadata.google.internal", "metadata", "metadata.azure.internal", "instance-data"})
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(address)
    for address in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200", "169.254.170.2")
)
_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\.?$"
)
_SCP_LIKE = re.compile(r"^(?:(?P<user>[^@/:\s]+)@)?(?P<host>\[[0-9a-fA-F:.]+\]|[^@/:\s\[\]]+):(?P<path>.*)$")
_TRANSPORT_PREFIX = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*::")
_USER = re.compile(r"^[A-Za-z0-9._][A-Za-z0-9._-]*$")


class UnsafeURL(ValueError):
    """The URL is refused; the message says why and what to do instead."""


@dataclass(frozen=True)
class RepoURL:
    """A checked repository URL and the addresses its host resolved to when checked."""

    url: str  # normalised, what git is given
    scheme: str  # https, http, ssh, git
    host: str  # lower case; an IPv6 literal without brackets
    port: int
    addresses: tuple[str, ...] = field(default=())  # empty when not resolved


def check_repo_url(url: str, *, resolve: bool = True) -> str:
    """The normalised URL, or UnsafeURL saying why it is refused."""
    return parse_repo_url(url, resolve=resolve).url


def parse_repo_url(url: str, *, resolve: bool = True) -> RepoURL:
    """Check `url` against the policy; with `resolve`, also where its host points today."""
    candidate = _plain_text(url)
    if candidate.startswith("-"):
        raise UnsafeURL(
            "A repository URL cannot start with '-' (git would read it as an option). Paste the URL itself."
        )
    if _TRANSPORT_PREFIX.match(candidate):
        raise UnsafeURL(
            "Git transport helpers (`ext::`, `fd::` and other `name::` forms) are not allowed: they run commands. "
            "Use an https:// or ssh URL."
        )
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in candidate):
        raise UnsafeURL("The URL contains spaces or control characters; paste the repository's clone URL as is.")
    if "://" in candidate:
        parsed = _parse_with_scheme(candidate)
    elif _looks_local(candidate):
        raise UnsafeURL("Local paths are not allowed; Preflight clones from a git server. Use an https:// or ssh URL.")
    else:
        parsed = _parse_scp_like(candidate)
    _check_host_name(parsed)
    if resolve:
        parsed = _resolved(parsed)
    else:
        literal = _literal_address(parsed.host)
        if literal is not None:
            _check_addresses(parsed, [literal])
        elif parsed.host in {"localhost", "localhost."} and not _loopback_allowed():
            raise UnsafeURL(_private_message(parsed.host))
    return parsed


def _plain_text(url: str) -> str:
    if not isinstance(url, str) or not url.strip():
        raise UnsafeURL("Enter the repository's URL, for example https://github.com/owner/repo.git.")
    candidate = url.strip()
    if len(candidate) > MAX_URL_LENGTH:
        raise UnsafeURL(f"The URL is longer than {MAX_URL_LENGTH} characters; paste the repository's clone URL.")
    return candidate


def _looks_local(candidate: str) -> bool:
    # git treats anything with a slash before the first colon as a local path.
    head = candidate.split(":", 1)[0]
    return (
        ":" not in candidate
        or "/" in head
        or "\\" in head
        or candidate.startswith(("/", ".", "~"))
        or re.match(r"^[A-Za-z]:[\\/]", candidate) is not None
    )


def _parse_with_scheme(candidate: str) -> RepoURL:
    scheme = candidate.split("://", 1)[0].lower()
    if scheme == "file":
        raise UnsafeURL("file:// URLs read the worker's own disk and are not allowed. Use an https:// or ssh URL.")
    if scheme not in DEFAULT_PORTS:
        raise UnsafeURL(f"The {scheme}:// transport is not supported. Use an https:// or ssh URL.")
    try:
        parts = urlsplit(candidate)
        port = parts.port
    except ValueError:
        raise UnsafeURL("The URL is malformed (check the host and port). Paste the repository's clone URL.") from None
    if parts.query or parts.fragment:
        raise UnsafeURL("Remove the '?' or '#' part: a clone URL has neither.")
    if parts.password is not None or (parts.username is not None and scheme != "ssh"):
        raise UnsafeURL(
            "The URL contains a user name or token. Remove it from the URL and put the token in the "
            "project's access token field: it is stored encrypted and never shown in a URL."
        )
    if parts.username is not None and not _USER.match(parts.username):
        raise UnsafeURL("The ssh user name in the URL is not valid (letters, digits, '.', '_' and '-' only).")
    host = (parts.hostname or "").lower()
    if not host:
        raise UnsafeURL("The URL has no host name. Use the form https://host/owner/repo.git.")
    path = parts.path
    if not path.strip("/"):
        raise UnsafeURL("The URL has no repository path. Use the form https://host/owner/repo.git.")
    _check_path(path)
    netloc = _bracketed(host) + (f":{port}" if port is not None else "")
    if parts.username:
        netloc = f"{parts.username}@{netloc}"
    return RepoURL(url=f"{scheme}://{netloc}{path}", scheme=scheme, host=host, port=port or DEFAULT_PORTS[scheme])


def _parse_scp_like(candidate: str) -> RepoURL:
    match = _SCP_LIKE.match(candidate)
    if match is None:
        raise UnsafeURL(
            "The URL is not a recognised git URL. Use https://host/owner/repo.git or git@host:owner/repo.git."
        )
    user, host, path = match.group("user"), match.group("host").lower(), match.group("path")
    if user is not None and not _USER.match(user):
        raise UnsafeURL("The ssh user name in the URL is not valid (letters, digits, '.', '_' and '-' only).")
    if not path.strip("/"):
        raise UnsafeURL("The URL has no repository path. Use the form git@host:owner/repo.git.")
    _check_path(path)
    host = host.strip("[]")
    prefix = f"{user}@" if user else ""
    return RepoURL(url=f"{prefix}{_bracketed(host)}:{path}", scheme="ssh", host=host, port=DEFAULT_PORTS["ssh"])


def _check_path(path: str) -> None:
    if path.lstrip("/").startswith("-"):
        raise UnsafeURL("A repository path cannot start with '-' (git would read it as an option).")
    if "%00" in path:
        raise UnsafeURL("The URL's path contains an encoded NUL byte.")


def _check_host_name(parsed: RepoURL) -> None:
    host = parsed.host
    if host.startswith("-"):
        raise UnsafeURL("A host name cannot start with '-' (ssh would read it as an option).")
    if _literal_address(host) is None and not _HOSTNAME.match(host):
        raise UnsafeURL(f"'{host}' is not a valid host name.")
    if host.rstrip(".") in METADATA_HOSTS:
        raise UnsafeURL(f"'{host}' is a cloud metadata service, not a git server; it is always blocked.")
    if parsed.scheme in ("http", "git") and not (_operator_allowed(parsed) or _loopback_allowed()):
        raise UnsafeURL(_unencrypted_message(parsed))


def _resolved(parsed: RepoURL) -> RepoURL:
    literal = _literal_address(parsed.host)
    if literal is not None:
        addresses = [literal]
    else:
        try:
            infos = socket.getaddrinfo(parsed.host, parsed.port, proto=socket.IPPROTO_TCP)
        except (socket.gaierror, UnicodeError):
            raise UnsafeURL(f"The host '{parsed.host}' does not resolve. Check its spelling.") from None
        addresses = sorted({ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos}, key=str)
        if not addresses:
            raise UnsafeURL(f"The host '{parsed.host}' does not resolve. Check its spelling.")
    _check_addresses(parsed, addresses)
    # Unencrypted transports pass for allowed hosts and loopback only (the test suite's git servers).
    loopback = all(_unmapped(address).is_loopback for address in addresses)
    if parsed.scheme in ("http", "git") and not _operator_allowed(parsed) and not loopback:
        raise UnsafeURL(_unencrypted_message(parsed))
    return RepoURL(
        url=parsed.url,
        scheme=parsed.scheme,
        host=parsed.host,
        port=parsed.port,
        addresses=tuple(str(address) for address in addresses),
    )


def _check_addresses(parsed: RepoURL, addresses: list) -> None:
    allowed = _operator_allowed(parsed)
    for address in addresses:
        address = _unmapped(address)
        if address in METADATA_ADDRESSES:
            raise UnsafeURL(f"'{parsed.host}' points to a cloud metadata service; it is always blocked.")
        if allowed or address.is_global:
            continue
        if address.is_loopback and _loopback_allowed():
            continue
        raise UnsafeURL(_private_message(parsed.host))


def _unencrypted_message(parsed: RepoURL) -> str:
    return (
        f"{parsed.scheme}:// sends code (and any token) unencrypted. Use the https:// or ssh URL of the "
        "repository; an operator can allow the host with PREFLIGHT_ALLOWED_GIT_HOSTS."
    )


def _private_message(host: str) -> str:
    return (
        f"'{host}' points to a loopback, private or link-local address, which workers may not reach. "
        "Use the repository's public URL; an operator can allow an internal git server with "
        "PREFLIGHT_ALLOWED_GIT_HOSTS."
    )


def _literal_address(host: str):
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _unmapped(address):
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped if mapped is not None else address


def _bracketed(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _operator_allowed(parsed: RepoURL) -> bool:
    allowed = {entry.strip().lower() for entry in settings.ALLOWED_GIT_HOSTS if entry.strip()}
    return parsed.host in allowed or f"{_bracketed(parsed.host)}:{parsed.port}" in allowed


def _loopback_allowed() -> bool:
    return bool(settings.ALLOW_LOOPBACK_GIT)
