-- Each statement line is in an active match with ledger entries of the mirrored account: a row
-- per line in none (the bank moved the amount, the ledger nothing), and a row per active match
-- whose lines and entries differ in amount (a rule with a tolerance, a reference, a person).
SELECT {run_id}::uuid AS run_id, s.account_id, NULL::uuid AS transaction_id, l.currency,
       l.amount AS expected, 0::numeric AS actual, -l.amount AS difference,
       jsonb_build_object('aspect', 'unmatched', 'line_id', l.id, 'bank_account', s.identifier,
                          'statement', s.bank_statement_id, 'line_number', l.line_number,
                          'booking_date', l.booking_date, 'bank_reference', l.bank_reference,
                          'end_to_end_id', l.end_to_end_id, 'counterparty', l.counterparty,
                          'description', l.description) AS details
FROM statement_lines l
JOIN external_statements s ON s.id = l.statement_id
WHERE NOT EXISTS (SELECT FROM statement_match_links k WHERE k.statement_line_id = l.id AND k.active)
UNION ALL
SELECT {run_id}::uuid, b.account_id,
       CASE WHEN cardinality(x.transactions) = 1 THEN x.transactions[1] END, b.currency,
       x.lines, x.lines - m.amount_difference, -m.amount_difference,
       jsonb_build_object('aspect', 'matched_with_difference', 'match_id', m.id, 'rule', m.rule,
                          'strategy', m.strategy, 'manual', m.manual, 'reason', m.reason,
                          'bank_account', b.identifier, 'days_difference', m.days_difference,
                          'line_ids', x.line_ids, 'entry_ids', x.entry_ids)
FROM statement_matches m
JOIN bank_accounts b ON b.id = m.bank_account_id
CROSS JOIN LATERAL (
    SELECT sum(l.amount) AS lines, array_agg(k.statement_line_id) FILTER (WHERE k.statement_line_id IS NOT NULL) AS line_ids,
           array_agg(k.entry_id) FILTER (WHERE k.entry_id IS NOT NULL) AS entry_ids,
           array_agg(DISTINCT e.transaction_id) FILTER (WHERE e.id IS NOT NULL) AS transactions
    FROM statement_match_links k
    LEFT JOIN statement_lines l ON l.id = k.statement_line_id
    LEFT JOIN entries e ON e.id = k.entry_id
    WHERE k.match_id = m.id AND k.active
) x
WHERE m.unmatched_at IS NULL AND m.amount_difference <> 0
  AND m.id IN (SELECT k.match_id FROM statement_match_links k
               JOIN statement_lines l ON l.id = k.statement_line_id
               JOIN external_statements s ON s.id = l.statement_id
               WHERE k.active)
