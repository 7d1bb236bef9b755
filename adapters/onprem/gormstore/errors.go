package gormstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/catalyst-forge/forge/domain/fault"
	gosqlite "github.com/glebarez/go-sqlite"
	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"
)

// SQLite result codes this adapter tells apart (https://sqlite.org/rescode.html).
const (
	sqliteBusy       = 5
	sqliteLocked     = 6
	sqliteIOErr      = 10
	sqliteCantOpen   = 14
	sqliteNotADB     = 26
	sqliteCheck      = 275  // SQLITE_CONSTRAINT_CHECK
	sqliteForeignKey = 787  // SQLITE_CONSTRAINT_FOREIGNKEY
	sqliteNotNull    = 1299 // SQLITE_CONSTRAINT_NOTNULL
	sqlitePrimaryKey = 1555 // SQLITE_CONSTRAINT_PRIMARYKEY
	sqliteUnique     = 2067 // SQLITE_CONSTRAINT_UNIQUE
)

// violation says which kind of constraint a driver error broke.
type violation int

const (
	noViolation violation = iota
	uniqueViolation
	foreignKeyViolation
	checkViolation
)

// violationOf reads a constraint violation out of a driver error:
// PostgreSQL SQLSTATE 23505/23503/23514/23502 and SQLite's extended
// constraint codes (or, failing those, their messages).
func violationOf(err error) violation {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "23505":
			return uniqueViolation
		case "23503":
			return foreignKeyViolation
		case "23514", "23502":
			return checkViolation
		}
		return noViolation
	}
	var sqErr *gosqlite.Error
	if errors.As(err, &sqErr) {
		switch sqErr.Code() {
		case sqliteUnique, sqlitePrimaryKey:
			return uniqueViolation
		case sqliteForeignKey:
			return foreignKeyViolation
		case sqliteCheck, sqliteNotNull:
			return checkViolation
		}
	}
	if err != nil {
		msg := err.Error()
		switch {
		case strings.Contains(msg, "UNIQUE constraint failed"):
			return uniqueViolation
		case strings.Contains(msg, "FOREIGN KEY constraint failed"):
			return foreignKeyViolation
		case strings.Contains(msg, "CHECK constraint failed"), strings.Contains(msg, "NOT NULL constraint failed"):
			return checkViolation
		}
	}
	return noViolation
}

// transient reports an error worth retrying the whole transaction for:
// SQLite busy or locked, a PostgreSQL serialization failure or deadlock.
func transient(err error) bool {
	var sqErr *gosqlite.Error
	if errors.As(err, &sqErr) {
		switch sqErr.Code() & 0xff {
		case sqliteBusy, sqliteLocked:
			return true
		}
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "40001" || pgErr.Code == "40P01"
	}
	return err != nil && (strings.Contains(err.Error(), "SQLITE_BUSY") || strings.Contains(err.Error(), "database is locked"))
}

// unreachable reports an error that means the database cannot be reached
// or cannot serve now, as opposed to a bad statement.
func unreachable(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) ||
		errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) {
		return true
	}
	var connectErr *pgconn.ConnectError
	if errors.As(err, &connectErr) {
		return true
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		// Class 08: connection exception; 53: insufficient resources;
		// 57P01-57P03: shutdown or not accepting connections.
		return strings.HasPrefix(pgErr.Code, "08") || strings.HasPrefix(pgErr.Code, "53") ||
			pgErr.Code == "57P01" || pgErr.Code == "57P02" || pgErr.Code == "57P03"
	}
	if pgconn.Timeout(err) {
		return true
	}
	var sqErr *gosqlite.Error
	if errors.As(err, &sqErr) {
		switch sqErr.Code() & 0xff {
		case sqliteCantOpen, sqliteIOErr, sqliteNotADB:
			return true
		}
	}
	return transient(err) || strings.Contains(err.Error(), "conn closed") || strings.Contains(err.Error(), "closed pool")
}

// dbErr turns a driver or gorm error into a *fault.Error; what says what
// the store was doing. An error that already carries a kind is returned
// unchanged.
func dbErr(err error, what string) error {
	if err == nil {
		return nil
	}
	var fe *fault.Error
	if errors.As(err, &fe) {
		return err
	}
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return fault.Wrap(fault.NotFound, err, "%s", what)
	}
	switch violationOf(err) {
	case uniqueViolation:
		return fault.Wrap(fault.Conflict, err, "%s: it already exists", what)
	case foreignKeyViolation:
		return fault.Wrap(fault.NotFound, err, "%s: an entity it refers to does not exist", what)
	case checkViolation:
		return fault.Wrap(fault.Validation, err, "%s: the store refuses a value", what)
	}
	if unreachable(err) {
		return fault.Wrap(fault.Unavailable, err, "%s: the database is unavailable", what)
	}
	return fault.Wrap(fault.Internal, err, "%s", what)
}
