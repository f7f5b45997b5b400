"""``serve --demo``: play a short complaint through the running system, as a person would.

A phone complaint heard by 田中 is submitted through the API; 田中 follows the action link in his
email and reports to his supervisor 佐藤; nobody else acts, so reminders, escalations and violations
with their penalty follow within a minute. Everything goes through the real web app, database,
Prefect runs and SMTP sink.
"""

import asyncio
import re

import httpx

from notifiers.outbound.sink import MailSink

LINK = re.compile(r"https?://\S+/a/[A-Za-z0-9_.\-]+")
DEMO_SECONDS = 75


async def play_demo(base_url: str, sink: MailSink | None, stop: asyncio.Event) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as http:
        await _wait_until_up(http)
        complaint = {
            "channel": "phone",
            "heard_by": "tanaka",
            "category": "attitude",
            "subject": "健診会場での説明について",
            "body": "健診会場で受付の説明が分かりにくく、長時間待たされました。",
        }
        created = (await http.post("/api/complaints", json=complaint)).json()
        print(f"[demo] complaint {created['id']} submitted (phone, heard by 田中)", flush=True)
        if sink is None:
            return
        link = await _first_link(sink, "tanaka@", "report_to_supervisor", stop)
        if link is not None:
            answer = await http.post(link[link.index("/a/") :], data={"to": "sato"})
            if answer.status_code == 200:  # noqa: PLR2004
                print("[demo] 田中 followed his action link and reported to 佐藤 (上司)", flush=True)
        seen = 0
        for _ in range(DEMO_SECONDS):
            mails = sink.messages()
            for mail in mails[seen:]:
                print(f"[demo] mail to {', '.join(mail.envelope_to)}: {mail.message['Subject']}", flush=True)
            seen = len(mails)
            if stop.is_set():
                return
            await asyncio.sleep(1)
        print(f"[demo] done: {seen} emails; see {base_url}/dev/mail", flush=True)


async def _wait_until_up(http: httpx.AsyncClient) -> None:
    for _ in range(100):
        try:
            if (await http.get("/healthz")).status_code == 200:  # noqa: PLR2004
                return
        except httpx.HTTPError:
            pass
        await asyncio.sleep(0.2)


async def _first_link(sink: MailSink, address: str, step: str, stop: asyncio.Event) -> str | None:
    for _ in range(60):
        for mail in sink.messages():
            if mail.message["X-Complaintflow-Step"] == step and any(address in to for to in mail.envelope_to):
                body = mail.message.get_body(preferencelist=("plain",))
                found = LINK.search(str(body.get_content()) if body else "")
                if found:
                    return found.group(0)
        if stop.is_set():
            return None
        await asyncio.sleep(0.5)
    return None
