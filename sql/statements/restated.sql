-- The file an already imported statement came from.
SELECT f.file_name, f.imported_at
FROM statements s JOIN statement_files f ON f.id = s.file_id
WHERE s.account_identifier = %(account_identifier)s AND s.bank_statement_id = %(bank_statement_id)s
