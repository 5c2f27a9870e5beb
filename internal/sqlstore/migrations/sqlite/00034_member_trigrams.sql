-- +goose Up
-- A trigram index of the members' search text, so that a member search finds its
-- matches without reading the organization's other members (470–660 ms for a rare
-- substring at 1,000,000 members by reading memberships_search whole).
--
-- FTS5's trigram tokenizer indexes every three characters of memberships.search, as
-- it is (the text is lower-cased in Go, like the needle; case_sensitive 1 leaves it
-- alone). The index is contentless (the text is memberships.search already); its
-- rows are numbered by member_search_rows, whose INTEGER PRIMARY KEY keeps each
-- number across VACUUM (a table's implicit rowid may change). Triggers keep both in
-- the membership write's transaction.
CREATE TABLE member_search_rows (
    id         INTEGER PRIMARY KEY,
    org_id     TEXT NOT NULL,
    account_id TEXT NOT NULL,
    UNIQUE (org_id, account_id)
);

CREATE VIRTUAL TABLE member_trigrams USING fts5(
    search, content='', contentless_delete=1, tokenize='trigram case_sensitive 1');

INSERT INTO member_search_rows (org_id, account_id)
SELECT org_id, account_id FROM memberships ORDER BY org_id, account_id;
INSERT INTO member_trigrams (rowid, search)
SELECT r.id, m.search FROM member_search_rows r
JOIN memberships m ON m.org_id = r.org_id AND m.account_id = r.account_id;

-- The membership triggers fire for the rows that foreign key actions delete too (an
-- account or an organization removed). A membership's keys are never updated.
-- +goose StatementBegin
CREATE TRIGGER memberships_trigrams_insert AFTER INSERT ON memberships
BEGIN
    INSERT INTO member_search_rows (org_id, account_id) VALUES (NEW.org_id, NEW.account_id);
    INSERT INTO member_trigrams (rowid, search)
    SELECT r.id, NEW.search FROM member_search_rows r
    WHERE r.org_id = NEW.org_id AND r.account_id = NEW.account_id;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER memberships_trigrams_delete AFTER DELETE ON memberships
BEGIN
    DELETE FROM member_trigrams WHERE rowid =
        (SELECT r.id FROM member_search_rows r WHERE r.org_id = OLD.org_id AND r.account_id = OLD.account_id);
    DELETE FROM member_search_rows WHERE org_id = OLD.org_id AND account_id = OLD.account_id;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER memberships_trigrams_update AFTER UPDATE OF search ON memberships
WHEN OLD.search <> NEW.search
BEGIN
    DELETE FROM member_trigrams WHERE rowid =
        (SELECT r.id FROM member_search_rows r WHERE r.org_id = NEW.org_id AND r.account_id = NEW.account_id);
    INSERT INTO member_trigrams (rowid, search)
    SELECT r.id, NEW.search FROM member_search_rows r
    WHERE r.org_id = NEW.org_id AND r.account_id = NEW.account_id;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER memberships_trigrams_update;
DROP TRIGGER memberships_trigrams_delete;
DROP TRIGGER memberships_trigrams_insert;
DROP TABLE member_trigrams;
DROP TABLE member_search_rows;
