-- Aliases are unique per kind within a project, not across kinds: a tag
-- "main-3" and the branch alias "main-3" of the third release of main may
-- both exist (they name different releases; identifiers resolve numeric,
-- then tag, then branch, then custom — release.AliasPrecedence). Before,
-- such a tag blocked every later release of the branch with a conflict.
-- A release still has each alias text once (release_id, alias).
ALTER TABLE release_aliases DROP CONSTRAINT release_aliases_project_alias_key;
ALTER TABLE release_aliases ADD CONSTRAINT release_aliases_project_kind_alias_key
    UNIQUE (repository, project, alias_type, alias);
-- The lookup of an identifier reads every kind of one alias of a project.
CREATE INDEX release_aliases_project_alias_idx ON release_aliases (repository, project, alias);
