"""The two rule sets the seeds define (R-37): the 2019 central rules and the Loudi 2023 variant.

Data, not code: thresholds are fields of ``RuleSet``. The migration ``members/0002_rule_sets`` creates
these rows; ``ensure_rule_sets`` re-creates any that are missing (used by tests that flush the database).
"""

import datetime as dt

RULE_SETS = [
    {
        # seed 000: 中央和国家机关工委, 2019-04-22
        "code": "central-2019",
        "name": "中央和国家机关党小组工作规则（2019）",
        "document_title": "《中央和国家机关党小组工作规则（试行）》",
        "issuer": "中共中央和国家机关工委",
        "document_number": "",
        "effective_date": dt.date(2019, 4, 22),
        "split_threshold": 20,
        "min_group_members": 3,
        "min_full_members": 1,
        "size_guideline_enabled": False,
        "life_meeting_interval_months": 6,
        "evaluation_interval_months": 12,
        "talk_interval_months": 6,
        "thought_report_interval_months": 3,
        "probationary_report_interval_months": 3,
        "points_rating_enabled": False,
        "dual_review_enabled": False,
    },
    {
        # seed 001: 娄底市直机关工委 娄直发〔2023〕8号, effective on issue (2023-07-26);
        # it also applies the rural opinion's guideline (seed 004): 10–20 per group, points rating.
        "code": "loudi-2023",
        "name": "娄底市直机关党小组工作实施意见（2023）",
        "document_title": "《关于进一步规范娄底市直机关党小组工作的实施意见》",
        "issuer": "中共娄底市直属机关工作委员会",
        "document_number": "娄直发〔2023〕8号",
        "effective_date": dt.date(2023, 7, 26),
        "split_threshold": 20,
        "min_group_members": 3,
        "min_full_members": 1,
        "size_guideline_enabled": True,
        "size_guideline_min": 10,
        "size_guideline_max": 20,
        "life_meeting_interval_months": 6,
        "evaluation_interval_months": 12,
        "talk_interval_months": 6,
        "thought_report_interval_months": 3,
        "probationary_report_interval_months": 3,
        "points_rating_enabled": True,
        "dual_review_enabled": True,
    },
]


def ensure_rule_sets(rule_set_model) -> None:
    """Create the seeded rule sets that do not exist (never changes existing rows)."""
    existing = set(rule_set_model.objects.values_list("code", flat=True))
    for values in RULE_SETS:
        if values["code"] not in existing:
            rule_set_model.objects.create(**values)
