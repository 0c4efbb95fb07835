from __future__ import annotations

from celery import shared_task

from selfdiag.services import action_reminders_send


@shared_task(name="selfdiag.tasks.action_reminders_send", queue="email", acks_late=True)
def action_reminders_send_task() -> int:
    """Daily (beat): email managers the actions of their plan that fall due. Idempotent."""
    return action_reminders_send()
