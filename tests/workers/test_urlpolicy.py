"""The repository URL policy: a table of accepted and refused URLs, with the reason the user reads."""

from __future__ import annotations

import socket

import pytest

from workers.urlpolicy import UnsafeURL, check_repo_url, parse_repo_url

ACCEPTED = [
    ("https://github.com/pallets/flask.git", "https://github.com/pallets/flask.git"),
    ("https://github.com/pallets/flask", "https://github.com/pallets/flask"),
    ("  https://GitHub.com/pallets/flask.git  ", "https://github.com/pallets/flask.git"),
    ("HTTPS://gitlab.com/group/sub/project.git", "https://gitlab.com/group/sub/project.git"),
    ("https://git.example.com:8443/team/app.git", "https://git.example.com:8443/team/app.git"),
    ("git@github.com:pallets/flask.git", "git@github.com:pallets/flask.git"),
    ("github.com:pallets/flask.git", "github.com:pallets/flask.git"),
    ("ssh://git@github.com/pallets/flask.git", "ssh://git@github.com/pallets/flask.git"),
    ("ssh://git@ssh.github.com:443/pallets/flask.git", "ssh://git@ssh.github.com:443/pallets/flask.git"),
    ("git@bitbucket.org:team/repo.git", "git@bitbucket.org:team/repo.git"),
    ("https://140.82.112.3/owner/repo.git", "https://140.82.112.3/owner/repo.git"),
]

REFUSED = [
    ("", "Enter the repository's URL"),
    ("file:///etc/passwd", "file:// URLs read the worker's own disk"),
    ("/srv/git/repo.git", "Local paths are not allowed"),
    ("./repo", "Local paths are not allowed"),
    ("../../etc", "Local paths are not allowed"),
    ("~/repo.git", "Local paths are not allowed"),
    ("repo", "Local paths are not allowed"),
    ("C:\\repos\\app", "Local paths are not allowed"),
    ("ext::sh -c touch% /tmp/pwned", "transport helpers"),
    ("ext::ssh -oProxyCommand=x", "transport helpers"),
    ("fd::17", "transport helpers"),
    ("--upload-pack=touch /tmp/pwned", "cannot start with '-'"),
    ("-oProxyCommand=touch /tmp/x:repo", "cannot start with '-'"),
    ("ssh://-oProxyCommand=touch%20x/repo.git", "cannot start with '-'"),
    ("git@-oProxyCommand=x:repo.git", "cannot start with '-'"),
    ("https://github.com/--upload-pack=x", "path cannot start with '-'"),
    ("git@github.com:-x/repo.git", "path cannot start with '-'"),
    ("https://user:ghp_secret@github.com/o/r.git", "put the token in the project's access token field"),
    ("https://ghp_secret@github.com/o/r.git", "put the token in the project's access token field"),
    ("ssh://git:hunter2@github.com/o/r.git", "put the token in the project's access token field"),
    ("ftp://example.com/repo.git", "ftp:// transport is not supported"),
    ("rsync://example.com/repo.git", "rsync:// transport is not supported"),
    ("http://github.com/pallets/flask.git", "sends code (and any token) unencrypted"),
    ("git://github.com/pallets/flask.git", "sends code (and any token) unencrypted"),
    ("https://github.com/o/r.git?ref=main", "Remove the '?' or '#' part"),
    ("https://github.com/", "no repository path"),
    ("https://github.com/o/r.git\n--upload-pack=x", "spaces or control characters"),
    ("https://127.0.0.1/o/r.git", "loopback, private or link-local"),
    ("https://localhost/o/r.git", "loopback, private or link-local"),
    ("https://10.0.0.8/o/r.git", "loopback, private or link-local"),
    ("https://192.168.1.20/o/r.git", "loopback, private or link-local"),
    ("https://[::1]/o/r.git", "loopback, private or link-local"),
    ("https://[::ffff:127.0.0.1]/o/r.git", "loopback, private or link-local"),
    ("https://169.254.169.254/latest/meta-data", "cloud metadata service"),
    ("https://[fd00:ec2::254]/latest", "cloud metadata service"),
    ("https://100.100.100.200/latest", "cloud metadata service"),
    ("https://metadata.google.internal/computeMetadata/v1", "cloud metadata service"),
    ("https://internal.example.com/o/r.git", "loopback, private or link-local"),
    ("git@internal.example.com:o/r.git", "loopback, private or link-local"),
    ("https://rebound.example.com/o/r.git", "cloud metadata service"),
    ("https://nowhere.invalid/o/r.git", "does not resolve"),
    ("https://exa_mple.com/o/r.git", "not a valid host name"),
]

FAKE_DNS = {
    "github.com": ["140.82.112.3"],
    "ssh.github.com": ["140.82.112.36"],
    "gitlab.com": ["172.65.251.78"],
    "bitbucket.org": ["104.192.141.1"],
    "git.example.com": ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"],
    "localhost": ["127.0.0.1", "::1"],
    "internal.example.com": ["93.184.216.34", "10.1.2.3"],
    "rebound.example.com": ["169.254.169.254"],
}


@pytest.fixture(autouse=True)
def fake_dns(monkeypatch, settings):
    settings.ALLOW_LOOPBACK_GIT = False
    settings.ALLOWED_GIT_HOSTS = []

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in FAKE_DNS:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [
            (socket.AF_INET6 if ":" in address else socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))
            for address in FAKE_DNS[host]
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.mark.parametrize(("url", "normalised"), ACCEPTED)
def test_it_accepts_https_and_ssh_urls(url, normalised):
    assert check_repo_url(url) == normalised


@pytest.mark.parametrize(("url", "reason"), REFUSED)
def test_it_refuses_with_a_reason(url, reason):
    with pytest.raises(UnsafeURL) as refused:
        check_repo_url(url)
    assert reason in str(refused.value)


def test_it_checks_every_address_a_name_resolves_to():
    assert parse_repo_url("https://git.example.com/o/r.git").addresses == (
        "2606:2800:220:1:248:1893:25c8:1946",
        "93.184.216.34",
    )
    with pytest.raises(UnsafeURL, match="private"):
        check_repo_url("https://internal.example.com/o/r.git")


def test_it_lets_the_operator_allow_an_internal_git_server(settings):
    settings.ALLOWED_GIT_HOSTS = ["internal.example.com", "10.0.0.8:8443"]

    assert check_repo_url("https://internal.example.com/o/r.git") == "https://internal.example.com/o/r.git"
    assert check_repo_url("git@internal.example.com:o/r.git") == "git@internal.example.com:o/r.git"
    assert check_repo_url("http://internal.example.com/o/r.git") == "http://internal.example.com/o/r.git"
    assert check_repo_url("https://10.0.0.8:8443/o/r.git") == "https://10.0.0.8:8443/o/r.git"
    with pytest.raises(UnsafeURL, match="private"):
        check_repo_url("https://10.0.0.8/o/r.git")


def test_it_never_allows_cloud_metadata_even_for_allowed_hosts(settings):
    settings.ALLOWED_GIT_HOSTS = ["rebound.example.com", "169.254.169.254"]

    for url in ("https://rebound.example.com/o/r.git", "https://169.254.169.254/o/r.git"):
        with pytest.raises(UnsafeURL, match="cloud metadata"):
            check_repo_url(url)


def test_it_allows_loopback_only_when_the_test_setting_says_so(settings):
    settings.ALLOW_LOOPBACK_GIT = True

    assert check_repo_url("git://127.0.0.1:9418/repo.git") == "git://127.0.0.1:9418/repo.git"
    assert check_repo_url("http://localhost:8080/repo.git") == "http://localhost:8080/repo.git"
    assert check_repo_url("ssh://git@127.0.0.1:2222/repo.git") == "ssh://git@127.0.0.1:2222/repo.git"
    with pytest.raises(UnsafeURL, match="private"):
        check_repo_url("https://10.0.0.8/o/r.git")
    with pytest.raises(UnsafeURL, match="unencrypted"):
        check_repo_url("http://github.com/o/r.git")


def test_it_checks_literal_addresses_without_resolving_names():
    assert check_repo_url("https://no-dns-needed.example/o/r.git", resolve=False) == (
        "https://no-dns-needed.example/o/r.git"
    )
    for url in ("https://127.0.0.1/o/r.git", "https://localhost/o/r.git", "https://169.254.169.254/x"):
        with pytest.raises(UnsafeURL):
            check_repo_url(url, resolve=False)
