-- Migration 014: the alert outbox.
--
-- The alert sensor writes each alert here, one row per alert and channel, before it moves its
-- cursor past the run the alert is about, and delivers from here. An alert that cannot be
-- delivered yet waits in its row and is retried with backoff; the rows behind it go on being
-- delivered. (alert_key, channel) is unique, so writing an alert twice stores it once.

CREATE TABLE alert_outbox (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    alert_key       text        NOT NULL,  -- what the alert is about: the Dagster run id
    channel         text        NOT NULL,  -- SHA-256 of the apprise URL: URLs carry tokens, this table does not
    title           text        NOT NULL,
    body            text        NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    delivered_at    timestamptz,
    UNIQUE (alert_key, channel)
);

CREATE INDEX alert_outbox_due ON alert_outbox (next_attempt_at, id) WHERE delivered_at IS NULL;

GRANT SELECT, INSERT, UPDATE ON alert_outbox TO ledger_system;
