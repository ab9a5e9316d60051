-- Each record's latest audit row among audit_rows, and whether any of its rows inserted it, as
-- audit_trail_complete compares them (the full run, and the first nightly run): one sort of the
-- rows by record and seq gives both the latest row (DISTINCT ON) and the INSERT (a window over the
-- same order), where grouping by record and joining the latest rows back read and hashed the log twice.
SELECT DISTINCT ON (table_name, record_id) table_name, record_id, seq, operation, new_data, old_data,
       bool_or(operation = 'INSERT') OVER (PARTITION BY table_name, record_id ORDER BY seq DESC
                                           ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS inserted
FROM ({audit_rows}) a
ORDER BY table_name, record_id, seq DESC
