"""DUID discovery: units in SCADA that the registry does not list, announced once (KV create)
in batched mails and on ``nem.registry.duid.v1``; registry changes mailed too."""

from nemstream_mailer._changes import Change, registry_changes
from nemstream_mailer._control import mail_test_body, mail_test_worker
from nemstream_mailer._mailer import (
    BUCKET,
    SEEN_BUCKET,
    DuidMailer,
    Sighting,
    kv_key,
    new_duid_mail,
)
from nemstream_mailer._service import current_registry, run_mailer
from nemstream_mailer.settings import MailerSettings

__all__ = [
    "BUCKET",
    "SEEN_BUCKET",
    "Change",
    "DuidMailer",
    "MailerSettings",
    "Sighting",
    "current_registry",
    "kv_key",
    "mail_test_body",
    "mail_test_worker",
    "new_duid_mail",
    "registry_changes",
    "run_mailer",
]
