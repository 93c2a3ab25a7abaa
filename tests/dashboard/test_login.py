from __future__ import annotations

import re

from django.core import mail
from django.utils.html import escape


def test_it_logs_in_and_lands_on_the_overview(client, alice, team):
    response = client.post("/accounts/login/", {"username": "alice", "password": "password-alice"})
    assert response["Location"] == "/"
    assert escape(team.name) in client.get("/").content.decode()


def test_it_refuses_a_wrong_password(client, alice):
    response = client.post("/accounts/login/", {"username": "alice", "password": "wrong"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()


def test_it_returns_to_the_page_asked_for(client, alice, team):
    page = f"/teams/{team.pk}/"
    login_page = client.get(page)["Location"]
    assert login_page == f"/accounts/login/?next={page}"
    response = client.post("/accounts/login/", {"username": "alice", "password": "password-alice", "next": page})
    assert response["Location"] == page


def test_it_logs_out_with_post_only(client, alice):
    client.force_login(alice)
    assert client.get("/accounts/logout/").status_code == 405
    response = client.post("/accounts/logout/")
    assert response["Location"] == "/accounts/login/"
    assert client.get("/")["Location"].startswith("/accounts/login/")


def test_it_resets_a_forgotten_password_by_email(client, alice):
    response = client.post("/accounts/password_reset/", {"email": "alice@example.org"})
    assert response["Location"] == "/accounts/password_reset/done/"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["alice@example.org"]
    assert message.subject == "Reset your Preflight password"
    link = re.search(r"http://testserver(/accounts/reset/\S+/)", message.body).group(1)

    form_page = client.get(link, follow=True)
    assert "Choose a new password" in form_page.content.decode()
    new = "a brand new passphrase"
    done = client.post(form_page.redirect_chain[-1][0], {"new_password1": new, "new_password2": new})
    assert done["Location"] == "/accounts/reset/done/"
    assert client.login(username="alice", password=new)
    assert "no longer works" in client.get(link, follow=True).content.decode()


def test_it_sends_no_reset_email_for_an_unknown_address(client, alice):
    response = client.post("/accounts/password_reset/", {"email": "nobody@example.org"})
    assert response["Location"] == "/accounts/password_reset/done/"
    assert mail.outbox == []
