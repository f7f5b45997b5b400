"""Checking an uploaded policy as ``policy check`` would, with problems named after the upload."""

from pathlib import Path

import pytest

from flows.admin.lifecycle import (
    MAX_SOURCE_BYTES,
    Candidate,
    check_candidate,
    read_server_file,
    upload_name,
)
from policies.errors import PolicyInvalid
from tests.factories import REPO

POLICIES = REPO / "policies"
TEMPLATES = POLICIES / "templates"
CLINIC_TEXT = (POLICIES / "keieikai_clinic.yaml").read_text(encoding="utf-8")
ORG_TEXT = (POLICIES / "orgs" / "keieikai.yaml").read_text(encoding="utf-8")


def _problems(candidate: Candidate, policies: Path = POLICIES) -> list[str]:
    with pytest.raises(PolicyInvalid) as caught:
        check_candidate(candidate, policies, TEMPLATES)
    return [str(p) for p in caught.value.problems]


def test_a_clean_upload_compiles_under_the_clinics_org_and_keeps_its_texts() -> None:
    checked = check_candidate(Candidate("new.yaml", CLINIC_TEXT), POLICIES, TEMPLATES)
    assert checked.ready.policy.id == "keieikai-clinic"
    assert checked.ready.org.id == "keieikai"
    assert (checked.sources.policy, checked.sources.org) == (CLINIC_TEXT, ORG_TEXT)
    assert not checked.new_org


def test_every_problem_is_located_in_the_uploaded_file_by_its_name() -> None:
    broken = CLINIC_TEXT.replace("within: 30分", "within: soon").replace(
        "within: 1時間", "within: 1 fortnight", 1
    )
    assert _problems(Candidate("mine.yaml", broken)) == [
        "mine.yaml:47:13: within: 'soon' is not a duration like '2h', '30 minutes' or '3 working days'",
        "mine.yaml:63:13: within: unknown duration unit 'fortnight' in '1 fortnight' (use s, m, h, d, w,"
        " working days, working hours, or 秒, 分, 時間, 日, 営業日, 小时, 天, 工作日)",
    ]
    assert _problems(Candidate("mine.yaml", "steps: [\n")) == [
        "mine.yaml:2:1: invalid YAML: expected the node content, but found '<stream end>'"
    ]


def test_an_org_outside_the_policies_folder_is_refused_without_reading_it() -> None:
    escaping = CLINIC_TEXT.replace("org: orgs/keieikai.yaml", "org: ../../../etc/passwd")
    assert _problems(Candidate("mine.yaml", escaping)) == [
        "mine.yaml:12:6: org '../../../etc/passwd' must name a file inside the policies folder"
    ]


def test_a_missing_org_is_named_as_the_administrator_wrote_it_not_by_a_temporary_path() -> None:
    missing = CLINIC_TEXT.replace("org: orgs/keieikai.yaml", "org: orgs/nowhere.yaml")
    assert _problems(Candidate("mine.yaml", missing)) == [
        "mine.yaml:12:6: org directory orgs/nowhere.yaml does not exist (org: is relative to the policy file)"
    ]


def test_an_uploaded_org_is_used_instead_of_the_one_on_the_server() -> None:
    renamed = ORG_TEXT.replace("name:", "name: 新", 1)
    checked = check_candidate(Candidate("new.yaml", CLINIC_TEXT, "org.yaml", renamed), POLICIES, TEMPLATES)
    assert checked.new_org
    assert checked.ready.org.name.startswith("新")
    assert checked.sources.org == renamed
    assert _problems(
        Candidate("new.yaml", CLINIC_TEXT, "staff.yaml", "id: x\nname: y\npeople: [{id: a}]\n")
    ) == [
        "staff.yaml:3:10: missing required key 'email' in person 'a'",
        "staff.yaml:3:10: missing required key 'name' in person 'a'",
    ]


def test_templates_are_checked_against_the_runtimes_template_folder() -> None:
    unknown = CLINIC_TEXT.replace("template: missed_report", "template: no_such_mail", 1)
    (problem,) = _problems(Candidate("mine.yaml", unknown))
    assert problem.startswith("mine.yaml:53:21: template 'no_such_mail' has no ja version")


def test_uploads_are_bounded_in_size() -> None:
    huge = CLINIC_TEXT + "#" * MAX_SOURCE_BYTES
    assert _problems(Candidate("big.yaml", huge)) == [
        f"big.yaml:1:1: file is larger than the {MAX_SOURCE_BYTES} bytes allowed for a policy"
    ]


def test_a_server_file_is_read_only_from_inside_the_policies_folder(tmp_path: Path) -> None:
    candidate = read_server_file(POLICIES, "keieikai_clinic.yaml")
    assert (candidate.name, candidate.text) == ("keieikai_clinic.yaml", CLINIC_TEXT)
    assert check_candidate(candidate, POLICIES, TEMPLATES).ready.policy.id == "keieikai-clinic"
    for outside in ("../pyproject.toml", "../../etc/passwd", "/etc/passwd", "orgs/../../README.md"):
        with pytest.raises(PolicyInvalid, match=r"name a \.yaml file inside the policies folder"):
            read_server_file(POLICIES, outside)
    with pytest.raises(PolicyInvalid, match="no such file"):
        read_server_file(POLICIES, "drafts/none.yaml")
    link = tmp_path / "policies"
    link.mkdir()
    (link / "sneaky.yaml").symlink_to(REPO / "pyproject.toml")
    with pytest.raises(PolicyInvalid, match="inside the policies folder"):
        read_server_file(link, "sneaky.yaml")


def test_a_server_file_in_a_subfolder_finds_its_org_relative_to_itself(tmp_path: Path) -> None:
    (tmp_path / "orgs").mkdir()
    (tmp_path / "orgs" / "keieikai.yaml").write_text(ORG_TEXT, encoding="utf-8")
    (tmp_path / "drafts").mkdir()
    draft = CLINIC_TEXT.replace("org: orgs/keieikai.yaml", "org: ../orgs/keieikai.yaml")
    (tmp_path / "drafts" / "next.yaml").write_text(draft, encoding="utf-8")
    candidate = read_server_file(tmp_path, "drafts/next.yaml")
    assert candidate.name == "drafts/next.yaml"
    assert check_candidate(candidate, tmp_path, TEMPLATES).sources.org == ORG_TEXT


@pytest.mark.parametrize(
    ("given", "name"),
    [
        ("policy.yaml", "policy.yaml"),
        ("C:\\Users\\me\\new.yml", "new.yml"),
        ("../../etc/passwd", "passwd.yaml"),
        ("", "uploaded.yaml"),
        (None, "uploaded.yaml"),
        ("..", "uploaded.yaml"),
    ],
)
def test_upload_names_are_a_last_path_segment_ending_in_yaml(given: str | None, name: str) -> None:
    assert upload_name(given) == name
