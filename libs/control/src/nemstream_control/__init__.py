"""Control requests to running services, and the jobs they become.

An operator's action (from the status page or the API) is a request published on the control
stream (``NEM_CONTROL``, work-queue retention: each request is taken by exactly one worker, even
with two replicas of a fetcher) under a subject that names who executes it:

- ``control.backfill.<feed>``: that feed's fetcher backfills a date range with the backfill code;
- ``control.alerts.test`` / ``control.mailer.test``: a test text / mail through the service's real
  sending path.

Each request is a job whose state (queued, running with progress, done, failed) is kept in the
``nemstream_jobs`` KV bucket, so any page can show it and a restart loses nothing: a worker
killed mid-job leaves the request unacknowledged and it is delivered again.

Also here: each fetcher's last poll (ok, or its error) in the ``nemstream_feeds`` KV bucket
(`FeedPolls`), which the status page shows per feed.
"""

from nemstream_control._feeds import FEEDS_BUCKET, FeedPoll, FeedPolls
from nemstream_control._jobs import (
    JOBS_BUCKET,
    Job,
    Jobs,
    JobState,
    new_job_id,
)
from nemstream_control._keys import MIN_KEY_LENGTH, ApiKeys, KeyRefused
from nemstream_control._requests import (
    ALERTS_TEST,
    CONTROL_PREFIX,
    CONTROL_STREAM,
    MAILER_TEST,
    BackfillRequest,
    ControlRequest,
    TestAlertRequest,
    backfill_subject,
    ensure_control_stream,
    submit,
)
from nemstream_control._worker import ControlWorker, JobFailed, Progress

__all__ = [
    "ALERTS_TEST",
    "CONTROL_PREFIX",
    "CONTROL_STREAM",
    "FEEDS_BUCKET",
    "JOBS_BUCKET",
    "MAILER_TEST",
    "MIN_KEY_LENGTH",
    "ApiKeys",
    "BackfillRequest",
    "ControlRequest",
    "ControlWorker",
    "FeedPoll",
    "FeedPolls",
    "Job",
    "JobFailed",
    "JobState",
    "Jobs",
    "KeyRefused",
    "Progress",
    "TestAlertRequest",
    "backfill_subject",
    "ensure_control_stream",
    "new_job_id",
    "submit",
]
