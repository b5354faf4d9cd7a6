"""Customer pages for Salesforce connections."""

from django.urls import path

from connections import views

app_name = "connections"

urlpatterns = [
    path("", views.index, name="index"),
    path("oauth/callback/", views.callback, name="callback"),
    path("w/<slug:slug>/", views.workspace_detail, name="workspace"),
    path("w/<slug:slug>/connect/", views.connect, name="connect"),
    path("<int:pk>/", views.connection_detail, name="detail"),
    path("<int:pk>/settings/", views.connection_settings, name="settings"),
    path("<int:pk>/sync/", views.connection_sync, name="sync"),
    path("<int:pk>/preflight/", views.connection_preflight, name="preflight"),
    path("<int:pk>/reconnect/", views.reconnect, name="reconnect"),
    path(
        "<int:pk>/reconnect/review/<int:candidate>/",
        views.reconnect_review,
        name="reconnect_review",
    ),
    path("<int:pk>/disconnect/", views.connection_disconnect_view, name="disconnect"),
]
