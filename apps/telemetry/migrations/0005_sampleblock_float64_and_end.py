import datetime

from django.db import migrations, models


class Migration(migrations.Migration):
    """SampleBlock gets `end` (the moment of its last value) and holds float64; nothing wrote blocks before."""

    dependencies = [
        ("telemetry", "0004_sample_without_database_foreign_key"),
    ]

    operations = [
        migrations.AddField(
            model_name="sampleblock",
            name="end",
            field=models.DateTimeField(default=datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC), verbose_name="end"),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name="sampleblock",
            name="data",
            field=models.BinaryField(verbose_name="float64 values"),
        ),
    ]
