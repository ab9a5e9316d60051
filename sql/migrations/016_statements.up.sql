-- Migration 016: bank statements, as the bank (or payment provider) reported them.
--   bank_accounts     a bank account identifier (IBAN, MT940 :25:, a provider's name) and currency,
--                     mapped to the ledger asset account that mirrors it
--   statement_files   each imported file, by the SHA-256 of its bytes: a file is imported once
--   statements        one statement of an account: its id, sequence, balances and where it came from
--   statement_lines   the statement's booked lines, signed (credit positive), with the raw record
-- Statements are evidence: system work writes them (ledger_pipeline/statements), no one edits them,
-- and every change is in the audit log like the ledger's own rows.

CREATE TABLE bank_accounts (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- As the files give it, so a file names its account without translation.
    identifier  text NOT NULL CHECK (identifier <> '' AND identifier = btrim(identifier)),
    -- An identifier may carry several currencies (MT940 multi-currency accounts, a provider's
    -- balances); each currency is mirrored by a ledger account of that currency.
    currency    char(3) NOT NULL REFERENCES currencies (code),
    account_id  uuid NOT NULL REFERENCES accounts (id),
    mapped_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (identifier, currency)
);

CREATE TABLE statement_files (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- Unique: of two imports of one file, the second waits for the first and then finds it.
    sha256          text NOT NULL UNIQUE CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    file_name       text NOT NULL,
    source_format   text NOT NULL CHECK (source_format ~ '^(camt053|mt940|csv:.+)$'),
    statement_count integer NOT NULL CHECK (statement_count >= 0),
    line_count      bigint NOT NULL CHECK (line_count >= 0),
    imported_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE statements (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    file_id            uuid NOT NULL REFERENCES statement_files (id) DEFERRABLE INITIALLY DEFERRED,
    bank_account_id    uuid NOT NULL REFERENCES bank_accounts (id),
    account_identifier text NOT NULL,
    -- camt.053 Stmt/Id; MT940 :28C: with the closing balance's date (banks repeat :20: and :28C:);
    -- CSV: the currency and the booking dates it spans.
    bank_statement_id  text NOT NULL CHECK (bank_statement_id <> ''),
    -- camt.053 ElctrncSeqNb (else LglSeqNb); MT940 the :28C: statement number; CSV none.
    sequence_number    bigint,
    -- camt.053 StmtPgntn/PgNb; MT940 the :28C: sequence number (page) after the slash.
    page_number        integer,
    currency           char(3) NOT NULL REFERENCES currencies (code),
    opening_balance    numeric NOT NULL,
    opening_date       date NOT NULL,
    closing_balance    numeric NOT NULL,
    closing_date       date NOT NULL,
    -- The file states no balances (CSV): the opening is the account's previous closing (0 for the
    -- first), the closing is the opening plus the lines.
    balances_derived   boolean NOT NULL,
    source_position    text NOT NULL,  -- the XML element or line of the file it starts at
    -- A different file restating a statement already imported is refused.
    UNIQUE (account_identifier, bank_statement_id)
);

CREATE INDEX idx_statements_file ON statements (file_id);
CREATE INDEX idx_statements_bank_account ON statements (bank_account_id, closing_date);

CREATE TABLE statement_lines (
    id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- Deferred: lines stream in before a statement whose balances come at its end (MT940, CSV).
    statement_id          uuid NOT NULL REFERENCES statements (id) DEFERRABLE INITIALLY DEFERRED,
    line_number           integer NOT NULL CHECK (line_number > 0),  -- order within the statement
    source_position       text NOT NULL,  -- the XML element or line of the file
    booking_date          date NOT NULL,
    value_date            date,
    amount                numeric NOT NULL,  -- signed: a credit to the bank account is positive
    currency              char(3) NOT NULL REFERENCES currencies (code),
    bank_reference        text,
    end_to_end_id         text,
    counterparty          text,
    counterparty_account  text,
    description           text,
    bank_transaction_code text,
    raw                   text NOT NULL,  -- the XML element, MT940 tags or CSV row (as JSON), for audit
    UNIQUE (statement_id, line_number)
);

-- ---------------------------------------------------------------------------------------------
-- Audit: the same triggers as the ledger's tables, and audit_write learns the four tables
-- ---------------------------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION audit_write(p_relid oid, p_operation text, p_old jsonb, p_new jsonb) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_table text := CASE p_relid
                        WHEN 'public.accounts'::regclass THEN 'accounts'
                        WHEN 'public.transactions'::regclass THEN 'transactions'
                        WHEN 'public.entries'::regclass THEN 'entries'
                        WHEN 'public.bank_accounts'::regclass THEN 'bank_accounts'
                        WHEN 'public.statement_files'::regclass THEN 'statement_files'
                        WHEN 'public.statements'::regclass THEN 'statements'
                        WHEN 'public.statement_lines'::regclass THEN 'statement_lines'
                    END;
BEGIN
    IF v_table IS NULL THEN
        RAISE EXCEPTION 'audit triggers belong on the ledger''s tables (accounts, transactions, entries) and the'
                        ' bank statements'' (bank_accounts, statement_files, statements, statement_lines) only'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    INSERT INTO public.audit_log (table_name, operation, record_id, user_id, ip_address,
                                  old_data, new_data, db_role)
    VALUES (v_table, p_operation,
            (coalesce(p_new, p_old) ->> 'id')::uuid,
            public.app_current_user_id(), public.app_client_ip(), p_old, p_new,
            coalesce(NULLIF(current_setting('role'), 'none'), session_user::text));
END
$$;

CREATE FUNCTION audit_statements() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$ BEGIN PERFORM public.audit_write(TG_RELID, TG_OP, to_jsonb(OLD), to_jsonb(NEW)); RETURN NULL; END $$;

REVOKE ALL ON FUNCTION audit_statements() FROM PUBLIC;

CREATE TRIGGER trigger_audit_bank_accounts AFTER INSERT OR UPDATE OR DELETE ON bank_accounts
    FOR EACH ROW EXECUTE FUNCTION audit_statements();
CREATE TRIGGER trigger_audit_statement_files AFTER INSERT OR UPDATE OR DELETE ON statement_files
    FOR EACH ROW EXECUTE FUNCTION audit_statements();
CREATE TRIGGER trigger_audit_statements AFTER INSERT OR UPDATE OR DELETE ON statements
    FOR EACH ROW EXECUTE FUNCTION audit_statements();
CREATE TRIGGER trigger_audit_statement_lines AFTER INSERT OR UPDATE OR DELETE ON statement_lines
    FOR EACH ROW EXECUTE FUNCTION audit_statements();

CREATE TRIGGER prevent_truncate_bank_accounts BEFORE TRUNCATE ON bank_accounts
    FOR EACH STATEMENT EXECUTE FUNCTION prevent_ledger_truncate();
CREATE TRIGGER prevent_truncate_statement_files BEFORE TRUNCATE ON statement_files
    FOR EACH STATEMENT EXECUTE FUNCTION prevent_ledger_truncate();
CREATE TRIGGER prevent_truncate_statements BEFORE TRUNCATE ON statements
    FOR EACH STATEMENT EXECUTE FUNCTION prevent_ledger_truncate();
CREATE TRIGGER prevent_truncate_statement_lines BEFORE TRUNCATE ON statement_lines
    FOR EACH STATEMENT EXECUTE FUNCTION prevent_ledger_truncate();

-- ---------------------------------------------------------------------------------------------
-- Row-level security: system work only. ledger_app has no grant on these tables at all; a
-- mapping may be corrected (UPDATE, audited), imported statements are never changed.
-- ---------------------------------------------------------------------------------------------
GRANT SELECT, INSERT, UPDATE ON bank_accounts TO ledger_system;
GRANT SELECT, INSERT ON statement_files, statements, statement_lines TO ledger_system;

ALTER TABLE bank_accounts ENABLE ROW LEVEL SECURITY;
ALTER TABLE bank_accounts FORCE ROW LEVEL SECURITY;
ALTER TABLE statement_files ENABLE ROW LEVEL SECURITY;
ALTER TABLE statement_files FORCE ROW LEVEL SECURITY;
ALTER TABLE statements ENABLE ROW LEVEL SECURITY;
ALTER TABLE statements FORCE ROW LEVEL SECURITY;
ALTER TABLE statement_lines ENABLE ROW LEVEL SECURITY;
ALTER TABLE statement_lines FORCE ROW LEVEL SECURITY;

CREATE POLICY bank_accounts_system ON bank_accounts TO ledger_system USING (true) WITH CHECK (true);
CREATE POLICY statement_files_system ON statement_files TO ledger_system USING (true) WITH CHECK (true);
CREATE POLICY statements_system ON statements TO ledger_system USING (true) WITH CHECK (true);
CREATE POLICY statement_lines_system ON statement_lines TO ledger_system USING (true) WITH CHECK (true);
