-- The double-entry ledger: accounts, transaction codes, transactions and their entries.
-- Stored balances are kept in each account's normal sign:
--   asset, expense                 balance = debits - credits
--   liability, equity, revenue     balance = credits - debits

CREATE TABLE accounts (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id      uuid,                         -- owner; NULL for house accounts
    code         text NOT NULL UNIQUE,
    name         text NOT NULL,
    account_type text NOT NULL
                 CHECK (account_type IN ('asset', 'liability', 'equity', 'revenue', 'expense')),
    currency     char(3) NOT NULL,
    balance      numeric(20, 4) NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE transaction_codes (
    code        text PRIMARY KEY,
    description text
);

CREATE TABLE transactions (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    transaction_code text REFERENCES transaction_codes (code),
    initiated_by     uuid,
    status           text NOT NULL DEFAULT 'posted',
    description      text,
    metadata         jsonb NOT NULL DEFAULT '{}',
    -- Finite: reconciliation windows are [start, end) ranges, which 'infinity' would escape.
    created_at       timestamptz NOT NULL DEFAULT now() CHECK (isfinite(created_at)),
    posted_at        timestamptz
);

CREATE TABLE entries (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    transaction_id uuid NOT NULL REFERENCES transactions (id),
    account_id     uuid NOT NULL REFERENCES accounts (id),
    entry_type     text NOT NULL CHECK (entry_type IN ('debit', 'credit')),
    amount         numeric(20, 4) NOT NULL CHECK (amount > 0),
    currency       char(3) NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now() CHECK (isfinite(created_at))
);

-- Foreign keys are not indexed by PostgreSQL; balance recomputation, per-transaction checks
-- and the row-level-security subqueries all look entries up by these columns.
CREATE INDEX idx_entries_transaction ON entries (transaction_id);
CREATE INDEX idx_entries_account ON entries (account_id);
CREATE INDEX idx_entries_created ON entries (created_at);
CREATE INDEX idx_transactions_created ON transactions (created_at);
CREATE INDEX idx_transactions_initiated_by ON transactions (initiated_by);
CREATE INDEX idx_accounts_user ON accounts (user_id);
