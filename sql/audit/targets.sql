-- The sealed blocks a nightly verification re-hashes: every block of the seals made after the last
-- intact verification's head (verified_head), the rotating slice of the older blocks (block mod
-- slices = slice), and the blocks chosen at random for this run alone (random_seals,
-- random_blocks, pairwise). Seals whose rows lie in archived months (archived_seals) are
-- verified through their month's manifest instead. everything: every sealed block (a full run).
SELECT s.seal_no, b.key::bigint AS block, (b.value ->> 1)::bigint AS row_count
FROM audit_seals s, jsonb_each(s.blocks) b
WHERE NOT s.seal_no = ANY ({archived_seals}::bigint[])
  AND ({everything}
       OR s.seal_no > {verified_head}
       OR b.key::bigint % {slices} = {slice}
       OR (s.seal_no, b.key::bigint) IN (SELECT * FROM unnest({random_seals}::bigint[], {random_blocks}::bigint[])))
