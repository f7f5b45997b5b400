"""The staff account the benchmarks submit complaints as: who heard a complaint and when are facts only a
staff or admin account may post (flows/intake/store.py, ``STAFF_ONLY_FIELDS``), as phone staff's tools do."""

from flows.admin.accounts import Role, create_account, find_account, issue_api_token
from flows.runtime.assembly import Runtime

USERNAME = "bench-phone-desk"
PASSWORD = "bench-" + "p" * 40


def staff_token(runtime: Runtime) -> str:
    """A new API token for the bench's staff account in the runtime's database (created on the first
    run; a ``--database`` given again already has it)."""
    now = runtime.clock.now()
    with runtime.sessions.begin() as session:
        account = find_account(session, USERNAME) or create_account(
            session, username=USERNAME, password=PASSWORD, role=Role.STAFF, display_name="Bench phone desk",
            now=now,
        )  # fmt: skip
        return issue_api_token(session, account_id=account.id, name="bench", now=now)


def bearer(token: str) -> dict[str, str]:
    """The request header that sends ``token``."""
    return {"Authorization": f"Bearer {token}"}
