-- Migration 006: Production Security Implementation
--   1. an immutable audit log of every change to accounts, transactions and entries;
--   2. the tables automated reconciliation records its runs in;
--   3. row-level security: users see only their own data, system work sees everything.
--
-- Privileges come from database roles, never from a setting a session can flip:
--   ledger_app     the user-facing application; sees only the rows of the user in context
--   ledger_system  ledger system work (posting, reconciliation); sees every row
-- Application logins are granted one of them. A session can only switch to a role its login
-- is a member of, so a login granted only ledger_app can never reach system context.

-- ---------------------------------------------------------------------------------------------
-- Roles (cluster-wide: created once, shared by every database of the server)
-- ---------------------------------------------------------------------------------------------
DO $$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['ledger_app', 'ledger_system'] LOOP
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = r) THEN
            BEGIN
                EXECUTE format('CREATE ROLE %I NOLOGIN', r);
                -- The down migration drops only roles carrying this mark.
                EXECUTE format('COMMENT ON ROLE %I IS %L', r, 'created by ledger-pipeline migration 006');
            EXCEPTION WHEN duplicate_object OR unique_violation THEN
                NULL;  -- another database's migration created it a moment ago
            END;
        END IF;
    END LOOP;
END
$$;

-- Roles that already existed are adopted only if they grant nothing beyond what this design gives.
DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname IN ('ledger_app', 'ledger_system')
               AND (rolcanlogin OR rolsuper OR rolbypassrls OR rolcreaterole OR rolcreatedb)) THEN
        RAISE EXCEPTION 'roles ledger_app and ledger_system must be plain NOLOGIN group roles'
            USING HINT = 'grant logins membership in them instead';
    END IF;
    IF pg_has_role('ledger_app', 'ledger_system', 'MEMBER') THEN
        RAISE EXCEPTION 'ledger_app must not be a member of ledger_system';
    END IF;
END
$$;

-- ---------------------------------------------------------------------------------------------
-- Context: who is acting, from where
-- ---------------------------------------------------------------------------------------------
-- After a transaction-local set_config commits, the setting reads back as '' rather than NULL.
CREATE FUNCTION app_current_user_id() RETURNS uuid
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT NULLIF(current_setting('app.user_id', true), '')::uuid $$;

-- Behind a connection pool inet_client_addr() is the pool's address, so the application passes
-- the real client address; the connection's peer is only the fallback.
CREATE FUNCTION app_client_ip() RETURNS inet
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT coalesce(NULLIF(current_setting('app.client_ip', true), '')::inet, inet_client_addr()) $$;

-- Every context is transaction-scoped (is_local => true): it ends at COMMIT or ROLLBACK, so a
-- pooled connection never carries one request's user into the next.
CREATE FUNCTION set_user_context(p_user_id uuid, p_client_ip inet DEFAULT NULL) RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    IF p_user_id IS NULL THEN
        RAISE EXCEPTION 'set_user_context needs a user id' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM set_config('role', 'ledger_app', true);
    PERFORM set_config('app.user_id', p_user_id::text, true);
    PERFORM set_config('app.client_ip', coalesce(p_client_ip::text, ''), true);
END
$$;

-- Switching to ledger_system fails with "permission denied to set role" unless the session's
-- login is a member of ledger_system: that, not this function, is the gate. p_on_behalf_of names
-- the user a system change is made for; it goes into the audit log and widens no one's sight.
CREATE FUNCTION set_system_context(p_client_ip inet DEFAULT NULL, p_on_behalf_of uuid DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM set_config('role', 'ledger_system', true);
    PERFORM set_config('app.user_id', coalesce(p_on_behalf_of::text, ''), true);
    PERFORM set_config('app.client_ip', coalesce(p_client_ip::text, ''), true);
END
$$;

CREATE FUNCTION clear_context() RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM set_config('app.user_id', '', true);
    PERFORM set_config('app.client_ip', '', true);
    PERFORM set_config('role', 'none', true);
END
$$;

-- ---------------------------------------------------------------------------------------------
-- 1. Audit log
-- ---------------------------------------------------------------------------------------------
CREATE TABLE audit_log (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    table_name  varchar(50) NOT NULL,
    operation   varchar(10) NOT NULL,
    record_id   uuid,
    user_id     uuid,
    ip_address  inet,
    old_data    jsonb,
    new_data    jsonb,
    -- UTC whatever the writing session's time zone, so entries from different sessions compare.
    created_at  timestamp DEFAULT (now() AT TIME ZONE 'UTC'),
    -- Total order of the log (uuids and timestamps are not), and the database transaction that
    -- made the change, so an auditor can group the rows of one posting.
    seq         bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    txid        bigint NOT NULL DEFAULT txid_current(),
    -- The database role that acted (ledger_app, ledger_system, or the login itself), and the
    -- login behind it: app.user_id is the application's word, these are the database's.
    db_role     text NOT NULL,
    db_login    text NOT NULL DEFAULT session_user
);

CREATE INDEX idx_audit_log_table ON audit_log (table_name);
CREATE INDEX idx_audit_log_user ON audit_log (user_id);
CREATE INDEX idx_audit_log_created ON audit_log (created_at);
CREATE INDEX idx_audit_log_operation ON audit_log (operation);
CREATE INDEX idx_audit_log_record ON audit_log (record_id);

-- Writes one audit row for a change to one of the three audited tables. The audit triggers run
-- as the owner (SECURITY DEFINER), so application roles need (and have) no privilege on audit_log.
-- No one else may call these functions (EXECUTE is revoked below), and audit_write refuses any
-- table but the three, so a trigger on some other table (a temporary one, say) cannot forge rows.
-- The search_path is pinned so no caller can shadow the objects they use.
CREATE FUNCTION audit_write(p_relid oid, p_operation text, p_old jsonb, p_new jsonb) RETURNS void
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

CREATE FUNCTION audit_transactions() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$ BEGIN PERFORM public.audit_write(TG_RELID, TG_OP, to_jsonb(OLD), to_jsonb(NEW)); RETURN NULL; END $$;

CREATE FUNCTION audit_entries() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$ BEGIN PERFORM public.audit_write(TG_RELID, TG_OP, to_jsonb(OLD), to_jsonb(NEW)); RETURN NULL; END $$;

CREATE FUNCTION audit_accounts() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$ BEGIN PERFORM public.audit_write(TG_RELID, TG_OP, to_jsonb(OLD), to_jsonb(NEW)); RETURN NULL; END $$;

REVOKE ALL ON FUNCTION audit_write(oid, text, jsonb, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION audit_transactions(), audit_entries(), audit_accounts() FROM PUBLIC;

CREATE TRIGGER trigger_audit_transactions AFTER INSERT OR UPDATE OR DELETE ON transactions
    FOR EACH ROW EXECUTE FUNCTION audit_transactions();
CREATE TRIGGER trigger_audit_entries AFTER INSERT OR UPDATE OR DELETE ON entries
    FOR EACH ROW EXECUTE FUNCTION audit_entries();
CREATE TRIGGER trigger_audit_accounts AFTER INSERT OR UPDATE OR DELETE ON accounts
    FOR EACH ROW EXECUTE FUNCTION audit_accounts();

-- Row triggers do not fire on TRUNCATE, so a TRUNCATE of the audited tables would erase history
-- without a trace: refuse it.
CREATE FUNCTION prevent_ledger_truncate() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    RAISE EXCEPTION 'TRUNCATE on % is not allowed: it would bypass the audit log', TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER prevent_truncate_transactions BEFORE TRUNCATE ON transactions
    FOR EACH STATEMENT EXECUTE FUNCTION prevent_ledger_truncate();
CREATE TRIGGER prevent_truncate_entries BEFORE TRUNCATE ON entries
    FOR EACH STATEMENT EXECUTE FUNCTION prevent_ledger_truncate();
CREATE TRIGGER prevent_truncate_accounts BEFORE TRUNCATE ON accounts
    FOR EACH STATEMENT EXECUTE FUNCTION prevent_ledger_truncate();

-- The log is append-only, for everyone including superusers and the owner (who could still
-- drop the trigger, which itself shows in the DDL history).
CREATE FUNCTION prevent_audit_modification() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    RAISE EXCEPTION 'Audit log is immutable' USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER prevent_audit_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION prevent_audit_modification();
CREATE TRIGGER prevent_audit_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION prevent_audit_modification();

-- ---------------------------------------------------------------------------------------------
-- 2. Reconciliation
-- ---------------------------------------------------------------------------------------------
CREATE TABLE reconciliation_runs (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    run_type             text NOT NULL
                         CHECK (run_type IN ('daily', 'hourly', 'manual', 'backfill', 'escalation')),
    status               text NOT NULL CHECK (status IN ('running', 'passed', 'failed', 'error')),
    period_start         timestamptz,
    period_end           timestamptz,
    started_at           timestamptz NOT NULL DEFAULT now(),
    completed_at         timestamptz,
    total_debits         numeric,
    total_credits        numeric,
    accounts_checked     integer,
    transactions_checked bigint,
    mismatch_count       integer,
    summary              jsonb,
    error                text,
    dagster_run_id       text,
    partition_key        text,
    CHECK (period_end IS NULL OR period_start IS NULL OR period_end > period_start)
);

CREATE TABLE reconciliation_items (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    run_id         uuid NOT NULL REFERENCES reconciliation_runs (id) ON DELETE CASCADE,
    check_name     text NOT NULL,
    account_id     uuid,
    transaction_id uuid,
    currency       char(3),
    expected       numeric,
    actual         numeric,
    difference     numeric,
    status         text NOT NULL CHECK (status IN ('matched', 'mismatch')),
    details        jsonb,
    created_at     timestamptz DEFAULT now()
);

CREATE INDEX idx_reconciliation_runs_status ON reconciliation_runs (status);
CREATE INDEX idx_reconciliation_runs_started ON reconciliation_runs (started_at DESC);
CREATE INDEX idx_reconciliation_items_run ON reconciliation_items (run_id);
CREATE INDEX idx_reconciliation_items_account ON reconciliation_items (account_id);

-- ---------------------------------------------------------------------------------------------
-- 3. Row-level security
-- ---------------------------------------------------------------------------------------------
-- The application reads its user's rows and may open accounts for them; every posting is system
-- work (post_transaction moves other accounts' balances too), made on behalf of a user.
GRANT USAGE ON SCHEMA public TO ledger_app, ledger_system;
GRANT SELECT ON accounts, transactions, entries, transaction_codes TO ledger_app;
GRANT INSERT ON accounts TO ledger_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON accounts, transactions, entries TO ledger_system;
GRANT SELECT, INSERT, UPDATE ON transaction_codes TO ledger_system;
GRANT SELECT ON audit_log TO ledger_system;
GRANT SELECT, INSERT, UPDATE ON reconciliation_runs, reconciliation_items TO ledger_system;
REVOKE ALL ON FUNCTION post_transaction(text, jsonb, text, uuid, jsonb, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION post_transaction(text, jsonb, text, uuid, jsonb, timestamptz) TO ledger_system;

-- FORCE: the table owner is not silently exempt. (Superusers and BYPASSRLS roles always are,
-- which is why the contexts switch to ledger_app or ledger_system.)
ALTER TABLE accounts ENABLE ROW LEVEL SECURITY;
ALTER TABLE accounts FORCE ROW LEVEL SECURITY;
ALTER TABLE transactions ENABLE ROW LEVEL SECURITY;
ALTER TABLE transactions FORCE ROW LEVEL SECURITY;
ALTER TABLE entries ENABLE ROW LEVEL SECURITY;
ALTER TABLE entries FORCE ROW LEVEL SECURITY;

CREATE POLICY accounts_system ON accounts TO ledger_system USING (true) WITH CHECK (true);
CREATE POLICY transactions_system ON transactions TO ledger_system USING (true) WITH CHECK (true);
CREATE POLICY entries_system ON entries TO ledger_system USING (true) WITH CHECK (true);

-- (SELECT app_current_user_id()) is evaluated once per query, not once per row.
CREATE POLICY accounts_owner ON accounts FOR SELECT TO ledger_app
    USING (user_id = (SELECT app_current_user_id()));
CREATE POLICY accounts_open ON accounts FOR INSERT TO ledger_app
    WITH CHECK (user_id = (SELECT app_current_user_id()) AND balance = 0);

CREATE POLICY entries_owner ON entries FOR SELECT TO ledger_app
    USING (account_id IN (SELECT id FROM accounts WHERE user_id = (SELECT app_current_user_id())));

CREATE POLICY transactions_owner ON transactions FOR SELECT TO ledger_app
    USING (
        initiated_by = (SELECT app_current_user_id())
        OR id IN (SELECT e.transaction_id
                  FROM entries e
                  JOIN accounts a ON a.id = e.account_id
                  WHERE a.user_id = (SELECT app_current_user_id()))
    );
