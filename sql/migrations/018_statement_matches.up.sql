-- Migration 018: matches between bank statement lines and ledger entries, and the external run type.
--   statement_matches       one match: the rule that made it (or a person, with the reason), the
--                           amount and date difference, and when and why it was undone
--   statement_match_links   the lines and entries of a match (one line and several entries, or the
--                           reverse, or one of each)
-- A line or an entry is in at most one active match: the partial unique indexes hold that even
-- when two runs match at once, whatever the matcher's own locking does. A match is never deleted:
-- undoing one (statements unmatch) stamps it and deactivates its links, in the audit log.

CREATE TABLE statement_matches (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    bank_account_id   uuid NOT NULL REFERENCES bank_accounts (id),
    rule              text NOT NULL CHECK (rule IN ('reference', 'amount_date', 'tolerance', 'sum', 'manual')),
    strategy          text NOT NULL CHECK (strategy IN ('one_to_one', 'many_to_one', 'one_to_many')),
    -- The lines' sum less the entries' (signed as the bank sees the account: a debit of the mirrored
    -- asset account is a bank credit, positive).
    amount_difference numeric NOT NULL,
    -- The entries' booking day less the lines' (in LEDGER_TIMEZONE), the largest in size of a group.
    days_difference   integer NOT NULL,
    manual            boolean NOT NULL DEFAULT false,
    reason            text,
    matched_at        timestamptz NOT NULL DEFAULT now(),
    unmatched_at      timestamptz,
    unmatch_reason    text,
    CHECK (manual = (rule = 'manual')),
    CHECK (NOT manual OR coalesce(btrim(reason), '') <> ''),
    CHECK ((unmatched_at IS NULL) = (unmatch_reason IS NULL)),
    CHECK (unmatch_reason IS NULL OR btrim(unmatch_reason) <> '')
);

CREATE TABLE statement_match_links (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    match_id          uuid NOT NULL REFERENCES statement_matches (id),
    statement_line_id uuid REFERENCES statement_lines (id),
    entry_id          uuid REFERENCES entries (id),
    -- The match's own state, repeated here because a unique index can only read its own row.
    active            boolean NOT NULL DEFAULT true,
    CHECK (num_nonnulls(statement_line_id, entry_id) = 1)
);

CREATE INDEX idx_statement_match_links_match ON statement_match_links (match_id);
CREATE UNIQUE INDEX uq_statement_match_links_line ON statement_match_links (statement_line_id)
    WHERE active AND statement_line_id IS NOT NULL;
CREATE UNIQUE INDEX uq_statement_match_links_entry ON statement_match_links (entry_id)
    WHERE active AND entry_id IS NOT NULL;
-- Matching reads a mirrored account's entries by day; entries are found by account already.
CREATE INDEX idx_statement_lines_booking ON statement_lines (booking_date);

ALTER TABLE reconciliation_runs DROP CONSTRAINT reconciliation_runs_run_type_check;
ALTER TABLE reconciliation_runs ADD CONSTRAINT reconciliation_runs_run_type_check
    CHECK (run_type IN ('daily', 'hourly', 'manual', 'backfill', 'escalation', 'external'));

-- ---------------------------------------------------------------------------------------------
-- Audit: migration 016's trigger function; audit_write learns the two tables
-- ---------------------------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION audit_write(p_relid oid, p_operation text, p_old jsonb, p_new jsonb) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_table text := CASE p_relid
                        WHEN 'public.accounts'::regclass THEN 'accounts'
                        WHEN 'public.transactions'::regclass THEN 'transactions'
                        WHEN 'public.entries'::regclass THEN 'entries'
                        WHEN 'public.bank_accounts'::regclass THEN 'bank_accounts'
                        WHEN 'public.statement_files'::regclass THEN 'statement_files'
                        WHEN 'public.statements'::regclass THEN 'statements'
                        WHEN 'public.statement_lines'::regclass THEN 'statement_lines'
                        WHEN 'public.statement_matches'::regclass THEN 'statement_matches'
                        WHEN 'public.statement_match_links'::regclass THEN 'statement_match_links'
                    END;
BEGIN
    IF v_table IS NULL THEN
        RAISE EXCEPTION 'audit triggers belong on the ledger''s tables (accounts, transactions, entries), the'
                        ' bank statements'' (bank_accounts, statement_files, statements, statement_lines) and'
                        ' their matches (statement_matches, statement_match_links) only'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    INSERT INTO public.audit_log (table_name, operation, record_id, user_id, ip_address,
                                  old_data, new_data, db_role)
    VALUES (v_table, p_operation,
            (coalesce(p_new, p_old) ->> 'id')::uuid,
            public.app_current_user_id(), public.app_client_ip(), p_old, p_new,
            coalesce(NULLIF(current_setting('role'), 'none'), session_user::text));
END
$$;

CREATE TRIGGER trigger_audit_statement_matches AFTER INSERT OR UPDATE OR DELETE ON statement_matches
    FOR EACH ROW EXECUTE FUNCTION audit_statements();
CREATE TRIGGER trigger_audit_statement_match_links AFTER INSERT OR UPDATE OR DELETE ON statement_match_links
    FOR EACH ROW EXECUTE FUNCTION audit_statements();

CREATE TRIGGER prevent_truncate_statement_matches BEFORE TRUNCATE ON statement_matches
    FOR EACH STATEMENT EXECUTE FUNCTION prevent_ledger_truncate();
CREATE TRIGGER prevent_truncate_statement_match_links BEFORE TRUNCATE ON statement_match_links
    FOR EACH STATEMENT EXECUTE FUNCTION prevent_ledger_truncate();

-- ---------------------------------------------------------------------------------------------
-- Row-level security: system work only (ledger_app has no grant). A match is undone, never deleted.
-- ---------------------------------------------------------------------------------------------
GRANT SELECT, INSERT, UPDATE ON statement_matches, statement_match_links TO ledger_system;

ALTER TABLE statement_matches ENABLE ROW LEVEL SECURITY;
ALTER TABLE statement_matches FORCE ROW LEVEL SECURITY;
ALTER TABLE statement_match_links ENABLE ROW LEVEL SECURITY;
ALTER TABLE statement_match_links FORCE ROW LEVEL SECURITY;

CREATE POLICY statement_matches_system ON statement_matches TO ledger_system USING (true) WITH CHECK (true);
CREATE POLICY statement_match_links_system ON statement_match_links TO ledger_system USING (true) WITH CHECK (true);
