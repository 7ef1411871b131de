"""Alerts end to end: a rule fires on a hand-made project; a real SMTP server on loopback receives the email, a
loopback webhook receives the Slack-compatible JSON, the users' inboxes get it; evaluating again sends nothing
(one alert per condition); a changed condition, an expired cooldown and a rate limit behave as documented.

Hand-worked fixture (tests/interfaces/server/conftest.py): opportunities o1 (2025-01-10), o3 (2025-01-31),
o2 (2025-02-15), o4 (2025-03-01), o5 (2025-03-31) → 5 opportunities created in 2025-Q1. Target 8 → 5/8 is
37.5 % short, status red (more than 10 % below target).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import yaml

from revalign.alerts import AlertRule, Deliverer, checked_alert_rules, evaluate_alerts
from revalign.interfaces.server.state import StateStore
from revalign.interfaces.server.state.alerts import AlertStore
from revalign.project import Project
from tests.alerts.receivers import smtp_server, webhook_server
from tests.interfaces.server.conftest import OPPORTUNITIES, write_canonical

T0 = dt.datetime(2026, 1, 5, 9, 0)
OPPS = OPPORTUNITIES.assign(deal_type="new_business")  # opportunities_created counts new business
TARGET = 8

RULES = {
    "alerts": {
        "opps_low": {
            "condition": "kpi_off_target",
            "kpi": "opportunities_created",
            "grain": "quarter",
            "period": "2025-Q1",
            "severity": "critical",
            "audience": {"roles": ["leadership"], "users": ["mia"], "emails": ["board@example.com"]},
            "channels": ["email", "webhook", "inbox"],
            "cooldown": "24h",
        }
    }
}


def expected_q1() -> int:
    """Opportunities created in 2025-Q1, counted independently with pandas."""
    created = pd.to_datetime(OPPS.loc[OPPS["deal_type"] == "new_business", "created_at"])
    return int(((created >= "2025-01-01") & (created < "2025-04-01")).sum())


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple]:
    with smtp_server() as (mailbox, smtp_port), webhook_server() as (hooks, hook_url):
        yield mailbox, smtp_port, hooks, hook_url


@pytest.fixture(scope="module")
def setup(servers, tmp_path_factory) -> Iterator[tuple[Project, AlertStore]]:
    _, smtp_port, _, hook_url = servers
    folder: Path = tmp_path_factory.mktemp("alerts")
    settings = {
        "targets": {"opportunities_created": [{"period": "2025-Q1", "value": TARGET}]},
        "alerts": {
            "smtp": {"host": "127.0.0.1", "port": smtp_port, "from": "revalign@example.com"},
            "webhooks": {"chat": hook_url},
            "addresses": {"leadership": ["cro@example.com"], "mia": ["mia@example.com"]},
            "base_url": "http://revalign.test",
        },
    }
    (folder / "revalign.yaml").write_text(yaml.safe_dump(settings), encoding="utf-8")
    (folder / "alerts.yaml").write_text(yaml.safe_dump(RULES), encoding="utf-8")
    project = Project(folder, engine="duckdb://:memory:")
    write_canonical(project, "opportunities", OPPS)
    store = StateStore(f"sqlite:///{folder / 'state.sqlite'}")
    store.migrate()
    store.add_user("lead", "password-123", "leadership")
    store.add_user("mia", "password-123", "marketing")
    store.add_user("sam", "password-123", "sales")
    yield project, AlertStore(store)
    store.close()
    project.close()


def run(project: Project, state: AlertStore, now: dt.datetime, **changes):
    rules, issues = checked_alert_rules(project)
    assert not issues, issues
    rules = {n: AlertRule.model_validate({**r.model_dump(), **changes}) for n, r in rules.items()}
    return evaluate_alerts(project, rules, state, Deliverer(project.settings.alerts, state), now=now)


def test_email_webhook_and_inbox_receive_one_alert_and_a_second_run_sends_nothing(servers, setup):
    mailbox, _, hooks, _ = servers
    project, state = setup
    actual = expected_q1()
    assert actual == 5

    first = run(project, state, T0)
    assert [a.outcome for a in first.alerts] == ["sent"], first.problems
    alert = first.alerts[0]
    assert alert.firing.key == "opps_low|opportunities_created|2025-Q1"
    assert alert.firing.facts["actual"] == actual and alert.firing.facts["target"] == TARGET
    assert alert.firing.facts["shortfall"] == pytest.approx((TARGET - actual) / TARGET)  # 0.375

    # the SMTP server got one message, for every address of the audience, with the numbers and the drill link
    assert len(mailbox.received) == 1
    recipients, message = mailbox.received[0]
    assert sorted(recipients) == ["board@example.com", "cro@example.com", "mia@example.com"]
    assert message["Subject"] == "[revalign] critical: Opportunities created off target in 2025-Q1"
    assert message["From"] == "revalign@example.com"
    text = message.get_body(("plain",)).get_content()
    assert "Opportunities created is 5 in 2025-Q1 against a target of 8 (37.5% off target)." in text
    drill = "http://revalign.test/records?kpi=opportunities_created&start=2025-01-01&end=2025-03-31"
    assert drill in text
    html = message.get_body(("html",)).get_content()
    assert f'href="{drill.replace("&", "&amp;")}"' in html

    # the webhook got Slack-compatible JSON: a text line and blocks, the links in Slack's <url|label> form
    assert len(hooks) == 1
    body = hooks[0]["json"]
    assert hooks[0]["content_type"] == "application/json"
    assert set(body) == {"text", "blocks"}
    assert body["text"].startswith("critical: Opportunities created off target in 2025-Q1")
    assert body["blocks"][0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Opportunities created off target in 2025-Q1"},
    }
    links = [b for b in body["blocks"] if b["type"] == "section" and "<http" in b["text"]["text"]]
    assert links and f"<{drill}|Records behind the number>" in links[0]["text"]["text"]

    # the inbox: the leadership user and mia (named), not sam (sales)
    assert sorted(d.split(":", 1)[1] for d in alert.delivered if d.startswith("inbox:")) == ["lead", "mia"]

    # evaluating again: the same condition is not sent twice
    second = run(project, state, T0 + dt.timedelta(hours=1))
    assert [a.outcome for a in second.alerts] == ["duplicate"]
    assert len(mailbox.received) == 1 and len(hooks) == 1


def test_a_changed_condition_and_an_expired_cooldown_send_again(servers, setup):
    mailbox, _, hooks, _ = servers
    project, state = setup
    before = len(mailbox.received)
    # a threshold of 0.5 makes the 37.5 % miss no longer fire at all
    quiet = run(project, state, T0 + dt.timedelta(hours=2), threshold=0.5)
    assert quiet.alerts == []
    # a threshold of 0.3 fires with status red, the state already sent within the cooldown: a duplicate
    same = run(project, state, T0 + dt.timedelta(hours=3), threshold=0.3)
    assert [a.outcome for a in same.alerts] == ["duplicate"]
    # a target of 5.2 makes the miss amber (3.8 % short) with threshold 0: the state changed, so it is sent
    changed = run(project, state, T0 + dt.timedelta(hours=4), threshold=0.0, target=5.2)
    assert [(a.outcome, a.firing.state) for a in changed.alerts] == [("sent", "amber")]
    # after the cooldown (24 h after the last send) the unchanged condition is sent once more as a reminder
    later = run(project, state, T0 + dt.timedelta(hours=4 + 25), threshold=0.0, target=5.2)
    assert [(a.outcome, a.reason) for a in later.alerts] == [("sent", "cooldown over")]
    assert len(mailbox.received) == before + 2 and len(hooks) == before + 2


def test_the_rate_limit_holds_back_alerts_beyond_the_window(setup):
    project, state = setup
    # three sends so far (test order, all within a week): a limit of 3 per week holds the next change back
    now = T0 + dt.timedelta(days=3)
    held = run(project, state, now, threshold=0.0, target=5.6, rate_limit={"max": 3, "per": "7d"})
    assert [a.outcome for a in held.alerts] == ["rate_limited"]
    assert state.sent_count("opps_low", now - dt.timedelta(days=7)) == 3


def test_a_failing_channel_is_reported_and_the_alert_is_retried(setup):
    project, state = setup
    with webhook_server(status=500) as (hooks, url):
        broken = project.settings.alerts.model_copy(update={"webhooks": {"chat": url}, "smtp": None})
        rules, _ = checked_alert_rules(project)
        update = {"channels": ["email", "webhook"], "target": 100.0}
        rules = {n: AlertRule.model_validate({**r.model_dump(), **update}) for n, r in rules.items()}
        result = evaluate_alerts(project, rules, state, Deliverer(broken, state), now=T0 + dt.timedelta(days=30))
        (alert,) = result.alerts
        assert alert.outcome == "failed" and len(hooks) == 1
        assert any(e.startswith("email: channel email needs alerts.smtp") for e in alert.errors)
        assert any(e.startswith("webhook:") and "500" in e for e in alert.errors)
        assert state.last_sent(alert.firing.key).state == "amber"  # the failed one did not count as sent
