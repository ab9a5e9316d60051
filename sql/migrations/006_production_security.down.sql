-- Rollback of migration 006: the seed's rollback plan, made complete.

-- 3. Row-level security, table by table
DROP POLICY IF EXISTS accounts_owner ON accounts;
DROP POLICY IF EXISTS accounts_open ON accounts;
DROP POLICY IF EXISTS accounts_system ON accounts;
ALTER TABLE accounts NO FORCE ROW LEVEL SECURITY, DISABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS transactions_owner ON transactions;
DROP POLICY IF EXISTS transactions_system ON transactions;
ALTER TABLE transactions NO FORCE ROW LEVEL SECURITY, DISABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS entries_owner ON entries;
DROP POLICY IF EXISTS entries_system ON entries;
ALTER TABLE entries NO FORCE ROW LEVEL SECURITY, DISABLE ROW LEVEL SECURITY;

-- 2. Reconciliation
DROP TABLE IF EXISTS reconciliation_items;
DROP TABLE IF EXISTS reconciliation_runs;

-- 1. Audit log
DROP TRIGGER IF EXISTS prevent_truncate_transactions ON transactions;
DROP TRIGGER IF EXISTS prevent_truncate_entries ON entries;
DROP TRIGGER IF EXISTS prevent_truncate_accounts ON accounts;
DROP FUNCTION IF EXISTS prevent_ledger_truncate();
DROP TRIGGER IF EXISTS trigger_audit_transactions ON transactions;
DROP TRIGGER IF EXISTS trigger_audit_entries ON entries;
DROP TRIGGER IF EXISTS trigger_audit_accounts ON accounts;
DROP FUNCTION IF EXISTS audit_transactions();
DROP FUNCTION IF EXISTS audit_entries();
DROP FUNCTION IF EXISTS audit_accounts();
DROP FUNCTION IF EXISTS audit_write(oid, text, jsonb, jsonb);
-- The immutability triggers guard the rows, not the table: dropping it is DDL, not a change.
DROP TABLE IF EXISTS audit_log;
DROP FUNCTION IF EXISTS prevent_audit_modification();

-- Context functions
DROP FUNCTION IF EXISTS clear_context();
DROP FUNCTION IF EXISTS set_system_context(inet, uuid);
DROP FUNCTION IF EXISTS set_user_context(uuid, inet);
DROP FUNCTION IF EXISTS app_client_ip();
DROP FUNCTION IF EXISTS app_current_user_id();

GRANT EXECUTE ON FUNCTION post_transaction(text, jsonb, text, uuid, jsonb, timestamptz) TO PUBLIC;

-- Roles: for the ones migration 006 created, revoke what this database granted them, then drop
-- them unless they are still in use. Roles are cluster-wide: while another database grants them
-- privileges, or logins are still granted them (dropping would silently strip those logins of
-- their membership), they stay. Roles that existed before 006 are left as they were.
DO $$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['ledger_app', 'ledger_system'] LOOP
        CONTINUE WHEN shobj_description((SELECT oid FROM pg_roles WHERE rolname = r), 'pg_authid')
                      IS DISTINCT FROM 'created by ledger-pipeline migration 006';
        EXECUTE format('REVOKE ALL ON accounts, transactions, entries, transaction_codes FROM %I', r);
        EXECUTE format('REVOKE ALL ON FUNCTION post_transaction(text, jsonb, text, uuid, jsonb, timestamptz) FROM %I', r);
        EXECUTE format('REVOKE ALL ON SCHEMA public FROM %I', r);
        IF EXISTS (SELECT FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid WHERE g.rolname = r) THEN
            RAISE NOTICE 'role % is still granted to logins; left in place', r;
            CONTINUE;
        END IF;
        BEGIN
            EXECUTE format('DROP ROLE %I', r);
        EXCEPTION WHEN dependent_objects_still_exist THEN
            RAISE NOTICE 'role % is still used by another database; left in place', r;
        END;
    END LOOP;
END
$$;
