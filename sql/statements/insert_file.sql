INSERT INTO statement_files (id, sha256, file_name, source_format, statement_count, line_count)
VALUES (%(id)s, %(sha256)s, %(file_name)s, %(source_format)s, %(statement_count)s, %(line_count)s)
