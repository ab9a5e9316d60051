-- Migration 020: what a matching pass needs to retry only what changed since the last one
-- (ledger_pipeline/statements/matching.py), so that a day's run does not grow with the backlog of
-- lines no rule matched:
--   statements.arrival_xid          the transaction that imported the statement (as entries')
--   statement_matches.arrival_xid   the transaction that made the match: what it took may leave
--                                   another group possible (the sum rule draws its nearest candidates)
--   statement_matches.unmatched_xid the transaction that undid it: its line and entries are free
--   statement_match_passes          per bank account, the last pass that saw all its lines up to
--                                   its day: what it saw (its snapshot's xmin), and the rules,
--                                   mapping and time zone it matched under
-- Rows from before this migration arrive at '0': the first pass after it retries every line.
-- A sequence-like xid is taken before commit, so "changed since" is "at or above the pass's
-- snapshot xmin", which may retry a little more than changed, never less.
ALTER TABLE statements ADD COLUMN arrival_xid xid8 NOT NULL DEFAULT '0';
ALTER TABLE statements ALTER COLUMN arrival_xid SET DEFAULT pg_current_xact_id();
ALTER TABLE statement_matches ADD COLUMN arrival_xid xid8 NOT NULL DEFAULT '0';
ALTER TABLE statement_matches ALTER COLUMN arrival_xid SET DEFAULT pg_current_xact_id();
ALTER TABLE statement_matches ADD COLUMN unmatched_xid xid8;

-- A pass reads the matches made since the last one by this index; the undone ones it reads by
-- migration 019's idx_statement_matches_undone (they are few).
CREATE INDEX idx_statement_matches_arrival ON statement_matches (arrival_xid);

CREATE TABLE statement_match_passes (
    bank_account_id uuid PRIMARY KEY REFERENCES bank_accounts (id),
    watermark       xid8 NOT NULL,         -- the pass's snapshot xmin: anything at or above it is retried
    through         date,                  -- the last booking day it read (NULL: every line)
    fingerprint     text NOT NULL,         -- the rules, the mirrored ledger account and the time zone
    passed_at       timestamptz NOT NULL DEFAULT now()
);

GRANT SELECT, INSERT, UPDATE ON statement_match_passes TO ledger_system;
ALTER TABLE statement_match_passes ENABLE ROW LEVEL SECURITY;
ALTER TABLE statement_match_passes FORCE ROW LEVEL SECURITY;
CREATE POLICY statement_match_passes_system ON statement_match_passes TO ledger_system USING (true) WITH CHECK (true);
