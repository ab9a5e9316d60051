-- A recorded pass that saw every line of the bank account up to its day (or every line), kept as
-- the account's last pass: the next one retries only what changed since (changed_days.sql).
INSERT INTO statement_match_passes (bank_account_id, watermark, through, fingerprint)
VALUES (%(bank_account)s, %(watermark)s, %(through)s, %(fingerprint)s)
ON CONFLICT (bank_account_id) DO UPDATE
    SET watermark = excluded.watermark, through = excluded.through,
        fingerprint = excluded.fingerprint, passed_at = now()
