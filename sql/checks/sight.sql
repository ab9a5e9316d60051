-- A reconciliation must see every row. It runs as ledger_system, whose policies on the three
-- ledger tables, the four of bank statements and the two of their matches (which the audit trail
-- and the external checks read) are USING (true); this finds anything that would narrow that sight: a missing
-- system policy, or a restrictive policy (restrictive policies are ANDed with the permissive ones).
SELECT t.tablename AS table_name,
       current_user AS reading_as,
       EXISTS (SELECT FROM pg_policies p
               WHERE p.schemaname = 'public' AND p.tablename = t.tablename
                 AND p.permissive = 'PERMISSIVE' AND p.cmd IN ('ALL', 'SELECT')
                 AND p.roles @> ARRAY['ledger_system']::name[] AND p.qual = 'true') AS system_policy,
       (SELECT count(*) FROM pg_policies p
        WHERE p.schemaname = 'public' AND p.tablename = t.tablename
          AND p.permissive = 'RESTRICTIVE') AS restrictive_policies
FROM (VALUES ('accounts'), ('transactions'), ('entries'),
             ('bank_accounts'), ('statement_files'), ('statements'), ('statement_lines'),
             ('statement_matches'), ('statement_match_links')) AS t (tablename)
