-- The nightly audit_log_intact's findings on archived months (appended to
-- sql/checks/audit/audit_log_intact.sql): each month's file checked by its SHA-256 against its
-- manifest, the manifest against the checksum audit_archives recorded when the month was archived,
-- and its seals against the chain, from archives (JSON: what audit.verification read of the files,
-- which are hashed, not loaded). One row per month that does not hold.
UNION ALL
SELECT {run_id}, NULL::uuid, NULL::uuid, NULL::char(3), a.row_count::numeric, 0::numeric, -a.row_count::numeric,
       jsonb_build_object('subject', format('archived month %s: %s', a.month, array_to_string(a.problems, '; ')),
                          'month', a.month, 'problems', to_jsonb(a.problems))
FROM (
    SELECT x.month, x.row_count, array_remove(ARRAY[
               x.problem,
               CASE WHEN x.problem IS NULL AND x.file_sha256 IS DISTINCT FROM x.manifest_sha256
                    THEN 'the file does not match its manifest''s SHA-256' END,
               CASE WHEN x.manifest_sha256 IS DISTINCT FROM aa.sha256
                    THEN 'the manifest''s SHA-256 is not the one recorded when the month was archived' END,
               CASE WHEN EXISTS (SELECT FROM jsonb_to_recordset(coalesce(x.seals, '[]')) m (seal_no bigint, hash text)
                                 LEFT JOIN audit_seals s ON s.seal_no = m.seal_no
                                 WHERE s.hash IS DISTINCT FROM m.hash)
                    THEN 'the manifest''s seals are not those of the chain' END
           ], NULL) AS problems
    FROM jsonb_to_recordset({archives}::jsonb)
         AS x (month text, row_count bigint, file_sha256 text, manifest_sha256 text, seals jsonb, problem text)
    LEFT JOIN audit_archives aa ON to_char(aa.month, 'YYYY-MM') = x.month
) a
WHERE cardinality(a.problems) > 0
