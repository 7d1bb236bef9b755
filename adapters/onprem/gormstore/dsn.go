package gormstore

import (
	"net/url"
	"path/filepath"
	"strings"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/google/uuid"
)

// AcceptedDSNs lists the DSN forms Open accepts, for messages and --help.
const AcceptedDSNs = "sqlite:///absolute/path/forge.db, sqlite://relative/path/forge.db, sqlite::memory:, " +
	"postgres://user:password@host:5432/dbname?sslmode=disable (or postgresql://...)"

// sqlitePragmas are set on every SQLite connection: enforce foreign keys,
// wait for other writers instead of failing at once, use the write-ahead
// log so readers never block the writer, and sync it at checkpoints
// rather than at every commit (synchronous=NORMAL, SQLite's advice for
// WAL: a commit survives the process dying; power loss may roll back the
// last ones, never corrupt the file). A _pragma in the DSN comes after
// these and wins.
var sqlitePragmas = []string{"busy_timeout(5000)", "foreign_keys(1)", "journal_mode(WAL)", "synchronous(NORMAL)"}

// target is a parsed DSN: which dialect, what to hand its driver, and how
// to name it in messages without its password.
type target struct {
	dialect   dialect
	driverDSN string
	redacted  string
	// lockKey names the database for the process-level SQLite write lock.
	lockKey string
	memory  bool
	// secrets are strings that must never appear in a message (passwords).
	secrets []string
}

// parseDSN recognises the accepted DSN forms. It never repeats the DSN in
// an error, since it may carry a password.
func parseDSN(dsn string) (target, error) {
	dsn = strings.TrimSpace(dsn)
	scheme, _, ok := strings.Cut(dsn, ":")
	if dsn == "" || !ok {
		return target{}, fault.New(fault.Validation, "the database DSN has no scheme; use one of: %s", AcceptedDSNs)
	}
	switch strings.ToLower(scheme) {
	case "sqlite":
		return parseSQLite(dsn)
	case "postgres", "postgresql":
		return parsePostgres(dsn)
	}
	return target{}, fault.New(fault.Validation, "unsupported database DSN scheme %q; use one of: %s", scheme, AcceptedDSNs)
}

func parseSQLite(dsn string) (target, error) {
	rest := dsn[len("sqlite:"):]
	if rest == ":memory:" || rest == "//:memory:" {
		// A unique shared-cache name: every connection of this store sees
		// one database, and two stores never share it.
		name := "forge-" + uuid.NewString()
		q := url.Values{"mode": {"memory"}, "cache": {"shared"}, "_txlock": {"immediate"}}
		for _, p := range sqlitePragmas {
			if !strings.HasPrefix(p, "journal_mode") { // WAL needs a file
				q.Add("_pragma", p)
			}
		}
		return target{dialect: dialectSQLite, driverDSN: "file:" + name + "?" + q.Encode(),
			redacted: "sqlite::memory:", lockKey: name, memory: true}, nil
	}
	path, ok := strings.CutPrefix(rest, "//")
	if !ok {
		return target{}, fault.New(fault.Validation, "a SQLite DSN is sqlite:///absolute/path.db, sqlite://relative/path.db or sqlite::memory:")
	}
	path, query, _ := strings.Cut(path, "?")
	if path == "" {
		return target{}, fault.New(fault.Validation, "the SQLite DSN names no file; use sqlite:///absolute/path/forge.db or sqlite://relative/path/forge.db")
	}
	unescaped, err := url.PathUnescape(path)
	if err != nil {
		return target{}, fault.New(fault.Validation, "the SQLite DSN's path is not valid: %v", err)
	}
	extra, err := url.ParseQuery(query)
	if err != nil {
		return target{}, fault.New(fault.Validation, "the SQLite DSN's query is not valid: %v", err)
	}
	q := url.Values{"_txlock": {"immediate"}}
	for _, p := range sqlitePragmas {
		q.Add("_pragma", p)
	}
	// The store decides how transactions lock; _time_format would also
	// make the driver skip _txlock.
	for k, vs := range extra {
		if k == "_txlock" || k == "_time_format" {
			continue
		}
		for _, v := range vs {
			q.Add(k, v)
		}
	}
	abs, err := filepath.Abs(unescaped)
	if err != nil {
		abs = unescaped
	}
	return target{dialect: dialectSQLite, driverDSN: unescaped + "?" + q.Encode(),
		redacted: "sqlite://" + path, lockKey: filepath.Clean(abs)}, nil
}

func parsePostgres(dsn string) (target, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		// url.Parse repeats its input in the error: leave it out.
		return target{}, fault.New(fault.Validation, "the PostgreSQL DSN is not a valid URL; use %s", "postgres://user:password@host:5432/dbname?sslmode=disable")
	}
	t := target{dialect: dialectPostgres, driverDSN: dsn}
	if u.User != nil {
		if pw, ok := u.User.Password(); ok && pw != "" {
			t.secrets = append(t.secrets, pw)
		}
	}
	q := u.Query()
	if pw := q.Get("password"); pw != "" {
		t.secrets = append(t.secrets, pw)
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	t.redacted = u.Redacted()
	return t, nil
}

// RedactDSN returns dsn with any password replaced, for messages and logs.
// A DSN it cannot parse is replaced whole.
func RedactDSN(dsn string) string {
	t, err := parseDSN(dsn)
	if err != nil {
		return "(unparsable DSN)"
	}
	return t.redacted
}

// scrub removes the DSN's secrets from s.
func (t target) scrub(s string) string {
	for _, secret := range t.secrets {
		s = strings.ReplaceAll(s, secret, "xxxxx")
	}
	return s
}
