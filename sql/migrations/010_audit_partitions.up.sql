-- Migration 010: audit_log partitioned by month, so old months can be archived and detached
-- (ledger_pipeline/audit/lifecycle.py) instead of the log growing forever (about 1 KB per
-- transaction). The seed's columns, constraint and index names are kept; the primary key and the
-- seq uniqueness include created_at, the partition key, as PostgreSQL requires. Every row is
-- copied into the new table with its own values, so every seal still verifies.
--
-- No insert can fail for want of a partition: the asset audit_log_partitions creates the coming
-- months ahead, and a default partition takes any row that still finds none.

ALTER TABLE audit_log RENAME TO audit_log_unpartitioned;
ALTER SEQUENCE audit_log_seq_seq RENAME TO audit_log_unpartitioned_seq_seq;
ALTER TABLE audit_log_unpartitioned DROP CONSTRAINT audit_log_pkey, DROP CONSTRAINT audit_log_seq_key;
DROP INDEX idx_audit_log_table, idx_audit_log_user, idx_audit_log_created, idx_audit_log_operation,
           idx_audit_log_record, idx_audit_log_txid;

CREATE TABLE audit_log (
    id          uuid NOT NULL DEFAULT gen_random_uuid(),
    table_name  varchar(50) NOT NULL,
    operation   varchar(10) NOT NULL,
    record_id   uuid,
    user_id     uuid,
    ip_address  inet,
    old_data    jsonb,
    new_data    jsonb,
    created_at  timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'),
    seq         bigint GENERATED ALWAYS AS IDENTITY,
    txid        bigint NOT NULL DEFAULT txid_current(),
    db_role     text NOT NULL,
    db_login    text NOT NULL DEFAULT session_user,
    CONSTRAINT audit_log_pkey PRIMARY KEY (id, created_at),
    CONSTRAINT audit_log_seq_key UNIQUE (seq, created_at)
) PARTITION BY RANGE (created_at);

-- The kinds migrations 008 and 009 chose, on every partition.
CREATE INDEX idx_audit_log_table ON audit_log USING brin (table_name);
CREATE INDEX idx_audit_log_user ON audit_log (user_id);
CREATE INDEX idx_audit_log_created ON audit_log USING brin (created_at);
CREATE INDEX idx_audit_log_operation ON audit_log (operation) WHERE operation = 'DELETE';
CREATE INDEX idx_audit_log_record ON audit_log (record_id);
CREATE INDEX idx_audit_log_txid ON audit_log USING brin (txid);

-- Row triggers are cloned onto every partition, now and later. TRUNCATE triggers are not (a
-- partition can be truncated by name), so audit_create_partition gives each partition its own.
CREATE TRIGGER prevent_audit_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION prevent_audit_modification();
CREATE TRIGGER prevent_audit_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION prevent_audit_modification();

-- One month's partition, audit_log_YYYY_MM, created if absent; returns its name.
CREATE FUNCTION audit_create_partition(p_month date) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_start date := date_trunc('month', p_month)::date;
    v_name  text := 'audit_log_' || to_char(p_month, 'YYYY_MM');
BEGIN
    IF to_regclass('public.' || v_name) IS NULL THEN
        EXECUTE format('CREATE TABLE public.%I PARTITION OF public.audit_log FOR VALUES FROM (%L) TO (%L)',
                       v_name, v_start, (v_start + interval '1 month')::date);
        EXECUTE format('CREATE TRIGGER prevent_audit_truncate BEFORE TRUNCATE ON public.%I'
                       ' FOR EACH STATEMENT EXECUTE FUNCTION public.prevent_audit_modification()', v_name);
    END IF;
    RETURN v_name;
END
$$;

-- The current month's partition and the next p_months_ahead months' (UTC, as created_at is).
CREATE FUNCTION audit_ensure_partitions(p_months_ahead int DEFAULT 3) RETURNS SETOF text
LANGUAGE sql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT public.audit_create_partition((date_trunc('month', now() AT TIME ZONE 'UTC') + make_interval(months => m))::date)
    FROM generate_series(0, p_months_ahead) AS m
$$;

CREATE TABLE audit_log_default PARTITION OF audit_log DEFAULT;
CREATE TRIGGER prevent_audit_truncate BEFORE TRUNCATE ON audit_log_default
    FOR EACH STATEMENT EXECUTE FUNCTION prevent_audit_modification();

SELECT audit_create_partition(month)
FROM (SELECT DISTINCT date_trunc('month', created_at)::date AS month FROM audit_log_unpartitioned) m;
SELECT audit_ensure_partitions();

INSERT INTO audit_log OVERRIDING SYSTEM VALUE
SELECT id, table_name, operation, record_id, user_id, ip_address, old_data, new_data, created_at, seq, txid,
       db_role, db_login
FROM audit_log_unpartitioned;
SELECT setval(pg_get_serial_sequence('audit_log', 'seq'),
              coalesce((SELECT max(seq) FROM audit_log_unpartitioned), 0) + 1, false);

-- The immutability triggers guard the rows, not the table: dropping it is DDL, not a change.
DROP TABLE audit_log_unpartitioned;

-- Months archived to files (and detached): verification reads them back from there.
CREATE TABLE audit_archives (
    month       date PRIMARY KEY,
    file        text NOT NULL,
    sha256      text NOT NULL,
    row_count   bigint NOT NULL,
    archived_at timestamptz NOT NULL DEFAULT now()
);

GRANT SELECT ON audit_log, audit_archives TO ledger_system;
REVOKE ALL ON FUNCTION audit_create_partition(date), audit_ensure_partitions(int) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION audit_ensure_partitions(int) TO ledger_system;
