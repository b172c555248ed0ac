# DigestDelivery, moved here from the symptoms app: the model only, on the existing table.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("symptoms", "0003_move_digest_delivery_to_summaries"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="DigestDelivery",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("week_of", models.DateField()),
                        (
                            "status",
                            models.CharField(
                                choices=[("sending", "Sending"), ("sent", "Sent"), ("failed", "Failed")],
                                default="sending",
                                max_length=16,
                            ),
                        ),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("sent_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "patient",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="digest_deliveries",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "verbose_name_plural": "digest deliveries",
                        "db_table": "symptoms_digestdelivery",
                        "ordering": ("-week_of", "-id"),
                        "constraints": [
                            models.UniqueConstraint(fields=("patient", "week_of"), name="digest_one_per_patient_week")
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
