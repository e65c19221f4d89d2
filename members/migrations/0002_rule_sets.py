"""R-37: the two rule sets the seeds define, as data (thresholds are settings of the rule set)."""

from django.db import migrations

from members.rule_set_defaults import RULE_SETS


def create_rule_sets(apps, schema_editor):
    RuleSet = apps.get_model("members", "RuleSet")
    for values in RULE_SETS:
        RuleSet.objects.update_or_create(code=values["code"], defaults=values)


def remove_rule_sets(apps, schema_editor):
    RuleSet = apps.get_model("members", "RuleSet")
    RuleSet.objects.filter(code__in=[v["code"] for v in RULE_SETS]).delete()


class Migration(migrations.Migration):
    dependencies = [("members", "0001_initial")]
    operations = [migrations.RunPython(create_rule_sets, remove_rule_sets)]
