"""An alert as people read it: plain text and HTML (Jinja templates in ``alerts/templates/``), an email with
both, and the Slack-compatible JSON a webhook receives (``{"text": …, "blocks": […]}``: Slack, Mattermost and
most chat tools accept it).

The words come from the firing (its title, message and driver, whose numbers were formatted by
:mod:`revalign.display` when the condition built them); this module lays them out and makes links absolute.
"""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from revalign.alerts.firing import Firing, Link

ENV = Environment(
    loader=PackageLoader("revalign.alerts", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
)
"""HTML templates are escaped (a KPI label is user text); text templates are not."""
COLOURS = {"critical": "#b00020", "warning": "#9a6700", "info": "#1a5fb4"}
ICONS = {"critical": ":red_circle:", "warning": ":warning:", "info": ":information_source:"}


def absolute(links: tuple[Link, ...], base_url: str) -> list[dict[str, str]]:
    """``[{label, url}]`` with each path joined to the server's address."""
    base = base_url.rstrip("/")
    return [
        {"label": link.label, "url": base + link.path if link.path.startswith("/") else link.path} for link in links
    ]


def alert_text(firing: Firing, base_url: str) -> str:
    return ENV.get_template("alert.txt").render(f=firing, links=absolute(firing.links, base_url))


def alert_html(firing: Firing, base_url: str) -> str:
    colour = COLOURS.get(firing.severity, "#333")
    return ENV.get_template("alert.html").render(f=firing, links=absolute(firing.links, base_url), colour=colour)


def subject_line(firing: Firing) -> str:
    return f"[revalign] {firing.severity}: {firing.title}"


def email_message(firing: Firing, *, sender: str, to: list[str], base_url: str) -> EmailMessage:
    """A multipart email (text, with an HTML alternative) for ``to``."""
    msg = EmailMessage()
    msg["Subject"] = subject_line(firing)
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    msg["X-Revalign-Alert"] = firing.key
    msg.set_content(alert_text(firing, base_url))
    msg.add_alternative(alert_html(firing, base_url), subtype="html")
    return msg


def _mrkdwn(text: str) -> str:
    """Slack's three control characters escaped, as its docs ask for user text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payload(firing: Firing, base_url: str) -> dict[str, Any]:
    """Slack-compatible JSON: ``text`` (the notification line) and ``blocks`` (header, message, driver, links)."""
    icon = ICONS.get(firing.severity, "")
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": firing.title[:150]}},
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": f"{icon} *{firing.severity}* · {_mrkdwn(firing.message)}"},
        },
    ]
    if firing.driver:
        blocks.append(
            {"type": "section", "text": {"type": "mrkdwn", "text": f"*Driver that moved:* {_mrkdwn(firing.driver)}"}}
        )
    links = absolute(firing.links, base_url)
    if links:
        text = " · ".join(f"<{link['url']}|{_mrkdwn(link['label'])}>" for link in links)
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text}})
    context = f"rule `{firing.rule}` · {firing.condition} · {_mrkdwn(firing.subject)} · {firing.period}"
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": context}]})
    return {"text": f"{firing.severity}: {firing.title} — {firing.message}", "blocks": blocks}


__all__ = ["ENV", "alert_html", "alert_text", "email_message", "slack_payload", "subject_line"]
