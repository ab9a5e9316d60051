-- Rollback of migration 016: imported statements and account mappings are dropped with their
-- tables (their audit rows stay in the log); audit_write goes back to migration 008's.
DROP TABLE statement_lines;
DROP TABLE statements;
DROP TABLE statement_files;
DROP TABLE bank_accounts;
DROP FUNCTION audit_statements();

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
