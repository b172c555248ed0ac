# The DigestDelivery model moved to the summaries app; its table stays where it is.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("symptoms", "0002_digest_delivery_and_indexes"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="DigestDelivery")],
            database_operations=[],
        ),
    ]
