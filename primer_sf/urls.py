"""URL routes: sign-in, the customer pages and the ops admin."""

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

admin.site.site_header = "primer_sf operations"
admin.site.site_title = "primer_sf ops"
admin.site.index_title = "Connections, syncs and records"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="connections:index"), name="home"),
    path("accounts/", include("allauth.urls")),
    path("connections/", include("connections.urls")),
    path("audiences/", include("audiences.urls")),
    path("alerts/", include("alerts.urls")),
    path("admin/", admin.site.urls),
]
