"""Customer forms: the audience builder, CSV upload and column mapping."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.db.models import Q

from audiences.criteria import FILTER_OBJECTS, RELATED_OBJECTS, CriteriaError
from audiences.csv_io import DELIMITER_NAMES, ENCODINGS, TARGET_FIELDS
from audiences.models import Audience, CsvList
from audiences.selectors import audience_criteria_check


def _holds_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_nul(item) for item in value)
    return False


def criteria_object(criteria) -> dict:
    """The posted filters as a group object; {} for none.

    A NUL character is refused here: PostgreSQL can store it neither in jsonb nor in a query
    parameter, so it would otherwise surface as a server error on save or estimate.
    """
    if criteria in (None, "", {}):
        return {}
    if not isinstance(criteria, dict):
        raise forms.ValidationError("The filters must be a JSON object (a group).")
    if _holds_nul(criteria):
        raise forms.ValidationError("The filters contain a NUL character (\\x00); remove it.")
    return criteria


MAX_ID = 2**63 - 1  # larger ids are not ids (and overflow SQLite's integers)


class ListChoiceField(forms.ModelMultipleChoiceField):
    """CSV lists by id: an id past any database integer is refused as an unknown list, not
    sent to the database. Django finds no row for such an id in an exact lookup (what
    ModelChoiceField asks, e.g. CsvUploadForm.workspace) but passes it on in the ``pk__in``
    this field asks, where SQLite raises OverflowError."""

    def _check_values(self, value):
        for pk in value:
            number = str(pk).strip().lstrip("+-") if isinstance(pk, int | str) else ""
            if number.isdecimal() and not 0 < int(pk) <= MAX_ID:
                raise forms.ValidationError(
                    self.error_messages["invalid_choice"],
                    code="invalid_choice",
                    params={"value": pk},
                )
        return super()._check_values(value)


class AudienceForm(forms.Form):
    """Name, who it holds, criteria (JSON from the builder) and CSV lists.

    Criteria are checked against the connection's described fields and the gate: before the
    initial ingestion completes, Salesforce criteria are refused with the reason and progress.
    """

    # Not stripped: an unchanged save stores the text exactly as it was loaded.
    name = forms.CharField(max_length=200, strip=False)
    description = forms.CharField(
        required=False, strip=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    holds = forms.ChoiceField(choices=Audience.Holds.choices, initial=Audience.Holds.PEOPLE)
    criteria = forms.JSONField(required=False, widget=forms.HiddenInput)
    include = ListChoiceField(
        queryset=CsvList.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )
    exclude = ListChoiceField(
        queryset=CsvList.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, connection, audience=None, locked: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.connection = connection
        self.audience = audience
        # Closed gate on an audience that has criteria: they are kept as stored, whatever the
        # (disabled) builder posts, and the page says so.
        self.keeps_criteria = bool(locked and audience and audience.criteria)
        used = audience.list_uses.values("csv_list") if audience else CsvList.objects.none()
        lists = CsvList.objects.filter(workspace=connection.workspace).filter(
            Q(status=CsvList.Status.READY) | Q(pk__in=used)
        )
        self.fields["include"].queryset = lists.order_by("name")
        self.fields["exclude"].queryset = lists.order_by("name")

    def clean_name(self):
        name = self.cleaned_data["name"]
        if not name.strip():
            raise forms.ValidationError("Give the audience a name.")
        return name

    def clean_description(self):
        # Browsers post a textarea's line breaks as CRLF whatever they loaded.
        return self.cleaned_data["description"].replace("\r\n", "\n")

    def clean_criteria(self):
        criteria = self.cleaned_data.get("criteria")
        if self.keeps_criteria:
            return self.audience.criteria
        return criteria_object(criteria)

    def clean(self) -> dict:
        data = super().clean()
        if set(data.get("include") or ()) & set(data.get("exclude") or ()):
            self.add_error("exclude", "A list cannot be both included and excluded.")
        if "holds" in data and "criteria" in data and not self.keeps_criteria:
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
            # The dict itself: the JSON field serialises it once (a string would be twice).
            "criteria": audience.criteria or {},
            "include": [u.csv_list_id for u in uses if u.mode == "include"],
            "exclude": [u.csv_list_id for u in uses if u.mode == "exclude"],
        }


class CsvUploadForm(forms.Form):
    """A CSV file of people or companies, up to AUDIENCE_CSV_MAX_BYTES."""

    name = forms.CharField(max_length=200)
    kind = forms.ChoiceField(choices=CsvList.Kind.choices, widget=forms.RadioSelect)
    workspace = forms.ModelChoiceField(queryset=None, empty_label=None)
    file = forms.FileField(
        help_text="A CSV (comma, semicolon, tab or pipe separated) in UTF-8, UTF-16, "
        "Windows-1252 or Latin-1; up to 25 MB."
    )

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


class CsvReadingForm(forms.Form):
    """Override the detected encoding and delimiter of a list waiting for its mapping."""

    encoding = forms.ChoiceField(choices=list(ENCODINGS.items()))
    delimiter = forms.ChoiceField(
        choices=[(d, name.capitalize()) for d, name in DELIMITER_NAMES.items()]
    )


class IdListField(forms.Field):
    """A JSON list of ids, e.g. ``[3, 5]`` (what the builder posts for CSV lists)."""

    def clean(self, value):
        value = super().clean(value)
        if value in (None, ""):
            return []
        ok = isinstance(value, list) and all(
            isinstance(v, int) and not isinstance(v, bool) and 0 < v <= MAX_ID for v in value
        )
        if not ok:
            raise forms.ValidationError("Expected a list of list ids.")
        return value


class EstimateForm(forms.Form):
    """The builder's estimate request (a JSON object)."""

    connection = forms.IntegerField(min_value=1, max_value=MAX_ID)
    holds = forms.ChoiceField(choices=Audience.Holds.choices, required=False)
    criteria = forms.Field(required=False)
    include = IdListField(required=False)
    exclude = IdListField(required=False)

    def clean_connection(self):
        value = self.data.get("connection")
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise forms.ValidationError("Expected a connection id.")
        return self.cleaned_data["connection"]

    def clean_holds(self):
        return self.cleaned_data.get("holds") or Audience.Holds.PEOPLE

    def clean_criteria(self):
        return criteria_object(self.cleaned_data.get("criteria"))


class ConnectionQueryForm(forms.Form):
    """``?connection=<id>`` on the new-audience page (optional)."""

    connection = forms.IntegerField(min_value=1, max_value=MAX_ID, required=False)


MAX_VALUES_PAGE = 1000  # 50,000 values deep: past that, a narrower search is the way


class FieldValuesForm(forms.Form):
    """The builder's value search: ``?connection=&object=&field=&q=&page=``."""

    connection = forms.IntegerField(min_value=1, max_value=MAX_ID)
    object = forms.ChoiceField(choices=[(o, o) for o in (*FILTER_OBJECTS, *RELATED_OBJECTS)])
    field = forms.CharField(max_length=255)
    q = forms.CharField(max_length=200, required=False)
    page = forms.IntegerField(min_value=1, max_value=MAX_VALUES_PAGE, required=False)

    def clean_page(self):
        return self.cleaned_data.get("page") or 1
