-- A file imported before, by the SHA-256 of its bytes.
SELECT file_name, source_format, statement_count, line_count, imported_at
FROM statement_files WHERE sha256 = %(sha256)s
