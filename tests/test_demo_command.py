"""The demo command prepares users and a workspace, and can run twice."""

from django.contrib.auth import get_user_model
from django.core.management import call_command

from connections.models import Workspace


def test_the_demo_creates_a_staff_user_and_a_customer_workspace(db, capsys):
    call_command("demo")
    call_command("demo")
    users = get_user_model().objects
    assert users.get(email="ops@example.com").is_staff
    assert not users.get(email="demo@example.com").is_staff
    workspace = Workspace.objects.get(slug="demo")
    assert set(workspace.members.values_list("email", flat=True)) == {
        "ops@example.com",
        "demo@example.com",
    }
    assert "primer-demo" in capsys.readouterr().out
