"""The rule catalogue R-01 … R-37 (../shared/RULES.md), with the article each rule comes from.

Rules taken from the 2019 central rules (seed 000) or the Loudi 2023 variant (seed 001) cite the
document of the organisation's rule set, so a Loudi branch reads
《关于进一步规范娄底市直机关党小组工作的实施意见》第一条 and a central branch
《中央和国家机关党小组工作规则（试行）》第一条. Rules from the other seeds cite their own document.
``excerpt`` is the article text shown on hover in the dashboards.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from members.models import RuleSet

DOC_002 = "《党小组会怎么开》"
DOC_003 = "《最新党小组工作操作方法与创新实务》"
DOC_004 = "《关于深入发挥党小组作用的实施意见》"


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    kind: str  # hard / advisory / workflow / record
    article: str  # e.g. "第一条" for rule-set documents, or the full citation for fixed documents
    excerpt: str
    from_rule_set: bool = True

    def citation(self, rule_set: RuleSet | None = None) -> str:
        if not self.from_rule_set:
            return self.article
        title = rule_set.document_title if rule_set else "《中央和国家机关党小组工作规则（试行）》"
        return f"{title}{self.article}"


_ART1 = (
    "党员人数在20人以上的党支部，一般应当划分若干党小组；党员人数不足20人的，可以根据工作需要划分党小组。"
    "每个党小组不少于3名党员，其中至少有1名为正式党员。"
)
_ART10 = (
    "党小组组长应当具备下列条件：（一）正式党员；（二）政治素质高，具备一定的政策理论水平，熟悉党的基本知识；"
    "（三）热爱党的工作，有较强的事业心和责任感，在党员和群众中有较高威信；（四）组织协调能力较强，"
    "能够团结带领党员完成党支部交办的各项任务。"
)
_ART5 = (
    "党小组会。围绕党的中心工作和党支部的具体任务召开。会前，党小组组长应当向党支部请示，确定会议内容，"
    "将议题通知全体党员；会上，组织党员开展学习讨论。会议应当做好记录，存档备查。"
    "党小组会由党小组组长召集并主持，一般每月召开1次。"
)

RULES: dict[str, Rule] = {
    rule.id: rule
    for rule in [
        Rule("R-01", "20人以上的党支部应划分党小组", "advisory", "第一条", _ART1),
        Rule("R-02", "不足20人的党支部可划分党小组", "none", "第一条", _ART1),
        Rule("R-03", "每个党小组不少于3名党员", "advisory", "第一条", _ART1),
        Rule("R-04", "每个党小组至少有1名正式党员", "advisory", "第一条", _ART1),
        Rule(
            "R-05",
            "党小组的建立、调整和撤销由党支部决定并报上级党组织备案",
            "workflow",
            "第二条",
            "党小组的建立、调整和撤销，由党支部决定并报上级党组织备案。",
        ),
        Rule(
            "R-06",
            "党小组可随党支部设置或形势变化调整",
            "record",
            "第二条",
            "党支部设置或者工作形势发生变化的，可以根据需要对党小组的设置作出相应调整。",
        ),
        Rule(
            "R-07",
            "党小组宜与处室、科室、车间、村民组对应",
            "advisory",
            f"{DOC_003}第一章“党小组的建立与划分”",
            "党小组一般按照行政单位（处室、科室、车间、村民组）划分；党员人数少于3人的单位，与相近单位合编党小组。",
            from_rule_set=False,
        ),
        Rule(
            "R-08",
            "党小组人数以10-20人为宜",
            "advisory",
            f"{DOC_004}“调整和优化党小组设置”",
            "党小组的设置和调整要坚持有利于党员的教育和管理……人数以10-20人为宜。",
            from_rule_set=False,
        ),
        Rule(
            "R-09",
            "每名党员同一时间只编入本支部一个党小组",
            "hard",
            f"{DOC_003}第一章“党小组的建立与划分”",
            "党支部划分党小组后，每个党员都应编入一个党小组，参加党小组的活动。",
            from_rule_set=False,
        ),
        Rule("R-10", "党小组会一般每月召开1次", "advisory", "第五条", _ART5),
        Rule("R-11", "会前向党支部请示，批准后通知全体党员", "workflow", "第五条", _ART5),
        Rule("R-12", "会议做好记录，存档备查", "record", "第五条", _ART5),
        Rule(
            "R-13",
            "会后及时上报党支部",
            "workflow",
            f"{DOC_002}基本要求（7）",
            "会后，及时上报党支部。",
            from_rule_set=False,
        ),
        Rule(
            "R-14",
            "会议记录按模板记载",
            "record",
            f"{DOC_002}“党小组会议记录”模板",
            "时间、地点、主持人、参加人员、缺席人员（注明缺席原因）、列席人员、会议议题、会议内容。",
            from_rule_set=False,
        ),
        Rule(
            "R-15",
            "一般党小组会党员先发言、组长末尾发言；组织生活会组长带头发言",
            "record",
            f"{DOC_002}基本要求（4）",
            "一般的党小组会，党员先发言，组内进行充分讨论，党小组长末尾发言。召开组织生活时，党小组长带头发言，"
            "第一个开展批评和自我批评。",
            from_rule_set=False,
        ),
        Rule(
            "R-16",
            "会议结束前落实议定事项和责任分工",
            "record",
            f"{DOC_002}基本要求（5）",
            "会议结束前，进行归纳小结，落实议定事项，明确落实措施和责任分工。",
            from_rule_set=False,
        ),
        Rule(
            "R-17",
            "年初做好年度计划",
            "advisory",
            f"{DOC_002}基本要求（1）",
            "根据党支部工作安排，年初做好年度计划，合理安排时间、进度和会议频次。",
            from_rule_set=False,
        ),
        Rule(
            "R-18",
            "组织生活会",
            "advisory",
            "第六条",
            "组织生活会。会前，应当围绕会议主题组织学习，开展谈心谈话，充分听取意见；会上，认真查摆问题，"
            "开展批评和自我批评，明确整改方向；会后，制定整改措施，抓好落实，并及时向党支部报告。",
        ),
        Rule(
            "R-19",
            "民主评议党员",
            "advisory",
            "第七条",
            "民主评议党员。根据党支部统一安排，督促党员对照合格党员标准、对照入党誓词，联系个人实际进行党性分析，"
            "开展个人自评和党员互评。评议情况及时向党支部报告。",
        ),
        Rule(
            "R-20",
            "经常性谈心谈话",
            "advisory",
            "第八条",
            "谈心谈话。党小组组长和党员之间、党员和党员之间应当开展经常性谈心谈话，坦诚相见、交流思想、交换意见、帮助提高。",
        ),
        Rule(
            "R-21",
            "主题党日应当报党支部同意",
            "hard",
            "第九条",
            "主题党日……党小组开展主题党日，应当报党支部同意。",
        ),
        Rule(
            "R-22",
            "协助党支部培养积极分子、考察预备党员、收缴党费",
            "record",
            "第四条第（四）项",
            "协助党支部对党员进行教育、管理和监督，做好入党积极分子和发展对象培养教育、预备党员考察、党费收缴等日常工作。",
        ),
        Rule(
            "R-23",
            "党小组会议题类别",
            "record",
            f"{DOC_002}",
            "组织开展学习；研究贯彻执行支部决议；……",
            False,
        ),
        Rule("R-24", "党小组组长必须是正式党员", "hard", "第十条第（一）项", _ART10),
        Rule("R-25", "党小组组长应具备的条件", "record", "第十条第（二）至（四）项", _ART10),
        Rule(
            "R-26",
            "党小组组长由党支部指定或党员推荐产生",
            "record",
            "第十一条",
            "党小组组长由党支部指定，也可以由党小组党员推荐产生，一般由所在处、室党员主要负责人担任。",
        ),
        Rule(
            "R-27", "党小组组长的八项职责", "record", "第十二条", "党小组组长在党支部委员会的领导下开展工作……"
        ),
        Rule(
            "R-28",
            "对工作不力的组长约谈或调整",
            "advisory",
            "第十三条",
            "对工作开展不力的党小组组长进行约谈或者调整。（004：年终考核分优秀、称职和不称职三个等次，"
            "连续两次被评为“不称职”的，予以调整。）",
        ),
        Rule(
            "R-29",
            "组长接受党支部和党员监督",
            "record",
            "第十二条",
            "党小组组长应当认真履责、以身作则，并自觉接受党支部和所在党小组党员的监督。",
        ),
        Rule(
            "R-30",
            "党员定期汇报思想和工作",
            "advisory",
            f"{DOC_004}“健全规范党小组活动”",
            "党员定期向党小组汇报思想和工作情况（一般每月汇报一次，最长不得超过一个季度一次，预备党员每季度一次书面汇报）。",
            from_rule_set=False,
        ),
        Rule("R-31", "按月收缴党费", "advisory", "第十二条第（七）项", "收缴党费。"),
        Rule(
            "R-32",
            "设岗定责、公开承诺",
            "record",
            f"{DOC_004}",
            "党小组工作手册、岗位承诺书、工作日志、党员积分定等公示栏等规范、齐全。",
            from_rule_set=False,
        ),
        Rule(
            "R-33",
            "党员积分定等",
            "record",
            f"{DOC_004}",
            "扎实开展党员积分定等和民主评议党员。",
            from_rule_set=False,
        ),
        Rule(
            "R-34",
            "党小组每年年底向党支部报告本年度工作",
            "record",
            "第十三条",
            "党小组每年年底应当向党支部报告本年度工作情况。",
        ),
        Rule(
            "R-35",
            "党员领导干部带头参加所在党小组活动；加强组长培训",
            "record",
            "第十四条",
            "党员领导干部带头参加所在党小组活动……加强党小组组长教育培训。",
        ),
        Rule(
            "R-36",
            "纳入党支部书记“双述双评”",
            "record",
            "第十四条",
            "把党小组建设情况纳入……党支部书记“双述双评”重要内容。",
        ),
        Rule("R-37", "施行日期", "record", "第十六条", "本规则自2019年4月22日起施行。"),
    ]
}


def rule(rule_id: str) -> Rule:
    return RULES[rule_id]
