-- Rollback of migration 008: migration 006's definitions, exactly.

DROP INDEX idx_entries_account;
CREATE INDEX idx_entries_account ON entries (account_id);

ALTER POLICY transactions_owner ON transactions
    USING (
        initiated_by = (SELECT app_current_user_id())
        OR id IN (SELECT e.transaction_id
                  FROM entries e
                  JOIN accounts a ON a.id = e.account_id
                  WHERE a.user_id = (SELECT app_current_user_id()))
    );

ALTER POLICY entries_owner ON entries
    USING (account_id IN (SELECT id FROM accounts WHERE user_id = (SELECT app_current_user_id())));

CREATE OR REPLACE FUNCTION audit_write(p_relid oid, p_operation text, p_old jsonb, p_new jsonb) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF p_relid NOT IN ('public.accounts'::regclass, 'public.transactions'::regclass, 'public.entries'::regclass) THEN
        RAISE EXCEPTION 'audit triggers belong on public.accounts, public.transactions and public.entries only'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    INSERT INTO public.audit_log (table_name, operation, record_id, user_id, ip_address,
                                  old_data, new_data, db_role)
    VALUES ((SELECT relname FROM pg_class WHERE oid = p_relid), p_operation,
            (coalesce(p_new, p_old) ->> 'id')::uuid,
            public.app_current_user_id(), public.app_client_ip(), p_old, p_new,
            coalesce(NULLIF(current_setting('role'), 'none'), session_user::text));
END
$$;

DROP INDEX idx_audit_log_operation;
CREATE INDEX idx_audit_log_operation ON audit_log (operation);
DROP INDEX idx_audit_log_table;
CREATE INDEX idx_audit_log_table ON audit_log (table_name);
DROP INDEX idx_audit_log_created;
CREATE INDEX idx_audit_log_created ON audit_log (created_at);
