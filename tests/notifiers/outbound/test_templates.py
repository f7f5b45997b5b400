"""The shipped templates render for every policy, language and kind; the sandbox and escaping hold."""

import re
from pathlib import Path

import pytest
from jinja2.exceptions import SecurityError

from notifiers.errors import TemplateFailed, TemplateMissing
from notifiers.outbound.context import CONTEXT_KEYS, TemplateContext
from notifiers.outbound.templates import TemplateStore
from policies.language.checks import template_uses
from policies.language.loader import load_policy
from tests.factories import REPO
from tests.notifiers.samples import ACTION_URL, DUE_AT, HOSTILE_BODY, context, sparse_context

TEMPLATES = REPO / "policies" / "templates"
STORE = TemplateStore(TEMPLATES)
POLICIES = sorted((REPO / "policies").glob("*.yaml"))
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _kinds(where: tuple[object, ...]) -> tuple[str, ...]:
    """Which notification kinds use the template named at ``where`` in the policy."""
    if where[0] == "receipt":
        return ("receipt",)
    if "escalate" in where:
        return ("escalation",)
    if "remind" in where:
        return ("reminder",)
    return ("request", "reminder")  # a step's own template also serves its reminders


def _uses() -> list[tuple[str, str, str, str]]:
    found: set[tuple[str, str, str, str]] = set()
    for path in POLICIES:
        spec = load_policy(path).spec
        assert spec.templates == "templates", f"{path.name} should name the shipped template folder"
        for where, name in template_uses(spec):
            for language in spec.template_languages:
                found.update((path.name, language, name, kind) for kind in _kinds(where))
    return sorted(found)


USES = _uses()


def test_every_shipped_policy_is_covered() -> None:
    assert {use[0] for use in USES} >= {
        "keieikai_clinic.yaml",
        "cn_hospital.yaml",
        "nursing_care.yaml",
        "walkthrough_en.yaml",
    }
    assert {use[1] for use in USES} == {"ja", "zh", "en"}


@pytest.mark.parametrize(("policy", "language", "name", "kind"), USES)
def test_a_shipped_template_renders_a_full_context_safely(
    policy: str, language: str, name: str, kind: str
) -> None:
    rendered = STORE.render(name, language, context(kind))

    assert rendered.subject
    assert not CONTROL.search(rendered.subject)
    assert "2026-000123" in rendered.subject
    # HTML: user text escaped, quotes included; the raw tag never appears.
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in rendered.html or kind == "receipt"
    assert "<script" not in rendered.html
    assert "<b>" not in rendered.html
    assert rendered.html.lstrip().startswith("<!DOCTYPE html>")
    assert rendered.html.rstrip().endswith("</html>")
    # Text: the very same characters, unescaped, and the subject's line break gone from inside a line.
    assert '<script>alert("x")</script> & 待ち時間 Bcc: victim@evil.example' in rendered.text
    assert not re.search(r"&(lt|gt|amp|#34|quot);", rendered.text)
    assert "None" not in rendered.text + rendered.html + rendered.subject
    if kind == "receipt":
        # Receipts leave the organisation: nothing internal in them.
        assert "田中" not in rendered.text + rendered.html
        assert "never again" not in rendered.text
    else:
        assert HOSTILE_BODY.splitlines()[0] in rendered.text
        assert DUE_AT in rendered.subject
        assert DUE_AT in rendered.text
        assert ACTION_URL in rendered.text
        assert ACTION_URL.replace("&", "&amp;") in rendered.html
    if kind == "reminder":
        assert "3" in rendered.subject
        assert "3" in rendered.text.split(DUE_AT)[0]
    if kind == "escalation":
        assert "田中 一郎" in rendered.subject
        assert "田中 一郎" in rendered.text
        assert "賞与半額カット" in rendered.text
        assert "賞与半額カット" in rendered.html


@pytest.mark.parametrize(("policy", "language", "name", "kind"), USES)
def test_a_shipped_template_renders_a_sparse_context(
    policy: str, language: str, name: str, kind: str
) -> None:
    rendered = STORE.render(name, language, sparse_context(kind))
    assert rendered.subject
    assert rendered.text.strip()
    assert "</html>" in rendered.html
    assert "None" not in rendered.text + rendered.html + rendered.subject
    assert "\n\n\n" not in rendered.text


@pytest.mark.parametrize("language", ["ja", "zh", "en"])
def test_every_language_has_the_default_escalation_and_a_layout(language: str) -> None:
    for name in ("base", "escalation", "receipt", "missed_report", "missed_response"):
        assert STORE.available(name, language), (name, language)


def _store(tmp_path: Path, body: str, name: str = "probe") -> TemplateStore:
    (tmp_path / "en").mkdir(exist_ok=True)
    (tmp_path / "en" / f"{name}.j2").write_text(body, encoding="utf-8")
    return TemplateStore(tmp_path)


def _blocks(subject: str, text: str = "t", html: str = "h") -> str:
    return (
        f"{{% block subject %}}{subject}{{% endblock %}}{{% block text %}}{text}{{% endblock %}}"
        f"{{% block html %}}{html}{{% endblock %}}"
    )


@pytest.mark.parametrize(
    "expression",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ complaint.__class__.__mro__[1].__subclasses__() }}",
        "{{ recipient.items.__self__.__class__ }}",
        "{{ lipsum.__globals__ }}",
    ],
)
def test_the_sandbox_refuses_attribute_escapes(tmp_path: Path, expression: str) -> None:
    store = _store(tmp_path, _blocks("s", html=expression))
    with pytest.raises(TemplateFailed) as failure:
        store.render("probe", "en", context("request"))
    assert isinstance(failure.value.__cause__, SecurityError)


def test_an_undefined_variable_fails_instead_of_vanishing(tmp_path: Path) -> None:
    store = _store(tmp_path, _blocks("{{ complaint.nonexistent }}"))
    with pytest.raises(TemplateFailed, match="nonexistent"):
        store.render("probe", "en", context("request"))


def test_the_context_must_be_complete(tmp_path: Path) -> None:
    store = _store(tmp_path, _blocks("s"))
    partial = {key: value for key, value in context("request").items() if key != "status_url"}
    with pytest.raises(TemplateFailed, match="status_url"):
        store.render("probe", "en", partial)
    assert "status_url" in CONTEXT_KEYS


def test_a_subject_is_one_line_whatever_the_template_or_input(tmp_path: Path) -> None:
    store = _store(tmp_path, _blocks("\n  Re: {{ complaint.subject }}\r\n\u2028second line\t\n"))
    rendered = store.render("probe", "en", context("request"))
    assert rendered.subject == '<script>alert("x")</script> & 待ち時間 Bcc: victim@evil.example'.join(
        ["Re: ", " second line"]
    )


def test_blocks_are_inherited_and_text_is_never_escaped(tmp_path: Path) -> None:
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "layout.j2").write_text(
        "{% block html %}<main>{% block body %}{% endblock %}</main>{% endblock %}"
        "{% block text %}{{ self.body() }}{% endblock %}",
        encoding="utf-8",
    )
    store = _store(
        tmp_path,
        '{% extends "en/layout.j2" %}{% block subject %}{{ org.name }}{% endblock %}'
        "{% block body %}{{ complaint.summary }}{% endblock %}",
    )
    rendered = store.render("probe", "en", context("request"))
    assert rendered.subject == "Kyobashi Clinic & Co"
    assert rendered.text == HOSTILE_BODY + "\n"
    assert rendered.html.startswith("<main>She said &#34;&lt;b&gt;never again")


def test_missing_templates_name_their_path(tmp_path: Path) -> None:
    store = _store(tmp_path, '{% extends "en/nowhere.j2" %}')
    with pytest.raises(TemplateMissing, match=re.escape(str(tmp_path / "zh" / "probe.j2"))):
        store.render("probe", "zh", context("request"))
    with pytest.raises(TemplateMissing, match="nowhere"):
        store.render("probe", "en", context("request"))


def test_a_template_without_a_block_fails(tmp_path: Path) -> None:
    store = _store(tmp_path, "{% block subject %}s{% endblock %}{% block html %}h{% endblock %}")
    with pytest.raises(TemplateFailed, match="'text'"):
        store.render("probe", "en", context("request"))


def test_a_syntax_error_is_located(tmp_path: Path) -> None:
    store = _store(tmp_path, "{% block subject %}{% if %}{% endblock %}")
    with pytest.raises(TemplateFailed, match=r"probe\.j2:1"):
        store.render("probe", "en", context("request"))


@pytest.mark.parametrize("name", ["../en/probe", "en/probe", "", ".hidden", "probe.j2"])
def test_names_cannot_leave_the_folder(tmp_path: Path, name: str) -> None:
    store = _store(tmp_path, _blocks("s"))
    assert not store.available(name, "en")
    with pytest.raises(TemplateMissing):
        store.render(name, "en", context("request"))


def test_pick_language_prefers_the_recipient_then_the_policy() -> None:
    assert STORE.pick_language("receipt", "zh", "ja") == "zh"
    assert STORE.pick_language("report_to_supervisor", "zh", "ja") == "ja"  # no Chinese version
    assert STORE.pick_language("receipt", "fr", "en") == "en"
    assert STORE.pick_language("receipt", None, "en") == "en"


def test_the_sample_context_is_a_complete_template_context() -> None:
    sample: TemplateContext = context("request")
    assert set(sample) == CONTEXT_KEYS
