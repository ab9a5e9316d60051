-- Rollback of migration 018: the matches go with their tables (their audit rows stay in the log),
-- external reconciliation runs with their items, and audit_write goes back to migration 016's.
DROP TABLE statement_match_links;
DROP TABLE statement_matches;
DROP INDEX idx_statement_lines_booking;

DELETE FROM reconciliation_runs WHERE run_type = 'external';
ALTER TABLE reconciliation_runs DROP CONSTRAINT reconciliation_runs_run_type_check;
ALTER TABLE reconciliation_runs ADD CONSTRAINT reconciliation_runs_run_type_check
    CHECK (run_type IN ('daily', 'hourly', 'manual', 'backfill', 'escalation'));

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
                    END;
BEGIN
    IF v_table IS NULL THEN
        RAISE EXCEPTION 'audit triggers belong on the ledger''s tables (accounts, transactions, entries) and the'
                        ' bank statements'' (bank_accounts, statement_files, statements, statement_lines) only'
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
