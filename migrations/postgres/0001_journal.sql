-- The append-only audit journal. Rows are never updated or deleted (the trigger refuses it).
CREATE TABLE journal (
    seq             BIGSERIAL PRIMARY KEY,
    ts              TIMESTAMPTZ NOT NULL,  -- from the engine's clock
    kind            TEXT        NOT NULL,  -- signal, risk_decision, order_intent, ack, ...
    client_order_id TEXT,
    symbol          TEXT,
    actor           TEXT,                  -- who: "engine", an operator, "api", ...
    payload         JSONB       NOT NULL
);
CREATE INDEX journal_by_order ON journal (client_order_id) WHERE client_order_id IS NOT NULL;
CREATE INDEX journal_by_kind ON journal (kind, seq);

CREATE FUNCTION journal_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'journal is append-only';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER journal_no_change BEFORE UPDATE OR DELETE ON journal
    FOR EACH ROW EXECUTE FUNCTION journal_append_only();
CREATE TRIGGER journal_no_truncate BEFORE TRUNCATE ON journal
    FOR EACH STATEMENT EXECUTE FUNCTION journal_append_only();
