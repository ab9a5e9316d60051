-- The nightly audit_trail_complete reads each table by its key for its own records (records, a CTE
-- of sql/checks/audit/audit_trail_complete.sql): "everything OR (table, id) IN" kept the planner from
-- making a join (every row was read with a hashed filter), and one IN over the union of the tables
-- probed every table's key for every record.
WHERE t.id IN (SELECT record_id FROM records WHERE table_name = {table_name})
