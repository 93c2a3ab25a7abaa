"""The shared cast: alice owns the team, bob is a member, vic a viewer, charlie a stranger."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from dashboard.models import Membership, Project, Role, Team


@pytest.fixture
def team(db):
    return Team.objects.create(name="Alice's team")


def _user(name: str):
    return get_user_model().objects.create_user(name, f"{name}@example.org", "password-" + name)


@pytest.fixture
def alice(team):
    user = _user("alice")
    Membership.objects.create(user=user, team=team, role=Role.OWNER)
    return user


@pytest.fixture
def bob(team):
    user = _user("bob")
    Membership.objects.create(user=user, team=team, role=Role.MEMBER)
    return user


@pytest.fixture
def vic(team):
    user = _user("vic")
    Membership.objects.create(user=user, team=team, role=Role.VIEWER)
    return user


@pytest.fixture
def charlie(db):
    user = _user("charlie")
    Membership.objects.create(user=user, team=Team.objects.create(name="Charlie's team"), role=Role.OWNER)
    return user


@pytest.fixture
def project(team):
    return Project.objects.create(team=team, name="shop", repo_url="https://github.com/example/shop.git")
