"""The demo: a staff user and a customer workspace to sign in with."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from connections.models import Workspace
from connections.services import workspace_add_member, workspace_create

STAFF_EMAIL = "ops@example.com"
CUSTOMER_EMAIL = "demo@example.com"
PASSWORD = "primer-demo"


def _user(email: str, *, staff: bool):
    user, created = get_user_model().objects.get_or_create(
        username=email, defaults={"email": email, "is_staff": staff, "is_superuser": staff}
    )
    if created:
        user.set_password(PASSWORD)
        user.save()
    return user


class Command(BaseCommand):
    help = "Set up the demo: a staff user, a customer and their workspace."

    def handle(self, *args, **options) -> None:
        staff = _user(STAFF_EMAIL, staff=True)
        customer = _user(CUSTOMER_EMAIL, staff=False)
        workspace = Workspace.objects.filter(slug="demo").first()
        if workspace is None:
            workspace = workspace_create(name="Demo", owner=customer)
            Workspace.objects.filter(pk=workspace.pk).update(slug="demo")
        workspace_add_member(workspace=workspace, user=staff)
        self.stdout.write(self.style.SUCCESS("Demo ready."))
        self.stdout.write(
            "Start the site with `make run`, open http://127.0.0.1:8000/ and sign in:\n"
            f"  ops (admin):  {STAFF_EMAIL} / {PASSWORD}   -> http://127.0.0.1:8000/admin/\n"
            f"  customer:     {CUSTOMER_EMAIL} / {PASSWORD}   -> http://127.0.0.1:8000/connections/"
        )
