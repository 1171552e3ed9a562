-- The append-only audit journal. Rows are never updated or deleted (the triggers refuse it).
CREATE TABLE journal (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    ts              TEXT    NOT NULL,  -- RFC 3339, UTC, from the engine's clock
    kind            TEXT    NOT NULL,  -- signal, risk_decision, order_intent, ack, ...
    client_order_id TEXT,
    symbol          TEXT,
    actor           TEXT,              -- who: "engine", an operator, "api", ...
    payload         TEXT    NOT NULL   -- JSON
);
CREATE INDEX journal_by_order ON journal (client_order_id) WHERE client_order_id IS NOT NULL;
CREATE INDEX journal_by_kind ON journal (kind, seq);

CREATE TRIGGER journal_no_update BEFORE UPDATE ON journal
BEGIN SELECT RAISE(ABORT, 'journal is append-only'); END;
CREATE TRIGGER journal_no_delete BEFORE DELETE ON journal
BEGIN SELECT RAISE(ABORT, 'journal is append-only'); END;
