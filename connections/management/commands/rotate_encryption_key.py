"""Re-encrypt every encrypted column with the first key of FIELD_ENCRYPTION_KEY."""

from django.core.management.base import BaseCommand, CommandError

from connections.services.keys import encrypted_models, encrypted_rows_rotate


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored secret with the first key in FIELD_ENCRYPTION_KEY, in batches "
        "(one transaction each). Safe to stop and run again: rows already under the first key "
        "are skipped. Remove an old key only once this reports no row left under it."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args, batch_size: int, **options) -> None:
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        unreadable = 0
        for model, columns in encrypted_models():
            unreadable += self._rotate_model(model, columns, batch_size)
        if unreadable:
            raise CommandError(
                f"{unreadable} row(s) could not be decrypted with any configured key; they were "
                "left as they are. Add the key they were written with and run this again."
            )

    def _rotate_model(self, model, columns, batch_size: int) -> int:
        label = model._meta.label
        totals = {"rows": 0, "reencrypted": 0, "current": 0, "unreadable": 0}
        after = None
        while True:
            batch = encrypted_rows_rotate(
                model=model, columns=columns, after_pk=after, batch_size=batch_size
            )
            if not batch.rows:
                break
            after = batch.last_pk
            for name in totals:
                totals[name] += getattr(batch, name)
            self.stdout.write(
                f"{label}: {totals['rows']} rows done (up to pk {after}): "
                f"{totals['reencrypted']} re-encrypted, {totals['current']} already current, "
                f"{totals['unreadable']} unreadable"
            )
            for pk in batch.unreadable_pks:
                self.stderr.write(f"{label} pk {pk}: no configured key decrypts it")
        self.stdout.write(self.style.SUCCESS(f"{label}: finished, {totals['rows']} rows."))
        return totals["unreadable"]
