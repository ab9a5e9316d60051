-- Migration 017: what each verification of the audit trail re-hashed, so that the nightly run
-- reads what is new plus a rotating slice of the old instead of the whole log
-- (ledger_pipeline/audit/verification.py).
--
-- The slice advances with each recorded verification, not with the calendar: a night that did
-- not run skips no slice, and N recorded nightly runs in a row re-hash every sealed block. Per
-- sealed block, when it was last re-hashed and found intact, so the age of the oldest block's
-- last full verification can be checked (audit_verification_fresh).

CREATE TABLE audit_verifications (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id             uuid REFERENCES reconciliation_runs (id) ON DELETE SET NULL,
    kind               text NOT NULL CHECK (kind IN ('nightly', 'full')),
    verified_at        timestamptz NOT NULL DEFAULT now(),
    head_seal          bigint NOT NULL,  -- the newest seal when the run read (0: none)
    new_seals          bigint NOT NULL,  -- seals after the last intact verification's head, re-hashed whole
    slice              int,              -- the slice of older blocks re-hashed (block mod slices); NULL: full
    slices             int,
    blocks             bigint NOT NULL,  -- sealed blocks re-hashed
    audit_rows         bigint NOT NULL,  -- audit rows re-hashed
    ledger_rows        bigint NOT NULL,  -- ledger rows compared with their trail
    -- The run's snapshot xmin: every ledger row written by a transaction below it was compared
    -- (or, nightly, had been by an earlier run); the next nightly run compares what changed since.
    watermark          xid8 NOT NULL,
    intact             boolean NOT NULL  -- the log and the trail held (the next run builds on it)
);
CREATE INDEX idx_audit_verifications_latest ON audit_verifications (intact, id DESC);

CREATE TABLE audit_block_verifications (
    seal_no     bigint NOT NULL,
    block       bigint NOT NULL,  -- seq div 4096, as audit_seals.blocks keys them
    verified_at timestamptz NOT NULL,
    PRIMARY KEY (seal_no, block)
);

-- Whether a row version was written by a transaction at or after p_since (a 64-bit xid, as
-- pg_snapshot_xmin gives it): xmin holds the low 32 bits, compared modulo 2^32 in the half of the
-- circle after p_since, as the server itself compares xids. NULL p_since: every row.
CREATE FUNCTION audit_written_since(p_xmin xid, p_since bigint) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT p_since IS NULL
        OR ((p_xmin::text::bigint - p_since % 4294967296) % 4294967296 + 4294967296) % 4294967296 < 2147483648
$$;

GRANT SELECT, INSERT ON audit_verifications TO ledger_system;
GRANT SELECT, INSERT, UPDATE ON audit_block_verifications TO ledger_system;
