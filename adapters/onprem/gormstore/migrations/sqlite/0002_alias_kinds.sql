-- Aliases are unique per kind within a project, not across kinds: a tag
-- "main-3" and the branch alias "main-3" of the third release of main may
-- both exist (they name different releases; identifiers resolve numeric,
-- then tag, then branch, then custom — release.AliasPrecedence). Before,
-- such a tag blocked every later release of the branch with a conflict.
-- A release still has each alias text once (release_id, alias).
--
-- SQLite cannot drop a table constraint, so the table is rebuilt with its
-- rows (seq and rowid included), indexes and trigger.
CREATE TABLE release_aliases_0002 (
    id         TEXT    NOT NULL PRIMARY KEY,
    seq        INTEGER,
    release_id TEXT    NOT NULL REFERENCES releases (id) ON DELETE CASCADE,
    repository TEXT    NOT NULL,
    project    TEXT    NOT NULL,
    alias      TEXT    NOT NULL,
    alias_type TEXT    NOT NULL,
    CONSTRAINT release_aliases_release_alias_key UNIQUE (release_id, alias),
    CONSTRAINT release_aliases_project_kind_alias_key UNIQUE (repository, project, alias_type, alias),
    CONSTRAINT release_aliases_alias_type_check
        CHECK (alias_type IN ('numeric', 'tag', 'branch', 'custom'))
);
-- rowid is kept too: the trigger numbers new rows by it, after the old ones.
INSERT INTO release_aliases_0002 (rowid, id, seq, release_id, repository, project, alias, alias_type)
    SELECT rowid, id, seq, release_id, repository, project, alias, alias_type FROM release_aliases;
DROP TABLE release_aliases;
ALTER TABLE release_aliases_0002 RENAME TO release_aliases;
CREATE INDEX release_aliases_alias_alias_type_idx ON release_aliases (alias, alias_type);
-- The lookup of an identifier reads every kind of one alias of a project.
CREATE INDEX release_aliases_project_alias_idx ON release_aliases (repository, project, alias);
CREATE TRIGGER release_aliases_seq AFTER INSERT ON release_aliases FOR EACH ROW WHEN NEW.seq IS NULL
BEGIN
    UPDATE release_aliases SET seq = NEW.rowid WHERE rowid = NEW.rowid;
END;
