"""The words ``policy explain`` uses, one table per policy language (ja, zh, en).

Only wording lives here; ``explain`` decides what to say. Templates use ``str.format`` fields, and
every table must have every key, which ``tests/policies/explain/test_rendering.py`` checks.
"""

from dataclasses import dataclass

# Duration and period units: (singular, plural). Only English distinguishes the two.
Units = dict[str, tuple[str, str]]


@dataclass(frozen=True)
class Phrases:
    """One language's wording; ``number`` joins an amount and a unit (no space in ja/zh)."""

    number: str
    units: Units
    period_units: Units
    list_or: str
    list_and: str
    # heading
    policy_id: str
    version: str
    org: str
    timezone: str
    calendar: str
    holidays: str
    no_holidays: str
    working_hours: str
    all_day: str
    owner: str
    default_first_hearer: str
    default_handler: str
    # actors
    first_hearer: str
    first_hearer_note: str
    handler: str
    complainant: str
    supervisor_of: str
    department_head: str
    complaint_department: str
    names: str
    per_complaint: str
    per_complaint_default: str
    nobody: str
    # anchors: "since X" for deadlines, and the event's name for the diagram
    since: dict[str, str]
    since_done: str
    events: dict[str, str]
    event_done: str
    # steps
    path: str
    no_path: str
    steps: str
    kind: dict[str, str]
    who: str
    to_one: str
    to_any: str
    to_nobody: str
    deadline: str
    deadline_short: str
    deadline_full: str
    when: str
    condition: str
    condition_and: str
    conditions: str
    attributes: dict[str, str]
    values: dict[str, str]
    remind: str
    remind_max: str
    repeat: str
    closes_on: str
    escalation: str
    escalate_now: str
    escalate_after: str
    escalate_line: str
    penalty: str
    step_penalty: str
    rule: str
    # penalties section
    penalties: str
    penalty_period: str
    no_period: str
    applies_to: str
    used_by: str
    not_a_violation: str
    # diagram
    diagram: str
    missed: str
    penalty_node: str
    repeat_short: str
    edge_now: str
    edge_after: str


_CHANNELS_JA = {
    "web": "Web",
    "email": "メール",
    "phone": "電話",
    "desk": "窓口",
    "social_media": "SNS",
    "third_party": "第三者経由",
    "survey": "アンケート",
}

JA = Phrases(
    number="{n}{unit}",
    units={
        "w": ("週間", "週間"),
        "d": ("日", "日"),
        "h": ("時間", "時間"),
        "m": ("分", "分"),
        "s": ("秒", "秒"),
        "working_days": ("営業日", "営業日"),
        "working_hours": ("営業時間", "営業時間"),
    },
    period_units={"years": ("年間", "年間"), "months": ("か月", "か月"), "days": ("日間", "日間")},
    list_or=" または ",
    list_and="、",
    policy_id="ID",
    version="版",
    org="組織",
    timezone="タイムゾーン",
    calendar="カレンダー",
    holidays="祝日: {country}",
    no_holidays="祝日カレンダーなし(土日休み)",
    working_hours="営業時間 {hours}",
    all_day="終日",
    owner="最終責任者(担当が決まらないとき)",
    default_first_hearer="報告責任者が記録されていないとき",
    default_handler="担当者が決まっていないとき",
    first_hearer="報告責任者",
    first_hearer_note="一番先に聞いた人。",
    handler="担当者",
    complainant="お客様(申出人)",
    supervisor_of="{of}の上司",
    department_head="{department}の責任者",
    complaint_department="クレームの該当部署",
    names="{actor}({names})",
    per_complaint="{actor}({note}クレームごとに決まる)",
    per_complaint_default="{actor}({note}クレームごとに決まる。記録がなければ {names})",
    nobody="{actor}(該当者なし)",
    since={
        "heard": "クレームを聞いてから",
        "occurred": "クレームが発生してから",
        "received": "クレームを受け付けてから",
        "resolved": "解決してから",
        "reopened": "再開されてから",
    },
    since_done="「{title}」が完了してから",
    events={
        "heard": "クレームを聞いた",
        "occurred": "クレーム発生",
        "received": "クレーム受付",
        "resolved": "解決",
        "reopened": "再開",
    },
    event_done="「{title}」の完了",
    path="経路: {path}",
    no_path="その他のステップ",
    steps="ステップ",
    kind={
        "report": "報告",
        "acknowledge": "受付確認",
        "assess": "評価",
        "respond": "対応",
        "corrective_action": "是正措置",
        "investigate": "調査",
        "resolve": "解決",
        "callback": "折り返し連絡",
        "survey": "アンケート",
        "progress_update": "経過報告",
        "incident_report": "事故報告",
        "action": "対応",
    },
    who="誰が",
    to_one="誰へ",
    to_any="誰へ(いずれか一人)",
    to_nobody="(相手の指定なし)",
    deadline="期限",
    deadline_short="{within}以内",
    deadline_full="{since}{short}",
    when="条件",
    condition="{attribute}が {values}",
    condition_and=" かつ ",
    conditions="{conditions} のとき",
    attributes={
        "channel": "受付経路",
        "category": "分類",
        "severity": "重大度",
        "complexity": "複雑さ",
        "department": "部署",
    },
    values={**_CHANNELS_JA, "normal": "通常", "urgent": "緊急", "simple": "単純", "complex": "複雑"},
    remind="{every}ごとに督促",
    remind_max="(最大{max}回)",
    repeat="解決するまで繰り返す(完了または期限のたびに次の期限が始まる)",
    closes_on="{events}のとき不要になる",
    escalation="エスカレーション",
    escalate_now="期限を過ぎたらすぐに",
    escalate_after="期限の{after}後に",
    escalate_line="{delay} {targets} へ通知",
    penalty="罰則",
    step_penalty="{name}(期間: {period}。対象: {whom})",
    rule="原文",
    penalties="罰則",
    penalty_period="期間",
    no_period="定めなし",
    applies_to="対象",
    used_by="該当するステップ",
    not_a_violation=(
        "注: クレームが発生したこと自体は違反ではありません。"
        "罰則の対象は、期限までに報告・対応を怠ったことだけです。"
    ),
    diagram="図",
    missed="期限切れ",
    penalty_node="罰則: {name}",
    repeat_short="解決まで繰り返す",
    edge_now="期限切れ時",
    edge_after="期限切れ{after}後",
)

ZH = Phrases(
    number="{n}{unit}",
    units={
        "w": ("周", "周"),
        "d": ("天", "天"),
        "h": ("小时", "小时"),
        "m": ("分钟", "分钟"),
        "s": ("秒", "秒"),
        "working_days": ("个工作日", "个工作日"),
        "working_hours": ("个工作小时", "个工作小时"),
    },
    period_units={"years": ("年", "年"), "months": ("个月", "个月"), "days": ("天", "天")},
    list_or=" 或 ",
    list_and="、",
    policy_id="编号",
    version="版本",
    org="组织",
    timezone="时区",
    calendar="日历",
    holidays="节假日: {country}",
    no_holidays="无节假日日历(周末休息)",
    working_hours="工作时间 {hours}",
    all_day="全天",
    owner="最终负责人(无法确定负责人时)",
    default_first_hearer="未记录首位受理人时",
    default_handler="未指定处理人时",
    first_hearer="首位受理人",
    first_hearer_note="最先听到投诉的人;",
    handler="处理人",
    complainant="投诉人",
    supervisor_of="{of}的上级",
    department_head="{department}负责人",
    complaint_department="投诉所属部门",
    names="{actor}({names})",
    per_complaint="{actor}({note}每件投诉各自确定)",
    per_complaint_default="{actor}({note}每件投诉各自确定;未记录时为 {names})",
    nobody="{actor}(无人担任)",
    since={
        "heard": "自听到投诉起",
        "occurred": "自事件发生起",
        "received": "自受理投诉起",
        "resolved": "自投诉解决起",
        "reopened": "自投诉重新打开起",
    },
    since_done="自“{title}”完成起",
    events={
        "heard": "听到投诉",
        "occurred": "事件发生",
        "received": "受理投诉",
        "resolved": "投诉解决",
        "reopened": "投诉重新打开",
    },
    event_done="“{title}”完成",
    path="路线: {path}",
    no_path="其他步骤",
    steps="步骤",
    kind={
        "report": "报告",
        "acknowledge": "确认受理",
        "assess": "评估",
        "respond": "回应",
        "corrective_action": "纠正措施",
        "investigate": "调查",
        "resolve": "解决",
        "callback": "回电",
        "survey": "回访调查",
        "progress_update": "进展通报",
        "incident_report": "事故报告",
        "action": "处理",
    },
    who="由谁",
    to_one="向谁",
    to_any="向谁(任意一人即可)",
    to_nobody="(未指定对象)",
    deadline="期限",
    deadline_short="{within}内",
    deadline_full="{since}{short}",
    when="条件",
    condition="{attribute}为 {values}",
    condition_and=" 且 ",
    conditions="{conditions} 时",
    attributes={
        "channel": "渠道",
        "category": "类别",
        "severity": "严重程度",
        "complexity": "复杂度",
        "department": "部门",
    },
    values={
        "web": "网页",
        "email": "电子邮件",
        "phone": "电话",
        "desk": "柜台",
        "social_media": "社交媒体",
        "third_party": "第三方",
        "survey": "问卷",
        "normal": "一般",
        "urgent": "紧急",
        "simple": "简单",
        "complex": "复杂",
    },
    remind="每{every}提醒一次",
    remind_max="(最多{max}次)",
    repeat="重复直到投诉解决(每次完成或到期后开始下一轮期限)",
    closes_on="{events}时不再需要",
    escalation="升级通知",
    escalate_now="逾期后立即",
    escalate_after="逾期{after}后",
    escalate_line="{delay}通知 {targets}",
    penalty="处罚",
    step_penalty="{name}(期限: {period};对象: {whom})",
    rule="原文",
    penalties="处罚",
    penalty_period="期限",
    no_period="未规定",
    applies_to="对象",
    used_by="适用步骤",
    not_a_violation="注: 发生投诉本身不构成违规;只有未在期限内报告或处理才会受到处罚。",
    diagram="流程图",
    missed="逾期",
    penalty_node="处罚: {name}",
    repeat_short="重复直到解决",
    edge_now="逾期时",
    edge_after="逾期{after}后",
)

EN = Phrases(
    number="{n} {unit}",
    units={
        "w": ("week", "weeks"),
        "d": ("day", "days"),
        "h": ("hour", "hours"),
        "m": ("minute", "minutes"),
        "s": ("second", "seconds"),
        "working_days": ("working day", "working days"),
        "working_hours": ("working hour", "working hours"),
    },
    period_units={"years": ("year", "years"), "months": ("month", "months"), "days": ("day", "days")},
    list_or=" or ",
    list_and=", ",
    policy_id="Id",
    version="Version",
    org="Organisation",
    timezone="Time zone",
    calendar="Calendar",
    holidays="holidays: {country}",
    no_holidays="no holiday calendar (weekends off)",
    working_hours="working hours {hours}",
    all_day="all day",
    owner="Owner (when nobody else can be found)",
    default_first_hearer="First hearer when none is recorded",
    default_handler="Handler when none is assigned",
    first_hearer="the first hearer",
    first_hearer_note="whoever heard the complaint first; ",
    handler="the handler",
    complainant="the complainant",
    supervisor_of="the supervisor of {of}",
    department_head="the head of {department}",
    complaint_department="the complaint's department",
    names="{actor} ({names})",
    per_complaint="{actor} ({note}set per complaint)",
    per_complaint_default="{actor} ({note}set per complaint; if not recorded: {names})",
    nobody="{actor} (nobody)",
    since={
        "heard": "after the complaint was heard",
        "occurred": "after the incident occurred",
        "received": "after the complaint was received",
        "resolved": "after the complaint was resolved",
        "reopened": "after the complaint was reopened",
    },
    since_done="after “{title}” is done",
    events={
        "heard": "complaint heard",
        "occurred": "incident occurred",
        "received": "complaint received",
        "resolved": "complaint resolved",
        "reopened": "complaint reopened",
    },
    event_done="“{title}” done",
    path="Path: {path}",
    no_path="Other steps",
    steps="Steps",
    kind={
        "report": "report",
        "acknowledge": "acknowledge",
        "assess": "assess",
        "respond": "respond",
        "corrective_action": "corrective action",
        "investigate": "investigate",
        "resolve": "resolve",
        "callback": "call back",
        "survey": "survey",
        "progress_update": "progress update",
        "incident_report": "incident report",
        "action": "action",
    },
    who="Who",
    to_one="To",
    to_any="To (any one of)",
    to_nobody="(no one in particular)",
    deadline="Deadline",
    deadline_short="within {within}",
    deadline_full="{short} {since}",
    when="Only when",
    condition="{attribute} is {values}",
    condition_and=" and ",
    conditions="{conditions}",
    attributes={
        "channel": "channel",
        "category": "category",
        "severity": "severity",
        "complexity": "complexity",
        "department": "department",
    },
    values={"social_media": "social media", "third_party": "third party"},
    remind="Reminder every {every}",
    remind_max=" (at most {max})",
    repeat="Repeats until the complaint is resolved (each time it is done or due, a new deadline starts)",
    closes_on="No longer needed once: {events}",
    escalation="Escalation",
    escalate_now="as soon as the deadline passes",
    escalate_after="{after} after the deadline",
    escalate_line="notify {targets} {delay}",
    penalty="Penalty",
    step_penalty="{name} ({period}; applies to {whom})",
    rule="Rule",
    penalties="Penalties",
    penalty_period="Period",
    no_period="no time limit",
    applies_to="Applies to",
    used_by="Steps",
    not_a_violation=(
        "Note: a complaint itself is never a violation; penalties apply only when a report or"
        " response is not made in time."
    ),
    diagram="Diagram",
    missed="missed",
    penalty_node="Penalty: {name}",
    repeat_short="repeats until resolved",
    edge_now="when missed",
    edge_after="{after} after missed",
)

PHRASES: dict[str, Phrases] = {"ja": JA, "zh": ZH, "en": EN}


def phrases_for(language: str) -> Phrases:
    """The table for ``language``; English for a language the schema might add later."""
    return PHRASES.get(language, EN)
