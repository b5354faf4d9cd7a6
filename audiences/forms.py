"""Customer forms: the audience builder, CSV upload and column mapping."""

from __future__ import annotations

import json

from django import forms
from django.conf import settings

from audiences.criteria import CriteriaError
from audiences.csv_io import TARGET_FIELDS
from audiences.models import Audience, CsvList
from audiences.selectors import audience_criteria_check


class AudienceForm(forms.Form):
    """Name, who it holds, criteria (JSON from the builder) and CSV lists.

    Criteria are checked against the connection's described fields and the gate: before the
    initial ingestion completes, Salesforce criteria are refused with the reason and progress.
    """

    name = forms.CharField(max_length=200)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    holds = forms.ChoiceField(choices=Audience.Holds.choices, initial=Audience.Holds.PEOPLE)
    criteria = forms.JSONField(required=False, widget=forms.HiddenInput)
    include = forms.ModelMultipleChoiceField(
        queryset=CsvList.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )
    exclude = forms.ModelMultipleChoiceField(
        queryset=CsvList.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, connection, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.connection = connection
        lists = CsvList.objects.filter(
            workspace=connection.workspace, status=CsvList.Status.READY
        ).order_by("name")
        self.fields["include"].queryset = lists
        self.fields["exclude"].queryset = lists

    def clean(self) -> dict:
        data = super().clean()
        if set(data.get("include") or ()) & set(data.get("exclude") or ()):
            self.add_error("exclude", "A list cannot be both included and excluded.")
        if "holds" in data:
            try:
                audience_criteria_check(
                    connection=self.connection, holds=data["holds"], criteria=data.get("criteria")
                )
            except CriteriaError as error:
                self.add_error("criteria", error.messages)
        return data

    @staticmethod
    def initial_for(audience: Audience) -> dict:
        uses = list(audience.list_uses.all())
        return {
            "name": audience.name,
            "description": audience.description,
            "holds": audience.holds,
            "criteria": json.dumps(audience.criteria or {}),
            "include": [u.csv_list_id for u in uses if u.mode == "include"],
            "exclude": [u.csv_list_id for u in uses if u.mode == "exclude"],
        }


class CsvUploadForm(forms.Form):
    """A CSV file of people or companies, up to AUDIENCE_CSV_MAX_BYTES."""

    name = forms.CharField(max_length=200)
    kind = forms.ChoiceField(choices=CsvList.Kind.choices, widget=forms.RadioSelect)
    workspace = forms.ModelChoiceField(queryset=None, empty_label=None)
    file = forms.FileField(help_text="UTF-8 (with or without BOM) or Latin-1; up to 25 MB.")

    def __init__(self, *args, workspaces, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["workspace"].queryset = workspaces
        if len(workspaces) == 1:
            self.fields["workspace"].widget = forms.HiddenInput()
            self.fields["workspace"].initial = workspaces[0].pk

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = settings.AUDIENCE_CSV_MAX_BYTES
        if upload.size > limit:
            raise forms.ValidationError(f"The file is larger than {limit / 2**20:.0f} MB.")
        return upload


class CsvMappingForm(forms.Form):
    """One choice per target field: which column of the file holds it (auto-mapped first)."""

    def __init__(self, *args, csv_list: CsvList, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        columns = [("", "— not in the file —")] + [
            (str(i), name or f"Column {i + 1}") for i, name in enumerate(csv_list.header)
        ]
        for target, label in TARGET_FIELDS[csv_list.kind].items():
            current = csv_list.mapping.get(target)
            self.fields[target] = forms.ChoiceField(
                label=label,
                choices=columns,
                required=False,
                initial="" if current is None else str(current),
            )

    def mapping(self) -> dict[str, int | None]:
        return {t: int(v) if v != "" else None for t, v in self.cleaned_data.items()}
