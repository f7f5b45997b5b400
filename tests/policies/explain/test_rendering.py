"""``policy explain``: what a reader needs from the summary, in ja, zh and en, and a valid diagram."""

import re
from dataclasses import fields
from pathlib import Path
from typing import get_args

import pytest
from typer.testing import CliRunner

from app.cli.main import app
from models.complaint import CONDITION_ATTRIBUTES
from policies.api import Ready, prepare
from policies.explain.mermaid import label
from policies.explain.phrases import PHRASES, Phrases
from policies.explain.rendering import explain_policy
from policies.explain.words import Words
from policies.language.expressions import AnchorKind
from policies.language.schema import StepKind
from policies.timing.durations import Duration, Period, Unit

ROOT = Path(__file__).resolve().parents[3]
KEIEIKAI = ROOT / "policies" / "keieikai_clinic.yaml"
FIXTURES = Path(__file__).parent / "explain_fixtures"
ZH = FIXTURES / "zh_shop.yaml"
EN = FIXTURES / "en_service.yaml"

# -- reading the output back ----------------------------------------------------------------------

_ID = r"[A-Za-z][A-Za-z0-9_]*"
_LABEL = r'"([^"]*)"'  # a quoted label never contains a raw quote: quotes are #quot;
_NODE = re.compile(rf"^\s*({_ID})(\(\[|\[|\(|\{{\{{){_LABEL}(\]\)|\]|\)|\}}\}})$")
_EDGE = re.compile(rf"^\s*({_ID}) (-->|-\.->|==>)\|{_LABEL}\| ({_ID})$")
_SUBGRAPH = re.compile(rf"^\s*subgraph ({_ID}) \[{_LABEL}\]$")
_ENTITIES = {"#quot;": '"', "#lt;": "<", "#gt;": ">", "#amp;": "&", "#96;": "`", "#35;": "#"}


def _decode(text: str) -> str:
    text = text.replace("<br/>", "\n")
    for code, char in _ENTITIES.items():
        text = text.replace(code, char)
    return text


class Diagram:
    """The Mermaid block parsed line by line; any line it cannot read fails the test."""

    def __init__(self, output: str) -> None:
        match = re.search(r"```mermaid\n(.*?)\n```", output, re.DOTALL)
        assert match is not None, "no ```mermaid block"
        lines = match.group(1).splitlines()
        assert lines[0] == "flowchart TD"
        self.nodes: dict[str, tuple[str, str]] = {}  # id -> (shape, decoded label)
        self.edges: list[tuple[str, str, str, str]] = []  # (from, arrow, decoded label, to)
        self.subgraphs: dict[str, tuple[str, list[str]]] = {}
        current: str | None = None
        for line in lines[1:]:
            if node := _NODE.match(line):
                self.nodes[node[1]] = (node[2], _decode(node[3]))
                if current is not None:
                    self.subgraphs[current][1].append(node[1])
            elif edge := _EDGE.match(line):
                self.edges.append((edge[1], edge[2], _decode(edge[3]), edge[4]))
            elif subgraph := _SUBGRAPH.match(line):
                current = subgraph[1]
                self.subgraphs[current] = (_decode(subgraph[2]), [])
            elif line.strip() == "end" and current is not None:
                current = None
            else:
                pytest.fail(f"unreadable or unquoted Mermaid line: {line!r}")

    def edge(self, source: str, target: str) -> tuple[str, str]:
        """(arrow, label) of the one edge from ``source`` to ``target``."""
        found = [(a, text) for s, a, text, t in self.edges if (s, t) == (source, target)]
        assert len(found) == 1, f"{source} -> {target}: {found}"
        return found[0]


def _explain(path: Path) -> str:
    return explain_policy(prepare(path))


def _step_block(output: str, step_id: str) -> str:
    """The Markdown block of one step, from its ### heading to the next heading."""
    match = re.search(rf"^### \d+\. [^\n]*`{re.escape(step_id)}`\n(.*?)(?=^#)", output, re.M | re.S)
    assert match is not None, f"no block for {step_id}"
    return match.group(0)


def _section(output: str, title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", output, re.M | re.S)
    assert match is not None, f"no section {title!r}"
    return match.group(1)


@pytest.fixture(scope="module")
def ja() -> str:
    return _explain(KEIEIKAI)


@pytest.fixture(scope="module")
def zh() -> str:
    return _explain(ZH)


@pytest.fixture(scope="module")
def en() -> str:
    return _explain(EN)


# -- Japanese: the shipped clinic policy ----------------------------------------------------------


def test_ja_heading_names_policy_calendar_and_defaults(ja: str) -> None:
    head = ja.split("\n## ", 1)[0]
    assert head.startswith("# クレーム対応方針(経営計画書P27)\n")
    assert "- ID: keieikai-clinic" in head
    assert re.search(r"- 版: sha256:[0-9a-f]{16}", head)
    assert "- タイムゾーン: Asia/Tokyo" in head
    assert "- カレンダー: 祝日: JP、営業時間 09:00-18:00" in head
    assert "最終責任者(担当が決まらないとき): 社長(山本 社長)" in head
    assert "報告責任者が記録されていないとき: 渡辺 受付" in head


@pytest.mark.parametrize(
    ("step_id", "title", "deadline"),
    [
        ("report_to_supervisor", "上司へ事実を報告・連絡", "クレームを聞いてから30分以内"),
        ("first_hearer_notifies_top", "社長か担当役員へ一言メール", "クレームを聞いてから1時間以内"),
        ("supervisor_consults_top", "上司が社長か担当役員へ報告・相談", "クレームを聞いてから1時間以内"),
        ("apology_call", "お詫びの電話と事実確認(初期対応)", "クレームが発生してから2時間以内"),
        ("incident_report", "事故報告書(再発防止策・改善案)の提出", "解決してから3営業日以内"),
    ],
)
def test_ja_each_step_has_title_and_deadline_in_words(
    ja: str, step_id: str, title: str, deadline: str
) -> None:
    block = _step_block(ja, step_id)
    assert block.startswith("### ")
    assert title in block.splitlines()[0]
    assert f"- 期限: {deadline}\n" in block


def test_ja_steps_are_grouped_by_path_in_order(ja: str) -> None:
    headings = re.findall(r"^## (.*)$", ja, re.M)
    assert headings[:3] == ["経路: 複線A(報告責任者)", "経路: 複線B(上司)", "その他のステップ"]
    line_a = _section(ja, "経路: 複線A(報告責任者)")
    assert "`report_to_supervisor`" in line_a
    assert "`first_hearer_notifies_top`" in line_a
    assert "`supervisor_consults_top`" in _section(ja, "経路: 複線B(上司)")
    others = _section(ja, "その他のステップ")
    assert "`apology_call`" in others
    assert "`incident_report`" in others


def test_ja_actors_are_words_with_names_from_the_org(ja: str) -> None:
    block = _step_block(ja, "report_to_supervisor")
    assert "- 誰が: 報告責任者(一番先に聞いた人。" in block
    # The supervisor depends on who heard it; without a record the web desk (渡辺) heard it.
    assert "- 誰へ: 報告責任者の上司(クレームごとに決まる。記録がなければ 小林 院長)" in block
    consults = _step_block(ja, "supervisor_consults_top")
    assert "- 誰が: 報告責任者の上司(" in consults


def test_ja_any_of_targets_show_both_and_their_names(ja: str) -> None:
    for step_id in ("first_hearer_notifies_top", "supervisor_consults_top", "incident_report"):
        block = _step_block(ja, step_id)
        assert "- 誰へ(いずれか一人): 社長 または 担当役員\n" in block
        assert "  - 社長(山本 社長)\n" in block
        assert "  - 担当役員(伊藤 担当役員)\n" in block


def test_ja_reminders_escalations_and_penalty(ja: str) -> None:
    report = _step_block(ja, "report_to_supervisor")
    assert "- 10分ごとに督促\n" in report
    assert "- 罰則: 一年間賞与を半額カット(期間: 1年間。対象: 報告責任者、報告責任者の上司)" in report
    apology = _step_block(ja, "apology_call")
    assert "  - 期限を過ぎたらすぐに 担当者の上司(" in apology
    assert "  - 期限の30分後に 社長(山本 社長)、担当役員(伊藤 担当役員) へ通知" in apology
    assert "罰則" not in apology  # the apology call carries no penalty in the policy
    assert "- 原文: 「最速で担当者がお詫びの電話を入れ" in apology


def test_ja_penalties_section_and_note(ja: str) -> None:
    section = _section(ja, "罰則")
    assert "- 一年間賞与を半額カット `bonus_half_cut`" in section
    assert "  - 期間: 1年間" in section
    assert "  - 対象: 報告責任者、報告責任者の上司" in section
    assert "上司へ事実を報告・連絡、社長か担当役員へ一言メール、上司が社長か担当役員へ報告・相談" in section
    assert "クレームが発生したこと自体は違反ではありません" in section


def test_ja_diagram_nodes_edges_and_subgraphs(ja: str) -> None:
    diagram = Diagram(ja)
    anchors = {n for n in diagram.nodes if n.startswith("anchor_")}
    assert anchors == {"anchor_heard", "anchor_occurred", "anchor_resolved"}
    assert diagram.nodes["anchor_heard"] == ("([", "クレームを聞いた")
    assert diagram.nodes["step_report_to_supervisor"] == ("[", "上司へ事実を報告・連絡\n30分以内")
    assert diagram.edge("anchor_heard", "step_report_to_supervisor") == ("-->", "30分以内")
    assert diagram.edge("anchor_occurred", "step_apology_call") == ("-->", "2時間以内")
    assert diagram.edge("anchor_resolved", "step_incident_report") == ("-->", "3営業日以内")
    assert diagram.subgraphs == {
        "path_1": (
            "複線A(報告責任者)",
            ["step_report_to_supervisor", "step_first_hearer_notifies_top"],
        ),
        "path_2": ("複線B(上司)", ["step_supervisor_consults_top"]),
    }


def test_ja_diagram_escalations_are_dashed_with_delay(ja: str) -> None:
    diagram = Diagram(ja)
    assert diagram.nodes["who_role_president"] == ("(", "社長(山本 社長)")
    assert diagram.edge("step_apology_call", "who_supervisor_of_handler") == ("-.->", "期限切れ時")
    assert diagram.edge("step_apology_call", "who_role_president") == ("-.->", "期限切れ30分後")
    assert diagram.edge("step_apology_call", "who_role_executive_in_charge")[1] == "期限切れ30分後"
    dashed = {(s, t) for s, arrow, _, t in diagram.edges if arrow == "-.->"}
    assert ("step_report_to_supervisor", "who_supervisor_of_first_hearer") in dashed
    assert not any(s == "step_incident_report" for s, _ in dashed)


def test_ja_diagram_shows_the_penalty(ja: str) -> None:
    diagram = Diagram(ja)
    assert diagram.nodes["penalty_bonus_half_cut"] == ("{{", "罰則: 一年間賞与を半額カット\n1年間")
    sources = {s for s, arrow, _, t in diagram.edges if t == "penalty_bonus_half_cut"}
    assert sources == {
        "step_report_to_supervisor",
        "step_first_hearer_notifies_top",
        "step_supervisor_consults_top",
    }


# -- Chinese fixture ------------------------------------------------------------------------------


def test_zh_steps_in_words(zh: str) -> None:
    assert zh.startswith("# 门店投诉处理规定\n")
    assert "- 日历: 节假日: CN、工作时间 09:00-17:30" in zh
    report = _step_block(zh, "report_to_lead")
    assert "向客服主管报告" in report.splitlines()[0]
    assert "- 期限: 自听到投诉起30分钟内" in report
    assert "- 向谁(任意一人即可): 客服主管 或 总经理" in report
    assert "  - 客服主管(赵经理、钱主管)" in report
    assert "- 每10分钟提醒一次(最多2次)" in report
    assert "  - 逾期15分钟后通知 总经理(王总)" in report
    assert "- 处罚: 书面警告(期限: 3个月;对象: 首位受理人)" in report


def test_zh_done_anchor_conditions_repeat_and_closing(zh: str) -> None:
    review = _step_block(zh, "lead_reviews")
    assert '主管复核 "紧急" <投诉>' in review.splitlines()[0]
    assert "- 由谁: 客服部负责人(钱主管)" in review
    assert "- 期限: 自“向客服主管报告”完成起2小时内" in review
    assert "- 条件: 严重程度为 紧急 时" in review
    callback = _step_block(zh, "callback")
    assert "- 由谁: 处理人(每件投诉各自确定;未记录时为 钱主管)" in callback
    assert "- 期限: 自受理投诉起1个工作日内" in callback
    assert "- 条件: 渠道为 电话 或 网页 且 类别为 商品质量 或 服务态度 时" in callback
    assert "- 重复直到投诉解决" in callback
    assert "- 投诉重新打开时不再需要" in callback
    assert "  - 逾期后立即通知 处理人的上级(" in callback
    assert "、王总" in callback


def test_zh_penalties_and_diagram(zh: str) -> None:
    assert "发生投诉本身不构成违规" in _section(zh, "处罚")
    diagram = Diagram(zh)
    assert {n for n in diagram.nodes if n.startswith("anchor_")} == {"anchor_heard", "anchor_received"}
    assert diagram.edge("step_report_to_lead", "step_lead_reviews") == ("-->", "2小时内")
    _shape, text = diagram.nodes["step_lead_reviews"]
    assert text.splitlines()[0] == '主管复核 "紧急" <投诉>'
    assert diagram.nodes["step_callback"][1].splitlines()[-1] == "重复直到解决"
    assert diagram.edge("step_report_to_lead", "who_role_gm") == ("-.->", "逾期15分钟后")
    assert diagram.edge("step_report_to_lead", "penalty_warning")[0] == "==>"
    assert diagram.subgraphs["path_1"] == (
        "一线:首位受理人",
        ["step_report_to_lead", "step_lead_reviews"],
    )


# -- English fixture ------------------------------------------------------------------------------


def test_en_steps_in_words(en: str) -> None:
    assert en.startswith('# Acme "Care" complaints & escalation\n')
    assert "- Calendar: holidays: GB-ENG, working hours 08:30-17:00" in en
    tell = _step_block(en, "tell-supervisor")
    assert "- Deadline: within 1 hour after the complaint was heard" in tell
    assert "- To: the supervisor of the first hearer (set per complaint; if not recorded: Alan" in tell
    assert "- Penalty: Bonus freeze (1 year; applies to the first hearer, the supervisor of" in tell
    alerts = _step_block(en, "supervisor-alerts-ops")
    assert "- To (any one of): Operations director or the head of Quality" in alerts
    assert "  - Operations director (Grace Hopper)" in alerts
    recipients = 'Chief executive (Ada Lovelace), Front desk (Joan "JC" Clarke)'
    assert f"  - notify {recipients} 1 hour after the deadline" in alerts
    close = _step_block(en, "end")
    assert "- Deadline: within 2 working days after the complaint was resolved" in close
    assert "- Only when: severity is urgent" in close
    assert "- Penalty: Formal note on file (no time limit; applies to the handler)" in close


def test_en_diagram_ids_are_safe_and_labels_escaped(en: str) -> None:
    diagram = Diagram(en)
    # "end" is a Mermaid keyword and "-" is not allowed in ids: both must be rewritten.
    assert {"step_end", "step_tell_supervisor", "step_supervisor_alerts_ops"} <= set(diagram.nodes)
    assert "end" not in diagram.nodes
    assert diagram.nodes["step_end"][1].splitlines()[0] == "Close <the> case & file it"
    assert diagram.nodes["who_role_front_desk"][1] == 'Front desk (Joan "JC" Clarke)'
    assert diagram.edge("step_supervisor_alerts_ops", "who_role_ceo") == (
        "-.->",
        "1 hour after missed",
    )
    penalties = {n: text for n, (shape, text) in diagram.nodes.items() if shape == "{{"}
    assert penalties == {
        "penalty_bonus_freeze": "Penalty: Bonus freeze\n1 year",
        "penalty_formal_note": "Penalty: Formal note on file\nno time limit",
    }
    raw = en.split("```mermaid", 1)[1]
    assert "#quot;JC#quot;" in raw
    assert "#lt;the#gt;" in raw
    assert "#amp;" in raw


def test_colliding_step_ids_get_distinct_node_ids(tmp_path: Path) -> None:
    org = (FIXTURES / "en_org.yaml").resolve()
    policy = tmp_path / "collide.yaml"
    policy.write_text(
        f"id: collide\nname: Collide\nlanguage: en\ntimezone: UTC\norg: {org}\nowner: person(ceo)\n"
        "steps:\n"
        "  - {id: a-b, title: First, actor: role(agent), from: received, within: 1h}\n"
        "  - {id: a_b, title: Second, actor: role(agent), from: done(a-b), within: 1h}\n",
        encoding="utf-8",
    )
    diagram = Diagram(_explain(policy))
    assert diagram.nodes["step_a_b"][1].startswith("First")
    assert diagram.nodes["step_a_b_2"][1].startswith("Second")
    assert diagram.edge("step_a_b", "step_a_b_2") == ("-->", "within 1 hour")
    assert "## Steps\n" in _explain(policy)  # no paths: one plain section, no "Other steps"


# -- every language -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [KEIEIKAI, ZH, EN], ids=["ja", "zh", "en"])
def test_no_unfilled_placeholders(path: Path) -> None:
    text = _explain(path).split("```mermaid", 1)[0]
    assert "{" not in text
    assert "}" not in text


@pytest.mark.parametrize("language", sorted(PHRASES))
def test_phrase_tables_cover_every_key(language: str) -> None:
    table = PHRASES[language]
    assert set(table.since) == set(table.events) == {k.value for k in AnchorKind} - {"done"}
    assert set(table.kind) == set(get_args(StepKind))
    assert set(table.attributes) == set(CONDITION_ATTRIBUTES)
    assert set(table.units) == {"w", "d", "h", "m", "s", "working_days", "working_hours"}
    assert set(table.period_units) == {"years", "months", "days"}
    assert all(getattr(table, f.name) for f in fields(Phrases))


@pytest.mark.parametrize(
    ("language", "duration", "expected"),
    [
        ("ja", Duration(5400, Unit.SECONDS), "90分"),
        ("ja", Duration(3, Unit.WORKING_DAYS), "3営業日"),
        ("zh", Duration(86400, Unit.SECONDS), "24小时"),
        ("zh", Duration(172800, Unit.SECONDS), "2天"),
        ("ja", Duration(604800, Unit.SECONDS), "1週間"),
        ("zh", Duration(2, Unit.WORKING_HOURS), "2个工作小时"),
        ("en", Duration(3600, Unit.SECONDS), "1 hour"),
        ("en", Duration(1209600, Unit.SECONDS), "2 weeks"),
        ("en", Duration(45, Unit.SECONDS), "45 seconds"),
        ("en", Duration(0, Unit.SECONDS), "0 seconds"),
    ],
)
def test_durations_in_words(language: str, duration: Duration, expected: str) -> None:
    ready: Ready = prepare(KEIEIKAI)
    assert Words(ready.policy, ready.org, PHRASES[language]).duration(duration) == expected


def test_periods_in_words() -> None:
    ready = prepare(KEIEIKAI)
    words = Words(ready.policy, ready.org, PHRASES["en"])
    assert words.period(Period(years=1, months=6)) == "1 year 6 months"
    assert words.period(None) == "no time limit"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('say "hi"', '"say #quot;hi#quot;"'),
        ("a<b>&c", '"a#lt;b#gt;#amp;c"'),
        ("#quot; stays text", '"#35;quot; stays text"'),
        ("two\nlines", '"two lines"'),
    ],
)
def test_labels_are_quoted_and_escaped(text: str, expected: str) -> None:
    assert label(text) == expected


# -- the command ----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [KEIEIKAI, ZH, EN], ids=["ja", "zh", "en"])
def test_cli_policy_explain(path: Path) -> None:
    result = CliRunner().invoke(app, ["policy", "explain", str(path)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("# ")
    assert "```mermaid\nflowchart TD\n" in result.output
    assert result.output == _explain(path) + "\n"
