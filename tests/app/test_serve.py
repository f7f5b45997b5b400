"""``serve --dev``'s accounts: admin, auditor and staff exist, with passwords printed only when created."""

import pytest

from app.serve import dev_accounts, print_dev_accounts
from flows.admin.accounts import authenticate, list_accounts
from flows.clock import FakeClock
from flows.runtime.assembly import Runtime
from notifiers.outbound.sink import MailSink
from tests.runtime_support import START, make_runtime


@pytest.fixture
def runtime(database_url: str, sink: MailSink) -> Runtime:
    return make_runtime(database_url, sink, FakeClock(START))


def test_dev_mode_creates_the_three_accounts_once_with_working_passwords(
    runtime: Runtime, capsys: pytest.CaptureFixture[str]
) -> None:
    created = dev_accounts(runtime)
    assert [name for name, _ in created] == ["admin", "auditor", "staff"]
    assert len({password for _, password in created}) == 3
    with runtime.sessions.begin() as session:
        for name, password in created:
            account = authenticate(session, name, password)
            assert account is not None
            assert account.role == name
    print_dev_accounts("http://127.0.0.1:8000", created)
    printed = capsys.readouterr().out
    assert "http://127.0.0.1:8000/login" in printed
    assert all(password in printed for _, password in created)

    assert dev_accounts(runtime) == []  # a restart keeps the accounts and their passwords
    with runtime.sessions() as session:
        assert len(list_accounts(session)) == 3
    print_dev_accounts("http://127.0.0.1:8000", [])
    assert not any(password in capsys.readouterr().out for _, password in created)
