"""E-mail settings from the environment: an SMTP URL, or the EMAIL_* variables; the console on a local run."""

from __future__ import annotations

import pytest

from tests.dashboard.test_settings import _run, settings_of

NAMES = ("EMAIL_BACKEND", "EMAIL_HOST", "EMAIL_PORT", "EMAIL_HOST_USER", "EMAIL_HOST_PASSWORD", "EMAIL_USE_TLS")
SMTP = "django.core.mail.backends.smtp.EmailBackend"


def _email(tmp_path, **variables) -> dict:
    return settings_of(tmp_path, *NAMES, "EMAIL_USE_SSL", "EMAIL_TIMEOUT", PREFLIGHT_LOCAL="1", **variables)


def test_it_prints_e_mails_on_the_console_until_a_server_is_configured(tmp_path):
    found = _email(tmp_path)

    assert found["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend"
    assert found["EMAIL_TIMEOUT"] == 30


def test_it_reads_an_smtp_url(tmp_path):
    found = _email(tmp_path, EMAIL_URL="smtp://mailer:p%40ss%2Fword@mail.example.org:2525")

    assert [found[name] for name in NAMES] == [SMTP, "mail.example.org", 2525, "mailer", "p@ss/word", False]
    assert found["EMAIL_USE_SSL"] is False


@pytest.mark.parametrize(
    "url, port, tls, ssl",
    [("smtp+tls://smtp.example.org", 587, True, False), ("smtps://smtp.example.org", 465, False, True)],
)
def test_it_reads_the_tls_of_an_smtp_url_from_its_scheme(tmp_path, url, port, tls, ssl):
    found = _email(tmp_path, EMAIL_URL=url)

    assert (found["EMAIL_PORT"], found["EMAIL_USE_TLS"], found["EMAIL_USE_SSL"]) == (port, tls, ssl)


def test_it_reads_the_url_from_a_secret_file(tmp_path):
    (tmp_path / "email-url").write_text("smtp://u:secret@mail.example.org:25\n")

    found = _email(tmp_path, EMAIL_URL_FILE=str(tmp_path / "email-url"))

    assert (found["EMAIL_HOST"], found["EMAIL_HOST_PASSWORD"]) == ("mail.example.org", "secret")


def test_it_writes_e_mails_to_files_when_asked(tmp_path):
    found = settings_of(
        tmp_path, "EMAIL_BACKEND", "EMAIL_FILE_PATH", PREFLIGHT_LOCAL="1", EMAIL_URL="file:///tmp/mails"
    )

    assert found == {
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": "/tmp/mails",
    }


def test_it_still_reads_the_email_variables(tmp_path):
    found = _email(tmp_path, EMAIL_HOST="relay.internal", EMAIL_PORT="587", EMAIL_USE_TLS="true")

    assert [found[name] for name in NAMES] == [SMTP, "relay.internal", 587, "", "", True]


@pytest.mark.parametrize("url", ["smtp://", "http://mail.example.org", "smtp://mail.example.org:notaport"])
def test_it_refuses_a_malformed_url_loudly(tmp_path, url):
    result = _run(tmp_path, ["manage.py", "check"], PREFLIGHT_LOCAL="1", EMAIL_URL=url)

    assert result.returncode != 0
    assert "EMAIL_URL must look like smtp://user:password@host:port" in result.stderr
