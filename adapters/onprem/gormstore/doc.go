// Package gormstore is the gorm adapter of the Store port (ports.Store) on
// PostgreSQL (gorm.io/driver/postgres) and SQLite (github.com/glebarez/sqlite,
// pure Go, no cgo). It is in the adapters/onprem layer: the local profile
// runs it on a SQLite file, the on-premises and AWS profiles on PostgreSQL.
//
// The package owns the SQL schema of the Store port and its migrations:
// versioned plain-SQL files, one set per dialect, embedded in the binary
// (migrations/postgres, migrations/sqlite) and applied by Store.Migrate,
// which records them in schema_migrations. Open never migrates; servers
// call CheckSchema and refuse to start on an out-of-date schema, telling
// the operator to run `forge-api migrate`.
//
// Concurrency: on PostgreSQL, release numbering takes a transaction-scoped
// advisory lock per repository/project, activating a deployment one per
// environment and project, updates read their row FOR UPDATE, and Migrate
// one lock for the whole schema. On SQLite, write transactions begin
// IMMEDIATE and are serialised by a process-wide lock per database file;
// SQLITE_BUSY from another process is retried. Entities map to private row
// types; the domain types carry no storage tags.
package gormstore
