-- Migration 015: the plans of fanned-out backfills.
--
-- A balance as of a day's end is the account's total less what its entries moved after that
-- day. A backfill split into chunks that each read what moved after their own last day would read
-- the ledger once per chunk, from that chunk on: N chunks, about N/2 passes. The plan reads it
-- once, before the chunks start: per account and chunk end, the totals of the entries from that
-- end on that had arrived below its watermark (the xmin of its snapshot, as for the checkpoint,
-- migration 007). A chunk adds to them the entries that arrived since, through
-- idx_entries_arrival. The rows are derived data: a chunk that finds no plan reads the entries.

CREATE TABLE backfill_plans (
    id             uuid          PRIMARY KEY DEFAULT gen_random_uuid(),
    dagster_run_id text,
    chunk_ends     timestamptz[] NOT NULL,  -- the chunk ends it holds tails from
    watermark      xid8          NOT NULL,
    created_at     timestamptz   NOT NULL DEFAULT now()
);

-- Per account, what its entries that arrived below the plan's watermark moved from each of the
-- plan's chunk ends on: element k from chunk_ends[k] on (past the arrays' end: nothing). One row
-- per account rather than per account and chunk end: the plan writes as few rows as it can.
CREATE TABLE backfill_tails (
    plan_id    uuid      NOT NULL REFERENCES backfill_plans (id) ON DELETE CASCADE,
    account_id uuid      NOT NULL,
    debits     numeric[] NOT NULL,
    credits    numeric[] NOT NULL,
    PRIMARY KEY (plan_id, account_id)
);

GRANT SELECT, INSERT, DELETE ON backfill_plans, backfill_tails TO ledger_system;
