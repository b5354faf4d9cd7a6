"""Customer pages for alerts."""

from django.urls import path

from alerts import views

app_name = "alerts"

urlpatterns = [
    path("", views.alert_list, name="list"),
    path("w/<slug:slug>/email/", views.alert_email_setting, name="email"),
]
