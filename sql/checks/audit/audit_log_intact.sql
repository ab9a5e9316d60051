-- Every seal's record, its link to the previous seal and its block digests, checked against the
-- anchors kept outside the database (anchors: the full run's temporary audit_anchors, the nightly
-- run's JSON literal), and the sealed blocks of targets (sql/audit/targets.sql) recomputed from the
-- rows (rows: every audit row, archived months read back, for the full run; sql/audit/nightly/rows.sql
-- for the nightly run). One row per seal that does not hold, and per anchored seal that is gone:
-- expected = the rows the seal covers, actual = the rows that still verify (0 when the seal's own
-- record or its anchor does not hold), details = the sealed range and what is wrong. archives: the
-- nightly run's findings on archived months (sql/audit/nightly/archived_months.sql), else nothing.
WITH anchors AS (
    {anchors}
), targets AS (
    {targets}
), digests AS (
    -- Each row's digest computed as it is read (OFFSET 0 keeps the planner from deferring it to the
    -- aggregate), so the sort by seal, block and seq carries 32 bytes a row instead of the row. The
    -- scan reads the log alone, against literals (starts: each seal's from_txid in order,
    -- sealed_txid: the last seal's to_txid), so parallel workers can read and hash it; width_bucket
    -- finds each row's seal by binary search over the starts.
    SELECT width_bucket(r.txid, {starts}::bigint[]) AS seal_no, r.seq, r.id,
           audit_row_digest(r.id, r.table_name, r.operation, r.record_id, r.user_id, r.ip_address, r.old_data,
                            r.new_data, r.created_at, r.seq, r.txid, r.db_role, r.db_login) AS digest
    FROM ({rows}) r
    WHERE r.txid < {sealed_txid}
    OFFSET 0
), found AS (
    SELECT seal_no, seq / 4096 AS block, count(*) AS row_count, min(seq) AS first_seq, max(seq) AS last_seq,
           encode(sha256(string_agg(digest, ''::bytea ORDER BY seq, id)), 'hex') AS digest
    FROM digests
    WHERE NOT seal_no = ANY ({archived_seals}::bigint[])
    GROUP BY 1, 2
), stored AS (
    SELECT s.seal_no, b.key::bigint AS block, b.value ->> 0 AS digest, (b.value ->> 1)::bigint AS row_count
    FROM audit_seals s, jsonb_each(s.blocks) b
    WHERE (s.seal_no, b.key::bigint) IN (SELECT seal_no, block FROM targets UNION SELECT seal_no, block FROM found)
), blocks AS (
    SELECT coalesce(st.seal_no, f.seal_no) AS seal_no, coalesce(st.block, f.block) AS block,
           st.row_count AS sealed_rows, f.row_count AS found_rows,
           coalesce(f.first_seq, coalesce(st.block, f.block) * 4096) AS first_seq,
           coalesce(f.last_seq, coalesce(st.block, f.block) * 4096 + 4095) AS last_seq,
           st.digest IS NOT DISTINCT FROM f.digest AND st.row_count IS NOT DISTINCT FROM f.row_count AS intact
    FROM stored st
    FULL JOIN found f ON f.seal_no = st.seal_no AND f.block = st.block
), per_seal AS (
    SELECT seal_no,
           coalesce(sum(found_rows) FILTER (WHERE intact), 0) AS verified_rows,
           jsonb_agg(jsonb_build_object('first_seq', first_seq, 'last_seq', last_seq,
                                        'sealed_rows', coalesce(sealed_rows, 0), 'found_rows', coalesce(found_rows, 0))
                     ORDER BY block) FILTER (WHERE NOT intact) AS altered_blocks
    FROM blocks GROUP BY seal_no
), chain AS (
    SELECT s.*,
           array_remove(ARRAY[
               CASE WHEN s.hash IS DISTINCT FROM audit_seal_hash(s.seal_no, s.from_txid, s.to_txid, s.row_count,
                                                                 s.rows_digest, s.prev_hash)
                    THEN 'the seal''s hash does not match its record' END,
               CASE WHEN s.prev_hash IS DISTINCT FROM coalesce(lag(s.hash) OVER w, repeat('0', 64))
                      OR s.from_txid IS DISTINCT FROM coalesce(lag(s.to_txid) OVER w, 0)
                      OR s.seal_no <> coalesce(lag(s.seal_no) OVER w, 0) + 1
                    THEN 'the seal does not follow the previous seal' END,
               CASE WHEN s.rows_digest IS DISTINCT FROM sb.digest OR s.row_count IS DISTINCT FROM sb.row_count
                    THEN 'the seal''s blocks do not match its digest' END
           ], NULL) AS record_problems
    FROM audit_seals s
    CROSS JOIN LATERAL (
        SELECT encode(sha256(string_agg(decode(b.value ->> 0, 'hex'), ''::bytea ORDER BY b.key::bigint)), 'hex') AS digest,
               sum((b.value ->> 1)::bigint) AS row_count
        FROM jsonb_each(s.blocks) b
    ) sb
    WINDOW w AS (ORDER BY s.seal_no)
), anchor_check AS (
    SELECT a.seal_no,
           jsonb_agg(jsonb_build_object('source', a.source, 'hash', a.hash) ORDER BY a.source)
               FILTER (WHERE s.seal_no IS NOT NULL AND a.hash <> s.hash) AS disagreeing,
           max(a.row_count) AS anchored_rows,
           bool_and(s.seal_no IS NULL) AS seal_missing
    FROM anchors a
    LEFT JOIN audit_seals s ON s.seal_no = a.seal_no
    GROUP BY a.seal_no
), judged AS (
    SELECT coalesce(c.seal_no, ac.seal_no) AS seal_no, c.from_txid, c.to_txid, c.first_seq, c.last_seq,
           c.first_created_at, c.last_created_at, c.sealed_at, c.hash,
           coalesce(c.row_count, ac.anchored_rows, 0) AS expected,
           CASE WHEN c.seal_no IS NULL OR cardinality(c.record_problems) > 0 OR ac.disagreeing IS NOT NULL THEN 0
                ELSE coalesce(p.verified_rows, 0) END AS actual,
           coalesce(c.record_problems, ARRAY['an anchored seal is missing from audit_seals'])
               || CASE WHEN ac.disagreeing IS NOT NULL THEN ARRAY['the seal differs from its anchor'] ELSE ARRAY[]::text[] END
               || CASE WHEN p.altered_blocks IS NOT NULL THEN ARRAY['audit rows in the sealed range were changed, removed or added'] ELSE ARRAY[]::text[] END
               AS problems,
           p.altered_blocks, ac.disagreeing
    FROM chain c
    FULL JOIN anchor_check ac ON ac.seal_no = c.seal_no
    LEFT JOIN per_seal p ON p.seal_no = coalesce(c.seal_no, ac.seal_no)
)
SELECT
    {run_id} AS run_id,
    NULL::uuid AS account_id,
    NULL::uuid AS transaction_id,
    NULL::char(3) AS currency,
    j.expected::numeric AS expected,
    j.actual::numeric AS actual,
    (j.actual - j.expected)::numeric AS difference,
    jsonb_build_object(
        'subject', format('seal %s (txid %s to %s, seq %s to %s, %s to %s)', j.seal_no, j.from_txid, j.to_txid,
                          j.first_seq, j.last_seq, j.first_created_at, j.last_created_at),
        'seal_no', j.seal_no, 'from_txid', j.from_txid, 'to_txid', j.to_txid,
        'first_seq', j.first_seq, 'last_seq', j.last_seq,
        'first_created_at', j.first_created_at, 'last_created_at', j.last_created_at,
        'sealed_at', j.sealed_at, 'hash', j.hash, 'problems', to_jsonb(j.problems),
        'altered_blocks', j.altered_blocks, 'anchors_disagreeing', j.disagreeing
    ) AS details
FROM judged j
WHERE cardinality(j.problems) > 0
{archives}
