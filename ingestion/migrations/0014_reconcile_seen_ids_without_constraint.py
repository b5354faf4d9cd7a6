"""Seen Ids keep their run's id without a foreign key constraint: each staged Id queued a
deferred check at its page's commit (ingestion/models.py, ReconcileSeenId)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("ingestion", "0013_record_account_sf_id"),
    ]

    operations = [
        migrations.AlterField(
            model_name="reconcileseenid",
            name="run",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="ingestion.syncrun",
            ),
        ),
    ]
