"""Customer pages for audiences and CSV lists."""

from django.urls import path

from audiences import views

app_name = "audiences"

urlpatterns = [
    path("", views.audience_list, name="list"),
    path("new/", views.audience_new, name="new"),
    path("estimate/", views.audience_estimate, name="estimate"),
    path("values/", views.field_values_search, name="values"),
    path("gate/<int:pk>/", views.connection_gate_status, name="gate"),
    path("<int:pk>/", views.audience_detail, name="detail"),
    path("<int:pk>/edit/", views.audience_edit, name="edit"),
    path("<int:pk>/run/", views.audience_run, name="run"),
    path("<int:pk>/archive/", views.audience_archive, name="archive"),
    path("<int:pk>/export.csv", views.audience_export, name="export"),
    path("lists/", views.csv_lists, name="csv_lists"),
    path("lists/sample-<str:kind>.csv", views.csv_sample, name="csv_sample"),
    path("lists/<int:pk>/", views.csv_list_detail, name="csv_list"),
    path("lists/<int:pk>/retry/", views.csv_list_retry, name="csv_list_retry"),
    path("lists/<int:pk>/delete/", views.csv_list_delete, name="csv_list_delete"),
    path("lists/<int:pk>/invalid.csv", views.csv_list_invalid, name="csv_list_invalid"),
    path(
        "lists/<int:pk>/unmatched-<int:connection_pk>.csv",
        views.csv_list_unmatched,
        name="csv_list_unmatched",
    ),
]
