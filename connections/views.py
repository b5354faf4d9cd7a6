"""Customer pages: the workspace's Salesforce connections."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from connections.selectors import connections_for_user, workspaces_for_user


@login_required
def index(request: HttpRequest) -> HttpResponse:
    """The connections of every workspace the user belongs to."""
    workspaces = workspaces_for_user(user=request.user)
    connections = connections_for_user(user=request.user)
    return render(
        request,
        "connections/index.html",
        {"workspaces": workspaces, "connections": connections},
    )
