-- A batch of statement lines, one array per column (COPY is refused on tables under row-level
-- security; one INSERT of arrays costs about what COPY does).
INSERT INTO statement_lines (statement_id, line_number, source_position, booking_date, value_date, amount,
                             currency, bank_reference, end_to_end_id, counterparty, counterparty_account,
                             description, bank_transaction_code, raw)
SELECT * FROM unnest(%(statement_id)s::uuid[], %(line_number)s::integer[], %(source_position)s::text[],
                     %(booking_date)s::date[], %(value_date)s::date[], %(amount)s::numeric[],
                     %(currency)s::char(3)[], %(bank_reference)s::text[], %(end_to_end_id)s::text[],
                     %(counterparty)s::text[], %(counterparty_account)s::text[], %(description)s::text[],
                     %(bank_transaction_code)s::text[], %(raw)s::text[])
