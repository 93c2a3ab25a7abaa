"""The project form: the repository, how to reach it, the Railway service settings, schedule and recipients.

Every error says what to enter instead. Secrets (a token, a deploy key) are
never rendered back: the edit form says one is stored and keeps it when left empty.
"""

from __future__ import annotations

import posixpath
import re

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from dashboard.models import AuthKind, Schedule

_VARIABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SEPARATORS = re.compile(r"[\s,]+")
# git check-ref-format, the parts a user can get wrong when typing a branch name.
_BAD_BRANCH = re.compile(r"\.\.|@\{|[\x00-\x20\x7f~^:?*\[\\]|^[-/.]|/$|\.lock$|\.$|//")


def _lines(value: str) -> list[str]:
    return [item for item in _SEPARATORS.split(value or "") if item]


def _is_ssh(url: str) -> bool:
    return url.startswith("ssh://") or "://" not in url


FIELDSETS = (
    ("Repository", ("name", "repo_url", "branch", "app_root")),
    ("Access", ("auth_kind", "token", "private_key")),
    (
        "Railway service settings",
        ("start_command", "pre_deploy_command", "variables", "volume_mount_path", "worker_service"),
    ),
    ("Schedule and reports", ("schedule", "cron", "recipients")),
)
# Shown only with the matching choice when scripts run; always present without them.
SHOW_WHEN = {"token": "auth_kind=token", "private_key": "auth_kind=ssh_key", "cron": "schedule=cron"}


class ProjectForm(forms.Form):
    name = forms.CharField(max_length=100, required=False, help_text="Leave empty to use the repository's name.")
    repo_url = forms.CharField(
        label="Repository URL",
        max_length=500,
        help_text="https://github.com/owner/repo.git, or git@github.com:owner/repo.git with a deploy key.",
    )
    branch = forms.CharField(
        max_length=200, required=False, help_text="Leave empty for the repository's default branch."
    )
    app_root = forms.CharField(
        label="App root",
        max_length=300,
        required=False,
        help_text="The folder Railway deploys, relative to the repository root (e.g. services/web). Empty: the root.",
    )
    auth_kind = forms.ChoiceField(
        label="How Preflight reaches the repository",
        choices=AuthKind.choices,
        initial=AuthKind.NONE,
        widget=forms.RadioSelect,
    )
    token = forms.CharField(
        label="HTTPS access token",
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="A read-only token (GitHub fine-grained token, GitLab project access token). Stored encrypted.",
    )
    private_key = forms.CharField(
        label="SSH deploy key (private key)",
        required=False,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 4, "autocomplete": "off", "spellcheck": "false"}),
        help_text="The private half of a read-only deploy key, without a passphrase. Stored encrypted.",
    )
    start_command = forms.CharField(
        max_length=1000, required=False, help_text="The service's custom start command on Railway, if you set one."
    )
    pre_deploy_command = forms.CharField(
        label="Pre-deploy command", max_length=1000, required=False, help_text="e.g. flask db upgrade"
    )
    variables = forms.CharField(
        label="Variable names",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}),
        help_text="The names of the service's variables, one per line or comma-separated. Names only, never values.",
    )
    volume_mount_path = forms.CharField(
        max_length=300, required=False, help_text="Where a Railway volume is mounted, e.g. /data. Empty: no volume."
    )
    worker_service = forms.BooleanField(label="A separate worker service runs the background jobs", required=False)
    schedule = forms.ChoiceField(choices=Schedule.choices, initial=Schedule.DAILY)
    cron = forms.CharField(
        label="Cron expression",
        max_length=100,
        required=False,
        help_text="Only for the cron schedule: five fields in the team's timezone, e.g. 0 6 * * 1-5.",
    )
    recipients = forms.CharField(
        label="Report recipients",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="E-mail addresses outside the team that receive readiness reports, one per line.",
    )

    def __init__(self, *args, stored_auth_kind: str | None = None, **kwargs) -> None:
        """`stored_auth_kind`: the kind of the credential already stored (editing), None when none is."""
        super().__init__(*args, **kwargs)
        self.stored_auth_kind = stored_auth_kind
        if stored_auth_kind == AuthKind.TOKEN:
            self.fields["token"].help_text = "A token is stored; leave empty to keep it."
        elif stored_auth_kind == AuthKind.SSH_KEY:
            self.fields["private_key"].help_text = "A deploy key is stored; leave empty to keep it."

    def fieldsets(self) -> list[tuple[str, list[tuple[forms.BoundField, str]]]]:
        return [(title, [(self[name], SHOW_WHEN.get(name, "")) for name in names]) for title, names in FIELDSETS]

    def clean_repo_url(self) -> str:
        from workers.urlpolicy import UnsafeURL, check_repo_url

        try:
            return check_repo_url(self.cleaned_data["repo_url"])
        except UnsafeURL as refused:
            raise ValidationError(str(refused)) from None

    def clean_branch(self) -> str:
        branch = self.cleaned_data["branch"]
        if branch.startswith("refs/heads/"):
            branch = branch.removeprefix("refs/heads/")
        if branch and _BAD_BRANCH.search(branch):
            raise ValidationError(
                "That is not a valid branch name (no spaces, '..', '~', '^', ':', '?', '*', '[' or a leading '-'). "
                "Enter the branch as git shows it, e.g. main, or leave it empty for the default branch."
            )
        return branch

    def clean_app_root(self) -> str:
        raw = self.cleaned_data["app_root"].replace("\\", "/")
        if raw.startswith("/") or re.match(r"^[A-Za-z]:", raw):
            raise ValidationError(
                "Enter the app root relative to the repository root (e.g. services/web), not an absolute path."
            )
        if ".." in raw.split("/"):
            raise ValidationError("The app root must stay inside the repository: remove the '..'.")
        normal = posixpath.normpath(raw) if raw else "."
        return "." if normal in ("", ".") else normal

    def clean_variables(self) -> list[str]:
        names: list[str] = []
        for item in _lines(self.cleaned_data["variables"]):
            if "=" in item:
                name = item.split("=", 1)[0]
                # The value is left out of the message on purpose: it may be a secret.
                raise ValidationError(
                    f"Enter variable names only, not values: keep `{name}` and remove what follows '='."
                )
            if not _VARIABLE_NAME.match(item):
                raise ValidationError(
                    f"`{item}` is not a variable name: use letters, digits and underscores, not starting with a digit."
                )
            if item not in names:
                names.append(item)
        return names

    def clean_volume_mount_path(self) -> str:
        path = self.cleaned_data["volume_mount_path"]
        if not path:
            return ""
        if not path.startswith("/"):
            raise ValidationError("Enter the volume's mount path as an absolute path, e.g. /data.")
        if ".." in path.split("/"):
            raise ValidationError("Enter the mount path without '..', e.g. /data.")
        return posixpath.normpath(path)

    def clean_recipients(self) -> str:
        addresses: list[str] = []
        for address in _lines(self.cleaned_data["recipients"]):
            try:
                validate_email(address)
            except ValidationError:
                raise ValidationError(f"'{address}' is not an e-mail address. Enter one address per line.") from None
            if address.lower() not in (known.lower() for known in addresses):
                addresses.append(address)
        return "\n".join(addresses)

    def clean_private_key(self) -> str:
        key = self.cleaned_data["private_key"].replace("\r\n", "\n")
        if not key:
            return ""
        key = key.strip() + "\n"
        try:
            if "BEGIN OPENSSH PRIVATE KEY" in key:
                serialization.load_ssh_private_key(key.encode(), password=None)
            else:
                serialization.load_pem_private_key(key.encode(), password=None)
        except TypeError:
            raise ValidationError(
                "This key has a passphrase, which a worker cannot type. Create a deploy key without one "
                "(ssh-keygen -t ed25519 -N '')."
            ) from None
        except (ValueError, UnsupportedAlgorithm):
            raise ValidationError(
                "This is not a private key. Paste the whole private key file, from -----BEGIN to -----END, "
                "not the .pub file."
            ) from None
        return key

    def clean(self) -> dict:
        data = super().clean()
        schedule = data.get("schedule")
        cron = (data.get("cron") or "").strip()
        if schedule == Schedule.CRON:
            from croniter import croniter

            if not cron:
                self.add_error("cron", "Enter a cron expression for the cron schedule, e.g. 0 6 * * 1-5.")
            elif len(cron.split()) != 5 or not croniter.is_valid(cron):
                self.add_error(
                    "cron",
                    "That is not a cron expression. Use five fields: minute hour day-of-month month day-of-week, "
                    "e.g. 0 6 * * 1-5 (06:00 on weekdays).",
                )
        data["cron"] = cron if schedule == Schedule.CRON else ""
        self._clean_credential(data)
        if not data.get("name") and data.get("repo_url"):
            data["name"] = repo_name(data["repo_url"])
        return data

    def _clean_credential(self, data: dict) -> None:
        """`credential`: the new secret, "" to clear it, or None to keep the stored one."""
        kind, url = data.get("auth_kind"), data.get("repo_url")
        if kind == AuthKind.NONE:
            data["credential"] = ""
            return
        field = "token" if kind == AuthKind.TOKEN else "private_key"
        secret = data.get(field, "")
        if url and kind == AuthKind.TOKEN and _is_ssh(url):
            self.add_error(
                "repo_url", "A token works with an https:// URL. Use the https URL, or choose SSH deploy key."
            )
        if url and kind == AuthKind.SSH_KEY and not _is_ssh(url):
            self.add_error(
                "repo_url",
                "A deploy key works with an ssh URL (git@host:owner/repo.git). Use it, or choose HTTPS token.",
            )
        if secret:
            data["credential"] = secret
        elif self.stored_auth_kind == kind:
            data["credential"] = None
        elif field not in self.errors:
            what = "access token" if kind == AuthKind.TOKEN else "private deploy key"
            self.add_error(field, f"Paste the {what}, or choose Public repository.")


def repo_name(url: str) -> str:
    """`shop` for https://github.com/acme/shop.git or git@github.com:acme/shop.git."""
    tail = url.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]
    return tail.removesuffix(".git")[:100] or url[:100]
