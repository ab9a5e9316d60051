-- Every live sealed block has been re-hashed and found intact within the last slices + 1 days
-- (audit_block_verifications; a block never verified since migration 017 counts from its seal's
-- sealed_at). The blocks this run re-hashes (targets) count as verified now: were one altered,
-- audit_log_intact reports it. Archived seals (archived_seals) are checked every night through
-- their month's manifest. One row when any block is older: expected = 0 blocks that stale,
-- actual = how many, details = the oldest block's last verification and its age.
WITH targets AS (
    {targets}
), ages AS (
    SELECT s.seal_no, b.key::bigint AS block,
           CASE WHEN t.seal_no IS NOT NULL THEN now() ELSE coalesce(v.verified_at, s.sealed_at) END AS verified_at
    FROM audit_seals s
    CROSS JOIN jsonb_each(s.blocks) b
    LEFT JOIN audit_block_verifications v ON v.seal_no = s.seal_no AND v.block = b.key::bigint
    LEFT JOIN targets t ON t.seal_no = s.seal_no AND t.block = b.key::bigint
    WHERE NOT s.seal_no = ANY ({archived_seals}::bigint[])
), stale AS (
    SELECT count(*) AS blocks, min(verified_at) AS oldest,
           (array_agg(seal_no ORDER BY verified_at))[1] AS seal_no,
           (array_agg(block ORDER BY verified_at))[1] AS block
    FROM ages
    WHERE verified_at < now() - make_interval(days => {slices} + 1)
)
SELECT
    {run_id} AS run_id,
    NULL::uuid AS account_id,
    NULL::uuid AS transaction_id,
    NULL::char(3) AS currency,
    0::numeric AS expected,
    s.blocks::numeric AS actual,
    s.blocks::numeric AS difference,
    jsonb_build_object(
        'subject', format('%s sealed blocks not verified for over %s days; the oldest, block %s of seal %s,'
                          ' last verified %s', s.blocks, {slices} + 1, s.block, s.seal_no, s.oldest),
        'stale_blocks', s.blocks, 'oldest_verified_at', s.oldest, 'seal_no', s.seal_no, 'block', s.block,
        'oldest_age_days', round(extract(epoch FROM now() - s.oldest) / 86400, 2), 'limit_days', {slices} + 1
    ) AS details
FROM stale s
WHERE s.blocks > 0
