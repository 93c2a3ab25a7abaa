"""People and teams: the first-run set-up, team creation, invite links, roles and removals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core import signing
from django.db import connection, transaction
from django.utils import timezone

from dashboard.models import Invite, Membership, Role, Team

INVITE_LIFETIME = timedelta(days=7)
_INVITE_SALT = "dashboard.invite"
# Any fixed number: it only has to be the same for every process that runs the set-up.
_SETUP_LOCK = 0x50524546


class SetupClosed(Exception):
    """Someone else finished the first-run set-up first."""


class LastOwner(Exception):
    """The change would leave the team without an owner."""


def setup_open() -> bool:
    return not get_user_model().objects.exists()


def create_first_admin(*, username: str, email: str, password: str, team_name: str):
    """Create the administrator and the first team, unless any account exists by then."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # Two visitors submitting the form at once must not both become the first admin.
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_SETUP_LOCK])
        if not setup_open():
            raise SetupClosed
        user = get_user_model().objects.create_superuser(username=username, email=email, password=password)
        create_team(user, team_name)
    return user


def create_team(user, name: str) -> Team:
    with transaction.atomic():
        team = Team.objects.create(name=name)
        Membership.objects.create(user=user, team=team, role=Role.OWNER)
    return team


# -- Invites ---------------------------------------------------------------------------------------


def create_invite(team: Team, role: str, created_by, email: str = "") -> Invite:
    return Invite.objects.create(
        team=team, role=role, email=email, created_by=created_by, expires_at=timezone.now() + INVITE_LIFETIME
    )


def invite_token(invite: Invite) -> str:
    """The signed nonce the link carries; without SECRET_KEY a leaked nonce is not a link."""
    return signing.Signer(salt=_INVITE_SALT).sign(invite.nonce)


@dataclass
class InviteCheck:
    invite: Invite | None
    problem: str = ""  # empty when the invite can be claimed
    status: int = 200  # the page's status: 400 for a tampered link, 410 for one that was good once

    @property
    def ok(self) -> bool:
        return not self.problem


def check_invite(token: str) -> InviteCheck:
    try:
        nonce = signing.Signer(salt=_INVITE_SALT).unsign(token)
    except signing.BadSignature:
        return InviteCheck(None, "This invite link is not valid. Check that you copied all of it.", 400)
    invite = Invite.objects.select_related("team").filter(nonce=nonce).first()
    if invite is None:
        return InviteCheck(None, "This invite was revoked. Ask a team owner for a new link.", 410)
    if invite.used_at is not None:
        return InviteCheck(invite, "This invite has already been used. Ask a team owner for a new link.", 410)
    if invite.expires_at <= timezone.now():
        return InviteCheck(invite, "This invite has expired. Ask a team owner for a new link.", 410)
    return InviteCheck(invite)


def claim_invite(invite: Invite, user) -> bool:
    """Use the invite for `user`: False when it was used, revoked or expired meanwhile.

    The conditional UPDATE is the claim: of two simultaneous visits exactly one
    changes the row.
    """
    now = timezone.now()
    with transaction.atomic():
        claimed = Invite.objects.filter(pk=invite.pk, used_at__isnull=True, expires_at__gt=now).update(
            used_at=now, used_by=user
        )
        if not claimed:
            return False
        Membership.objects.get_or_create(user=user, team_id=invite.team_id, defaults={"role": invite.role})
    return True


def sign_up_with_invite(invite: Invite, *, username: str, email: str, password: str):
    """Create the account and its membership, or nothing at all when the invite is gone."""
    with transaction.atomic():
        user = get_user_model().objects.create_user(username=username, email=email, password=password)
        if not claim_invite(invite, user):
            transaction.set_rollback(True)
            return None
    return user


def pending_invites(team: Team) -> list[Invite]:
    return list(
        Invite.objects.filter(team=team, used_at__isnull=True, expires_at__gt=timezone.now()).order_by("-created_at")
    )


# -- Members ---------------------------------------------------------------------------------------


def _other_owners(membership: Membership) -> bool:
    # Locking the team's owner rows serialises concurrent demotions (Postgres), so two
    # owners demoting each other at once cannot leave the team without one.
    owners = Membership.objects.select_for_update().filter(team_id=membership.team_id, role=Role.OWNER)
    return any(pk != membership.pk for pk in owners.values_list("pk", flat=True))


def change_role(membership: Membership, role: str) -> None:
    with transaction.atomic():
        if membership.role == Role.OWNER and role != Role.OWNER and not _other_owners(membership):
            raise LastOwner
        Membership.objects.filter(pk=membership.pk).update(role=role)
    membership.role = role


def remove_member(membership: Membership) -> None:
    with transaction.atomic():
        if membership.role == Role.OWNER and not _other_owners(membership):
            raise LastOwner
        membership.delete()
