-- Migration 009: seals, a SHA-256 hash chain over the audit log, so that an audit row edited,
-- deleted or inserted out of band (triggers disabled, session_replication_role = replica) is
-- detected afterwards. The head of the chain is anchored outside this database as well (Dagster's
-- storage, an append-only file): see ledger_pipeline/audit/anchors.py.
--
-- Which rows a seal covers. audit_log.seq is taken before commit, so a lower seq can become visible
-- after a higher one, and rolled-back ones leave gaps; a chain over seq would either miss a row or
-- wait forever for a gap. Instead, as for entries' arrival (migration 007), membership is by the
-- writing transaction: audit_log.txid (txid_current(), the same 64-bit value as
-- pg_current_xact_id(), set since migration 006 and settable by no role). Seal k covers exactly the
-- rows with txid in [to_txid of seal k-1, to_txid of seal k), where to_txid is the xmin of the
-- sealing snapshot: every transaction below it had ended, so no row can ever appear inside a sealed
-- range, and a rolled-back row is simply absent (a gap is not a deletion). (Refined below to
-- the transactions of this database: audit_settled_txid.)

-- Seals read rows by writer; txid grows with insertion order, so a BRIN costs next to nothing per
-- audit row.
CREATE INDEX idx_audit_log_txid ON audit_log USING brin (txid);

-- The canonical form of one audit row: every column, in the table's column order, joined by
-- commas, each as quote_nullable of its text form (NULL bare, any other value quoted with quotes
-- doubled and backslashes escaped, so the form parses back one way only); the snapshots as jsonb's
-- text, created_at as JSON's ISO 8601 text whatever the session's DateStyle. Hashed with SHA-256
-- as UTF-8. It is a plain SQL expression, so PostgreSQL inlines it into the verifying query: about
-- half the cost per row of building a JSON array of the row and printing it.
CREATE FUNCTION audit_row_digest(
    p_id uuid, p_table_name text, p_operation text, p_record_id uuid, p_user_id uuid, p_ip_address inet,
    p_old_data jsonb, p_new_data jsonb, p_created_at timestamp, p_seq bigint, p_txid bigint,
    p_db_role text, p_db_login text
) RETURNS bytea
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT sha256(convert_to(concat_ws(',',
        quote_nullable(p_id::text), quote_nullable(p_table_name), quote_nullable(p_operation),
        quote_nullable(p_record_id::text), quote_nullable(p_user_id::text), quote_nullable(p_ip_address::text),
        quote_nullable(p_old_data::text), quote_nullable(p_new_data::text),
        quote_nullable(to_json(p_created_at)::text), quote_nullable(p_seq::text), quote_nullable(p_txid::text),
        quote_nullable(p_db_role), quote_nullable(p_db_login)), 'UTF8'))
$$;

-- A seal's hash covers its own record and the previous seal's hash: rewriting any seal breaks
-- every later link.
CREATE FUNCTION audit_seal_hash(p_seal_no bigint, p_from_txid bigint, p_to_txid bigint, p_row_count bigint,
                                p_rows_digest text, p_prev_hash text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT encode(sha256(convert_to(concat_ws('|', p_seal_no, p_from_txid, p_to_txid, p_row_count,
                                              p_rows_digest, p_prev_hash), 'UTF8')), 'hex')
$$;

CREATE TABLE audit_seals (
    seal_no     bigint PRIMARY KEY CHECK (seal_no > 0),
    from_txid   bigint NOT NULL,
    to_txid     bigint NOT NULL UNIQUE,
    row_count   bigint NOT NULL,
    first_seq   bigint,
    last_seq    bigint,
    first_created_at timestamp,
    last_created_at  timestamp,
    -- Rows are hashed in blocks of 4096 seq values, so a finding names the block that changed:
    -- {"<seq div 4096>": ["<sha256 of the block's row digests in seq order, hex>", rows]}.
    blocks      jsonb NOT NULL,
    rows_digest text NOT NULL,  -- sha256 over the block digests in block order
    prev_hash   text NOT NULL,
    hash        text NOT NULL,
    sealed_at   timestamptz NOT NULL DEFAULT now(),
    CHECK (to_txid > from_txid)
);

-- Append-only like the audit log, for everyone including the owner (who would have to disable
-- the triggers, which the audit_triggers_enabled check reports).
CREATE TRIGGER prevent_seal_update BEFORE UPDATE OR DELETE ON audit_seals
    FOR EACH ROW EXECUTE FUNCTION prevent_audit_modification();
CREATE TRIGGER prevent_seal_truncate BEFORE TRUNCATE ON audit_seals
    FOR EACH STATEMENT EXECUTE FUNCTION prevent_audit_modification();

-- The bound below which every transaction that could write this database's audit log has ended.
-- The snapshot's xmin is such a bound, but it counts transactions in every database of the server,
-- so one long transaction elsewhere would hold sealing back. Only this database's transactions
-- can write its log: the bound is the oldest of them still running (pg_stat_activity, prepared
-- transactions) among the snapshot's running ones, else the snapshot's xmax. Seeing other roles'
-- backend_xid needs pg_read_all_stats; without it, the xmin it is.
CREATE FUNCTION audit_settled_txid() RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_snapshot pg_snapshot := pg_current_snapshot();
    v_bound    bigint;
    -- The calling transaction's own rows too, should it write audit rows after sealing.
    v_own      bigint := pg_current_xact_id_if_assigned()::text::bigint;
BEGIN
    IF NOT pg_has_role('pg_read_all_stats', 'USAGE') THEN
        RETURN least(pg_snapshot_xmin(v_snapshot)::text::bigint, v_own);
    END IF;
    PERFORM pg_stat_clear_snapshot();  -- read the backends as they are now, after the snapshot
    SELECT min(x::text::bigint) INTO v_bound
    FROM pg_snapshot_xip(v_snapshot) AS x
    WHERE x::text::bigint % 4294967296 IN (
        SELECT backend_xid::text::bigint FROM pg_stat_activity
        WHERE datname = current_database() AND backend_xid IS NOT NULL
        UNION ALL
        SELECT transaction::text::bigint FROM pg_prepared_xacts WHERE database = current_database());
    RETURN least(coalesce(v_bound, pg_snapshot_xmax(v_snapshot)::text::bigint), v_own);
END
$$;

-- Seals whatever became final since the last seal; returns the new seal, or nothing when no audit
-- row became final. A read plus one insert: posting never waits for it. Sealers queue behind a
-- transaction-scoped advisory lock, so seal numbers stay contiguous.
CREATE FUNCTION audit_seal() RETURNS SETOF audit_seals
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_prev public.audit_seals;
    v_from bigint;
    v_to   bigint;
    v_seal public.audit_seals;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended('ledger_pipeline.audit_seal', 0));
    SELECT * INTO v_prev FROM public.audit_seals ORDER BY seal_no DESC LIMIT 1;
    v_from := coalesce(v_prev.to_txid, 0);
    v_to := public.audit_settled_txid();
    IF v_to <= v_from THEN
        RETURN;
    END IF;
    WITH rows AS (
        SELECT a.seq, a.id, a.created_at,
               public.audit_row_digest(a.id, a.table_name, a.operation, a.record_id, a.user_id, a.ip_address,
                                       a.old_data, a.new_data, a.created_at, a.seq, a.txid, a.db_role,
                                       a.db_login) AS digest
        FROM public.audit_log a
        WHERE a.txid >= v_from AND a.txid < v_to
        OFFSET 0  -- digests computed as the rows are read: the sort below then carries 32 bytes a row, not the row
    ), blocks AS (
        SELECT seq / 4096 AS block, count(*) AS row_count, min(seq) AS first_seq, max(seq) AS last_seq,
               min(created_at) AS first_created_at, max(created_at) AS last_created_at,
               sha256(string_agg(digest, ''::bytea ORDER BY seq, id)) AS digest
        FROM rows GROUP BY 1
    )
    SELECT coalesce(v_prev.seal_no, 0) + 1, v_from, v_to, sum(row_count), min(first_seq), max(last_seq),
           min(first_created_at), max(last_created_at),
           jsonb_object_agg(block, jsonb_build_array(encode(digest, 'hex'), row_count)),
           encode(sha256(string_agg(digest, ''::bytea ORDER BY block)), 'hex'),
           coalesce(v_prev.hash, repeat('0', 64))
    INTO v_seal.seal_no, v_seal.from_txid, v_seal.to_txid, v_seal.row_count, v_seal.first_seq,
         v_seal.last_seq, v_seal.first_created_at, v_seal.last_created_at, v_seal.blocks,
         v_seal.rows_digest, v_seal.prev_hash
    FROM blocks;
    IF v_seal.row_count IS NULL THEN
        RETURN;  -- nothing final since the last seal: the next seal's range starts where this one would have
    END IF;
    v_seal.hash := public.audit_seal_hash(v_seal.seal_no, v_seal.from_txid, v_seal.to_txid, v_seal.row_count,
                                          v_seal.rows_digest, v_seal.prev_hash);
    v_seal.sealed_at := now();
    INSERT INTO public.audit_seals VALUES (v_seal.*);
    RETURN NEXT v_seal;
END
$$;

REVOKE ALL ON FUNCTION audit_seal() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION audit_seal() TO ledger_system;
GRANT SELECT ON audit_seals TO ledger_system;
