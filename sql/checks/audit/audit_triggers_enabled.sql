-- The triggers the audit trail rests on exist, call the right function and are enabled ('O':
-- fires in normal sessions, 'A': always). Row triggers of a partitioned audit_log are cloned onto
-- each partition, and TRUNCATE triggers are per table, so every partition is checked too. A
-- session_replication_role = replica made persistent (ALTER ROLE/DATABASE ... SET, or the server's
-- configuration) silences the triggers without touching them: that is reported as well.
-- expected = 1, actual = 0 per trigger missing, disabled or silenced.
WITH wanted (relid, trigger_name, function_name) AS (
    VALUES ('public.accounts'::regclass, 'trigger_audit_accounts', 'audit_accounts'),
           ('public.transactions'::regclass, 'trigger_audit_transactions', 'audit_transactions'),
           ('public.entries'::regclass, 'trigger_audit_entries', 'audit_entries'),
           ('public.accounts'::regclass, 'prevent_truncate_accounts', 'prevent_ledger_truncate'),
           ('public.transactions'::regclass, 'prevent_truncate_transactions', 'prevent_ledger_truncate'),
           ('public.entries'::regclass, 'prevent_truncate_entries', 'prevent_ledger_truncate'),
           ('public.bank_accounts'::regclass, 'trigger_audit_bank_accounts', 'audit_statements'),
           ('public.statement_files'::regclass, 'trigger_audit_statement_files', 'audit_statements'),
           ('public.statements'::regclass, 'trigger_audit_statements', 'audit_statements'),
           ('public.statement_lines'::regclass, 'trigger_audit_statement_lines', 'audit_statements'),
           ('public.bank_accounts'::regclass, 'prevent_truncate_bank_accounts', 'prevent_ledger_truncate'),
           ('public.statement_files'::regclass, 'prevent_truncate_statement_files', 'prevent_ledger_truncate'),
           ('public.statements'::regclass, 'prevent_truncate_statements', 'prevent_ledger_truncate'),
           ('public.statement_lines'::regclass, 'prevent_truncate_statement_lines', 'prevent_ledger_truncate'),
           ('public.statement_matches'::regclass, 'trigger_audit_statement_matches', 'audit_statements'),
           ('public.statement_match_links'::regclass, 'trigger_audit_statement_match_links', 'audit_statements'),
           ('public.statement_matches'::regclass, 'prevent_truncate_statement_matches', 'prevent_ledger_truncate'),
           ('public.statement_match_links'::regclass, 'prevent_truncate_statement_match_links',
            'prevent_ledger_truncate'),
           ('public.audit_seals'::regclass, 'prevent_seal_update', 'prevent_audit_modification'),
           ('public.audit_seals'::regclass, 'prevent_seal_truncate', 'prevent_audit_modification')
    UNION ALL
    SELECT rel, name, 'prevent_audit_modification'
    FROM (SELECT 'public.audit_log'::regclass AS rel
          UNION ALL SELECT inhrelid::regclass FROM pg_inherits WHERE inhparent = 'public.audit_log'::regclass) r,
         (VALUES ('prevent_audit_update'), ('prevent_audit_truncate')) n (name)
), triggers AS (
    SELECT w.relid::text AS table_name, w.trigger_name,
           CASE
               WHEN t.oid IS NULL THEN 'missing'
               WHEN t.tgfoid <> to_regproc('public.' || w.function_name)::oid
                   THEN format('calls %s instead of %s', t.tgfoid::regproc, w.function_name)
               WHEN t.tgenabled = 'D' THEN 'disabled'
               WHEN t.tgenabled = 'R' THEN 'fires only in replica sessions'
           END AS problem
    FROM wanted w
    LEFT JOIN pg_trigger t ON t.tgrelid = w.relid AND t.tgname = w.trigger_name
), silenced AS (
    SELECT coalesce(d.datname, '(every database)') || ', ' || coalesce(r.rolname, 'every role') AS table_name,
           'session_replication_role' AS trigger_name,
           'set to replica: triggers do not fire in its sessions' AS problem
    FROM pg_db_role_setting s
    LEFT JOIN pg_database d ON d.oid = s.setdatabase
    LEFT JOIN pg_roles r ON r.oid = s.setrole
    WHERE (s.setdatabase = 0 OR d.datname = current_database())
      AND 'session_replication_role=replica' = ANY (s.setconfig)
    UNION ALL
    SELECT 'this session', 'session_replication_role', 'set to replica: triggers do not fire'
    WHERE current_setting('session_replication_role') = 'replica'
)
SELECT
    {run_id} AS run_id,
    NULL::uuid AS account_id,
    NULL::uuid AS transaction_id,
    NULL::char(3) AS currency,
    1::numeric AS expected,
    0::numeric AS actual,
    -1::numeric AS difference,
    jsonb_build_object('subject', format('%s on %s: %s', p.trigger_name, p.table_name, p.problem),
                       'table', p.table_name, 'trigger', p.trigger_name, 'problem', p.problem) AS details
FROM (SELECT * FROM triggers WHERE problem IS NOT NULL UNION ALL SELECT * FROM silenced) p
