-- +goose Up
-- An import applies an uploaded file of people in the background, in batches (see
-- account.Import). A runner claims a queued or running import whose lease has lapsed
-- (lease_until <= now) and holds it by lease_owner until lease_until, renewing it
-- with every batch; a runner that stops renewing leaves the job to another, and its
-- own updates, which name it as lease_owner, no longer apply. An import never claimed
-- has lease_owner '' and an old lease_until, so the claim needs no NULL case.
-- actor_id is no foreign key: the uploader may be deleted, and the job then fails.
CREATE TABLE imports (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    actor_id    TEXT NOT NULL,
    file_name   TEXT NOT NULL,
    format      TEXT NOT NULL CHECK (format IN ('xlsx', 'csv')),
    size        BIGINT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed')),
    total       INTEGER NOT NULL DEFAULT 0,
    processed   INTEGER NOT NULL DEFAULT 0,
    created     INTEGER NOT NULL DEFAULT 0,
    invited     INTEGER NOT NULL DEFAULT 0,
    updated     INTEGER NOT NULL DEFAULT 0,
    failed      INTEGER NOT NULL DEFAULT 0,
    error       TEXT NOT NULL DEFAULT '',
    lease_owner TEXT NOT NULL DEFAULT '',
    lease_until TIMESTAMPTZ NOT NULL DEFAULT '1970-01-01T00:00:00.000000Z',
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ
);
-- The organization's list, newest first; it also serves the cascade.
CREATE INDEX imports_org ON imports (org_id, id);
-- Claiming: the unfinished imports whose lease has lapsed.
CREATE INDEX imports_claim ON imports (state, lease_until);

-- The uploaded file, apart from its import so that listing imports never reads it.
CREATE TABLE import_files (
    import_id TEXT PRIMARY KEY REFERENCES imports (id) ON DELETE CASCADE,
    content   BYTEA NOT NULL
);

-- The rejected rows: one line per problem of a row, seq keeping a row's problems in
-- order. row is the spreadsheet's row number; row_values is the row's cells, a JSON
-- array of strings.
CREATE TABLE import_errors (
    import_id  TEXT NOT NULL REFERENCES imports (id) ON DELETE CASCADE,
    row        INTEGER NOT NULL,
    seq        INTEGER NOT NULL,
    field      TEXT NOT NULL DEFAULT '',
    message    TEXT NOT NULL,
    row_values TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (import_id, row, seq)
);

-- +goose Down
DROP TABLE import_errors;
DROP TABLE import_files;
DROP TABLE imports;
