"""Delivering an alert: email over SMTP (``smtplib``), a webhook POST (``httpx``), the in-app inbox.

Settings come from ``revalign.yaml`` (``alerts.smtp``, ``alerts.webhooks``, ``alerts.addresses``,
``alerts.base_url``; see docs/alerts.md); secrets never sit in the file: the SMTP password is read from the
environment variable ``smtp.password_env`` names, and a webhook URL written as ``${NAME}`` is read from ``NAME``
(a Slack webhook URL is a secret). Each channel is tried on its own: one failing channel is reported in
``Alert.errors`` and does not stop the others.

**Who receives it.** Email goes to the rule's plain ``emails`` and to the addresses the address book
(``alerts.addresses``) lists for each user, role and team of the audience. The inbox goes to every active user of
the app whose name, role or team is in the audience (a team is the role of the same name).
"""

from __future__ import annotations

import os
import re
import smtplib
from dataclasses import dataclass, replace

import httpx

from revalign.alerts.firing import Alert, AlertState
from revalign.alerts.messages import email_message, slack_payload
from revalign.definitions.alerts import Audience
from revalign.errors import ConfigError
from revalign.settings import AlertSettings, SmtpSettings

_ENV_REF = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")


def resolve_secret(value: str) -> str:
    """``${NAME}`` → the environment variable ``NAME`` (``ConfigError`` if unset); anything else as is."""
    match = _ENV_REF.match(value.strip())
    if match is None:
        return value
    found = os.environ.get(match.group(1))
    if not found:
        raise ConfigError(f"environment variable {match.group(1)} is not set (revalign.yaml alerts.webhooks)")
    return found


def email_addresses(audience: Audience, settings: AlertSettings) -> list[str]:
    """The rule's own addresses and the address book's for each member of the audience, without repeats."""
    found = list(audience.emails)
    for member in audience.members():
        found.extend(settings.addresses.get(member, []))
    return list(dict.fromkeys(found))


def send_email(smtp: SmtpSettings, message: object) -> None:
    """Send one ``EmailMessage`` through ``smtp`` (STARTTLS and login when configured)."""
    with smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout) as server:
        if smtp.starttls:
            server.starttls()
        if smtp.username:
            password = os.environ.get(smtp.password_env)
            if password is None:
                raise ConfigError(f"SMTP login needs the password in environment variable {smtp.password_env}")
            server.login(smtp.username, password)
        server.send_message(message)  # type: ignore[arg-type]  # an email.message.EmailMessage, built by messages.py


def post_webhook(url: str, payload: dict[str, object], *, timeout: float = 10.0) -> None:
    """POST ``payload`` as JSON; an HTTP error status raises ``httpx.HTTPStatusError``."""
    response = httpx.post(resolve_secret(url), json=payload, timeout=timeout)
    response.raise_for_status()


@dataclass
class Deliverer:
    """Delivers logged alerts on their rule's channels with a project's alert settings and the app state."""

    settings: AlertSettings
    state: AlertState

    def __call__(self, alert: Alert) -> Alert:
        delivered: list[str] = []
        problems: list[str] = []
        for channel in dict.fromkeys(c.partition(":")[0] for c in alert.channels):
            try:
                delivered.extend(self._send(channel, alert))
            except (OSError, smtplib.SMTPException, httpx.HTTPError, ConfigError) as exc:
                problems.append(f"{channel}: {exc}")
        return replace(alert, delivered=(*alert.delivered, *delivered), errors=(*alert.errors, *problems))

    def _send(self, channel: str, alert: Alert) -> list[str]:
        if channel == "email":
            return self._email(alert)
        if channel == "webhook":
            return self._webhooks(alert)
        return self._inbox(alert)

    def _email(self, alert: Alert) -> list[str]:
        to = email_addresses(alert.audience, self.settings)
        if not to:
            raise ConfigError("no email address for this audience (alerts.addresses in revalign.yaml, or emails:)")
        if self.settings.smtp is None:
            raise ConfigError("channel email needs alerts.smtp in revalign.yaml")
        smtp = self.settings.smtp
        send_email(smtp, email_message(alert.firing, sender=smtp.sender, to=to, base_url=self.settings.base_url))
        return [f"email:{a}" for a in to]

    def _webhooks(self, alert: Alert) -> list[str]:
        named = [c.partition(":")[2] for c in alert.channels if c.startswith("webhook")]
        names = list(self.settings.webhooks) if "" in named else [n for n in named if n]
        payload = slack_payload(alert.firing, self.settings.base_url)
        done = []
        for name in names:
            if name not in self.settings.webhooks:
                raise ConfigError(f"webhook {name!r} is not in revalign.yaml alerts.webhooks")
            post_webhook(self.settings.webhooks[name], payload)
            done.append(f"webhook:{name}")
        return done

    def _inbox(self, alert: Alert) -> list[str]:
        users = list(self.state.inbox_users(alert.audience))
        if alert.id is not None and users:
            self.state.add_to_inbox(alert.id, [uid for uid, _ in users])
        return [f"inbox:{name}" for _, name in users]


__all__ = ["Deliverer", "email_addresses", "post_webhook", "resolve_secret", "send_email"]
