-- Migration 008: cheaper audit writes and row-level security the planner can use, both measured
-- by benchmarks/posting.py (see BENCHMARKS.md, "Posting and row-level security").

-- ---------------------------------------------------------------------------------------------
-- Audit log indexes: same names, kinds chosen by what each column is looked up by
-- ---------------------------------------------------------------------------------------------
-- created_at: rows arrive in time order, so a BRIN (a few kilobytes) serves time windows; a
-- btree paid an insert per audit row.
DROP INDEX idx_audit_log_created;
CREATE INDEX idx_audit_log_created ON audit_log USING brin (created_at);

-- table_name: three values, none rare, so no index beats a scan for "rows of table X"; a BRIN
-- keeps the name at almost no cost per insert.
DROP INDEX idx_audit_log_table;
CREATE INDEX idx_audit_log_table ON audit_log USING brin (table_name);

-- operation: inserts and (balance) updates are most of the log; the rare, telling rows are deletes,
-- and only those are indexed.
DROP INDEX idx_audit_log_operation;
CREATE INDEX idx_audit_log_operation ON audit_log (operation) WHERE operation = 'DELETE';

-- idx_audit_log_user and idx_audit_log_record stay btrees: a hash index chains every row of one key
-- into one bucket (a house account is updated by every posting, and an insert walks the chain),
-- and a BRIN bloom index cannot narrow a lookup that spans the whole history.

-- ---------------------------------------------------------------------------------------------
-- audit_write: the table name from the three known tables, not a catalog query per audit row
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
                    END;
BEGIN
    IF v_table IS NULL THEN
        RAISE EXCEPTION 'audit triggers belong on public.accounts, public.transactions and public.entries only'
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

-- ---------------------------------------------------------------------------------------------
-- Row-level security: the same rows, in a form the planner can use
-- ---------------------------------------------------------------------------------------------
-- `x IN (subquery)` inside a policy stays a filter evaluated on every row the scan reads (a
-- security qual is never turned into a join), so a user's history read every transaction.
-- `x = ANY (ARRAY(subquery))` computes the user's ids once, and is an index condition. For
-- non-null ids the two are the same predicate.
ALTER POLICY entries_owner ON entries
    USING (account_id = ANY (ARRAY(SELECT id FROM accounts WHERE user_id = (SELECT app_current_user_id()))));

ALTER POLICY transactions_owner ON transactions
    USING (
        initiated_by = (SELECT app_current_user_id())
        OR id = ANY (ARRAY(SELECT e.transaction_id
                           FROM entries e
                           JOIN accounts a ON a.id = e.account_id
                           WHERE a.user_id = (SELECT app_current_user_id())))
    );

-- The user's transaction ids straight from the index (an index-only scan), not from every entry row.
DROP INDEX idx_entries_account;
CREATE INDEX idx_entries_account ON entries (account_id) INCLUDE (transaction_id);
