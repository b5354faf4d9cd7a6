"""A confirmation page for admin actions that cost budget or stop work (like Django's
``delete_selected``): the first POST shows what will happen to which rows, the second does it.

Reference: https://docs.djangoproject.com/en/5.2/ref/contrib/admin/actions/#actions-that-provide-intermediate-pages
"""

from __future__ import annotations

from django.contrib.admin import helpers
from django.template.response import TemplateResponse


def action_confirmed(request) -> bool:
    """Whether this POST is the one from the confirmation page."""
    return request.POST.get("confirmed") == "yes"


def confirmation_page(
    modeladmin, request, queryset, *, action: str, title: str, consequence: str, button: str
) -> TemplateResponse:
    """The page asking ops to confirm ``action`` on ``queryset``."""
    opts = modeladmin.model._meta
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "consequence": consequence,
        "button": button,
        "objects": list(queryset),
        "action": action,
        "opts": opts,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "changelist_url": f"admin:{opts.app_label}_{opts.model_name}_changelist",
    }
    return TemplateResponse(request, "admin/confirm_action.html", context)
