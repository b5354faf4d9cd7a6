"""ObjectCursor.last_counts held no counts. It held the read phase, the job's completion and
failures, the pass in flight and the fields awaiting a backfill. Each now has a column named for
what it holds.

Stored rows are converted both ways. The pass keeps its JSON shape (PassState.to_json), so its
value is moved as it is. The conversion stays in this file and does not use the engine's codec,
so the migration gives the same result whatever the code does later.
"""

from django.db import migrations, models

STATE_FIELDS = ["phase", "job_complete", "job_failures", "pass_in_flight", "backfill_fields"]


def split_last_counts(apps, schema_editor):
    ObjectCursor = apps.get_model("ingestion", "ObjectCursor")
    for cursor in ObjectCursor.objects.only("pk", "last_counts").iterator():
        old = cursor.last_counts or {}
        cursor.phase = old.get("phase") or "rows"
        cursor.job_complete = bool(old.get("job_complete"))
        cursor.job_failures = int(old.get("job_failures") or 0)
        cursor.pass_in_flight = old.get("pass") or None
        cursor.backfill_fields = list(old.get("backfill_fields") or [])
        cursor.save(update_fields=STATE_FIELDS)


def join_last_counts(apps, schema_editor):
    ObjectCursor = apps.get_model("ingestion", "ObjectCursor")
    for cursor in ObjectCursor.objects.only("pk", *STATE_FIELDS).iterator():
        # Defaults are left out, as the old code left them out until it first set them.
        old = {
            "phase": cursor.phase if cursor.phase != "rows" else None,
            "job_complete": cursor.job_complete or None,
            "job_failures": cursor.job_failures or None,
            "backfill_fields": cursor.backfill_fields or None,
            "pass": cursor.pass_in_flight or None,
        }
        cursor.last_counts = {key: value for key, value in old.items() if value is not None}
        cursor.save(update_fields=["last_counts"])


class Migration(migrations.Migration):
    dependencies = [("ingestion", "0006_record_data_lz4")]

    operations = [
        migrations.AddField(
            model_name="objectcursor",
            name="phase",
            field=models.CharField(
                choices=[("rows", "Rows"), ("blobs", "base64 fields")],
                default="rows",
                max_length=8,
            ),
        ),
        migrations.AddField(
            model_name="objectcursor",
            name="job_complete",
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name="objectcursor",
            name="job_failures",
            field=models.PositiveSmallIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="objectcursor",
            name="pass_in_flight",
            field=models.JSONField(
                blank=True,
                help_text="The whole-object pass being read (reconcile, backfill).",
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="objectcursor",
            name="backfill_fields",
            field=models.JSONField(
                blank=True,
                default=list,
                help_text="New fields whose values a backfill pass has yet to read.",
            ),
        ),
        migrations.RunPython(split_last_counts, join_last_counts),
        migrations.RemoveField(model_name="objectcursor", name="last_counts"),
    ]
