-- One statement; nothing when the account already has a statement of this id (the caller refuses
-- the file). Derived balances (a CSV file states none): the opening is the closing of the
-- account's latest statement that closed before this one opens, 0 for its first.
WITH previous AS (
    SELECT s.closing_balance
    FROM statements s JOIN statement_files f ON f.id = s.file_id
    WHERE s.bank_account_id = %(bank_account_id)s AND s.closing_date < %(opening_date)s
    ORDER BY s.closing_date DESC, f.imported_at DESC
    LIMIT 1
), opening AS (
    SELECT coalesce(%(opening_balance)s::numeric, (SELECT closing_balance FROM previous), 0) AS balance
)
INSERT INTO statements (id, file_id, bank_account_id, account_identifier, bank_statement_id, sequence_number,
                        page_number, currency, opening_balance, opening_date, closing_balance, closing_date,
                        balances_derived, source_position)
SELECT %(id)s, %(file_id)s, %(bank_account_id)s, %(account_identifier)s, %(bank_statement_id)s,
       %(sequence_number)s, %(page_number)s, %(currency)s, o.balance, %(opening_date)s,
       coalesce(%(closing_balance)s::numeric, o.balance + %(lines_total)s::numeric), %(closing_date)s,
       %(balances_derived)s, %(position)s
FROM opening o
ON CONFLICT (account_identifier, bank_statement_id) DO NOTHING
RETURNING opening_balance, closing_balance
