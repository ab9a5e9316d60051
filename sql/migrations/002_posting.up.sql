-- The posting path: the one way the application writes a transaction.

-- How much an entry moves its account's stored balance, in the account's normal sign.
-- A plain SQL function so the planner inlines it into set-based queries.
CREATE FUNCTION balance_delta(p_account_type text, p_entry_type text, p_amount numeric)
RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT CASE
        WHEN (p_entry_type = 'debit') = (p_account_type IN ('asset', 'expense')) THEN p_amount
        ELSE -p_amount
    END
$$;

INSERT INTO transaction_codes (code, description) VALUES
    ('DEPOSIT',  'Customer deposit into a wallet'),
    ('WITHDRAW', 'Customer withdrawal from a wallet'),
    ('TRANSFER', 'Transfer between two wallets'),
    ('FEE',      'Fee charged to a wallet'),
    ('ADJUST',   'Manual adjustment');

-- Posts one balanced transaction: p_entries is a JSON array of
--   {"account_id": uuid, "entry_type": "debit"|"credit", "amount": number, "currency": "USD"}
-- (currency may be omitted: it defaults to the account's). p_created_at is the value date; it
-- defaults to now and exists so history (demo data, imports) can be written through this path.
-- Everything happens in the caller's database transaction; any error leaves nothing written.
CREATE FUNCTION post_transaction(
    p_transaction_code text,
    p_entries jsonb,
    p_description text DEFAULT NULL,
    p_initiated_by uuid DEFAULT NULL,
    p_metadata jsonb DEFAULT '{}'::jsonb,
    p_created_at timestamptz DEFAULT now()
) RETURNS uuid
LANGUAGE plpgsql
AS $$
DECLARE
    v_transaction_id uuid := gen_random_uuid();
    v_problem text;
BEGIN
    IF jsonb_typeof(p_entries) IS DISTINCT FROM 'array' OR jsonb_array_length(p_entries) < 2 THEN
        RAISE EXCEPTION 'a transaction needs a JSON array of at least two entries'
            USING ERRCODE = 'check_violation';
    END IF;

    -- Lock the accounts in a fixed order, so concurrent postings to the same accounts queue
    -- up instead of deadlocking.
    PERFORM 1
    FROM accounts
    WHERE id IN (SELECT account_id FROM jsonb_to_recordset(p_entries) AS e (account_id uuid))
    ORDER BY id
    FOR UPDATE;

    SELECT string_agg(problem, '; ') INTO v_problem
    FROM (
        SELECT CASE
            WHEN e.account_id IS NULL THEN 'an entry has no account_id'
            WHEN a.id IS NULL THEN format('unknown account %s', e.account_id)
            WHEN e.entry_type IS NULL OR e.entry_type NOT IN ('debit', 'credit')
                THEN format('entry_type must be debit or credit, not %s', coalesce(e.entry_type, 'null'))
            WHEN e.amount IS NULL OR e.amount <= 0
                THEN format('amount must be positive, not %s', coalesce(e.amount::text, 'null'))
            WHEN coalesce(e.currency, a.currency) <> a.currency
                THEN format('entry currency %s does not match account %s (%s)', e.currency, a.code, a.currency)
        END AS problem
        FROM jsonb_to_recordset(p_entries)
            AS e (account_id uuid, entry_type text, amount numeric(20, 4), currency char(3))
        LEFT JOIN accounts a ON a.id = e.account_id
    ) p
    WHERE problem IS NOT NULL;
    IF v_problem IS NOT NULL THEN
        RAISE EXCEPTION 'invalid transaction: %', v_problem USING ERRCODE = 'check_violation';
    END IF;

    SELECT string_agg(format('%s debits %s <> credits %s', currency, debits, credits), '; ' ORDER BY currency)
    INTO v_problem
    FROM (
        SELECT a.currency,
               coalesce(sum(e.amount) FILTER (WHERE e.entry_type = 'debit'), 0.0000) AS debits,
               coalesce(sum(e.amount) FILTER (WHERE e.entry_type = 'credit'), 0.0000) AS credits
        FROM jsonb_to_recordset(p_entries) AS e (account_id uuid, entry_type text, amount numeric(20, 4))
        JOIN accounts a ON a.id = e.account_id
        GROUP BY a.currency
    ) t
    WHERE debits <> credits;
    IF v_problem IS NOT NULL THEN
        RAISE EXCEPTION 'unbalanced transaction: %', v_problem USING ERRCODE = 'check_violation';
    END IF;

    INSERT INTO transactions (id, transaction_code, initiated_by, status, description, metadata,
                              created_at, posted_at)
    VALUES (v_transaction_id, p_transaction_code, p_initiated_by, 'posted', p_description,
            coalesce(p_metadata, '{}'::jsonb), coalesce(p_created_at, now()), now());

    INSERT INTO entries (transaction_id, account_id, entry_type, amount, currency, created_at)
    SELECT v_transaction_id, a.id, e.entry_type, e.amount, a.currency, coalesce(p_created_at, now())
    FROM jsonb_to_recordset(p_entries) AS e (account_id uuid, entry_type text, amount numeric(20, 4))
    JOIN accounts a ON a.id = e.account_id;

    UPDATE accounts a
    SET balance = a.balance + d.delta, updated_at = now()
    FROM (
        SELECT acc.id, sum(balance_delta(acc.account_type, e.entry_type, e.amount)) AS delta
        FROM jsonb_to_recordset(p_entries) AS e (account_id uuid, entry_type text, amount numeric(20, 4))
        JOIN accounts acc ON acc.id = e.account_id
        GROUP BY acc.id
    ) d
    WHERE a.id = d.id;

    RETURN v_transaction_id;
END
$$;
