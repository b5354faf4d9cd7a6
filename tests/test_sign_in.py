"""Sign-in with email and password (django-allauth), for staff and customers."""

from connections.models import Workspace
from tests.conftest import PASSWORD


def test_the_login_page_renders_in_the_site_layout(client, db):
    page = client.get("/accounts/login/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "primer_sf" in html
    assert 'name="login"' in html
    assert 'name="password"' in html


def test_a_customer_signs_in_with_email_and_password(client, user):
    response = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/connections/"
    assert client.get("/connections/").status_code == 200


def test_a_wrong_password_is_refused_with_a_message(client, user):
    response = client.post("/accounts/login/", {"login": user.email, "password": "wrong"})
    assert response.status_code == 200
    assert "not correct" in response.content.decode()
    assert client.get("/connections/").status_code == 302


def test_staff_sign_in_reaches_the_admin(client, staff_user):
    client.post("/accounts/login/", {"login": staff_user.email, "password": PASSWORD})
    assert client.get("/admin/").status_code == 200


def test_signing_up_creates_a_workspace_for_the_new_customer(client, db):
    response = client.post(
        "/accounts/signup/",
        {"email": "new@initech.example", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 302
    workspace = Workspace.objects.get()
    assert [m.email for m in workspace.members.all()] == ["new@initech.example"]


def test_sign_up_can_be_closed(client, db, settings):
    settings.ACCOUNT_ALLOW_SIGNUP = False
    page = client.get("/accounts/signup/")
    assert "closed" in page.content.decode().lower()


def test_pages_require_sign_in(client, db):
    response = client.get("/connections/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
