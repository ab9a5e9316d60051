-- Rollback of migration 010: the unpartitioned audit_log of migrations 006, 008 and 009, with every
-- row. Archived months live only in their files: restore them first (`ledger-pipeline audit
-- restore YYYY-MM`), or this refuses rather than lose them.
DO $$
BEGIN
    IF EXISTS (SELECT FROM audit_archives) THEN
        RAISE EXCEPTION 'audit months % are archived: restore them before rolling back migration 010',
            (SELECT string_agg(to_char(month, 'YYYY-MM'), ', ' ORDER BY month) FROM audit_archives);
    END IF;
END
$$;
DROP TABLE audit_archives;

-- The partitioned log's columns, defaults and identity, with the seed's nullable created_at.
CREATE TABLE audit_log_unpartitioned (LIKE audit_log INCLUDING DEFAULTS INCLUDING IDENTITY);
ALTER TABLE audit_log_unpartitioned ALTER created_at DROP NOT NULL;
INSERT INTO audit_log_unpartitioned OVERRIDING SYSTEM VALUE SELECT * FROM audit_log;
SELECT setval(pg_get_serial_sequence('audit_log_unpartitioned', 'seq'),
              coalesce((SELECT max(seq) FROM audit_log), 0) + 1, false);

-- Its indexes (the kinds migrations 008 and 009 chose, under their names) and its immutability
-- triggers: read off the partitioned log before it goes, made again on the unpartitioned one.
CREATE TEMPORARY TABLE audit_log_definitions ON COMMIT DROP AS
SELECT replace(indexdef, ' ON ONLY public.audit_log ', ' ON public.audit_log ') AS definition
FROM pg_indexes
WHERE schemaname = 'public' AND tablename = 'audit_log' AND indexname LIKE 'idx\_audit\_log\_%'
UNION ALL
SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgrelid = 'public.audit_log'::regclass AND NOT tgisinternal;

DROP TABLE audit_log;
DROP FUNCTION audit_ensure_partitions(int);
DROP FUNCTION audit_create_partition(date);

ALTER TABLE audit_log_unpartitioned RENAME TO audit_log;
ALTER SEQUENCE audit_log_unpartitioned_seq_seq RENAME TO audit_log_seq_seq;
-- The keys of migrations 006 and 009, which partitioning had widened by created_at.
ALTER TABLE audit_log ADD CONSTRAINT audit_log_pkey PRIMARY KEY (id),
                      ADD CONSTRAINT audit_log_seq_key UNIQUE (seq);
DO $$
DECLARE
    v_definition text;
BEGIN
    FOR v_definition IN SELECT definition FROM audit_log_definitions LOOP
        EXECUTE v_definition;
    END LOOP;
END
$$;
GRANT SELECT ON audit_log TO ledger_system;
