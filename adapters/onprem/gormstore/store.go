package gormstore

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/ports"
	"github.com/glebarez/sqlite"
	"github.com/google/uuid"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
	"gorm.io/gorm/logger"
)

var _ ports.Store = (*Store)(nil)

// dialect is the SQL database behind a Store.
type dialect int

const (
	dialectSQLite dialect = iota + 1
	dialectPostgres
)

func (d dialect) String() string {
	if d == dialectPostgres {
		return "postgres"
	}
	return "sqlite"
}

// Default pool sizes: SQLite serialises writers anyway and WAL lets a few
// readers through; PostgreSQL shares its server with other services.
const (
	defaultSQLiteConns   = 8
	defaultPostgresConns = 16
	// maxAttempts bounds the retries of a transaction that hit SQLITE_BUSY,
	// a serialization failure or a deadlock.
	maxAttempts = 8
)

// Store is the gorm adapter of ports.Store, on PostgreSQL or SQLite. A Store
// from Open works on the connection pool; the Tx that InTx passes to its
// function is a Store bound to that transaction. Safe for concurrent use
// (a bound Store only within its transaction's function).
//
// Every write runs in a transaction of its own, or in a savepoint of the
// caller's. When the database asks for a retry (SQLITE_BUSY, a
// serialization failure, a deadlock), the store retries the whole write,
// so an Update closure may run more than once; InTx's function is retried
// only if it had not started.
type Store struct {
	db      *gorm.DB
	dialect dialect
	target  target
	now     func() time.Time
	// writeMu serialises this process's write transactions on one SQLite
	// database, so they queue here instead of spinning on SQLITE_BUSY. Nil
	// on PostgreSQL and on a Store bound to a transaction.
	writeMu *sync.Mutex
	// inTx is set on a Store bound to a transaction.
	inTx bool
}

// Option configures Open.
type Option func(*options)

type options struct {
	logger       logger.Interface
	maxOpenConns int
	now          func() time.Time
}

// WithLogger sends gorm's log (statements, slow queries) to l. The default
// logs nothing; statements never carry the DSN.
func WithLogger(l logger.Interface) Option { return func(o *options) { o.logger = l } }

// WithMaxOpenConns bounds the connection pool (default 8 on SQLite files,
// 16 on PostgreSQL; an in-memory SQLite database always uses one).
func WithMaxOpenConns(n int) Option { return func(o *options) { o.maxOpenConns = n } }

// WithClock sets the clock that fills creation times left empty (default
// time.Now).
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// sqliteLocks holds one write lock per SQLite database file, shared by
// every Store of this process that opens it.
var sqliteLocks sync.Map // lockKey -> *sync.Mutex

// Open connects to the database dsn names and checks that it answers. It
// never migrates: run Migrate (forge-api migrate) for that, and CheckSchema
// to refuse an out-of-date schema. dsn is sqlite:///absolute/path.db,
// sqlite://relative/path.db, sqlite::memory: (a private in-memory
// database), or a postgres:// or postgresql:// URL. An unknown form is a
// Validation error; a database that cannot be reached is Unavailable. No
// error repeats the DSN's password.
func Open(ctx context.Context, dsn string, opts ...Option) (*Store, error) {
	o := options{logger: logger.Discard, now: time.Now}
	for _, opt := range opts {
		opt(&o)
	}
	t, err := parseDSN(dsn)
	if err != nil {
		return nil, err
	}
	var dialector gorm.Dialector
	conns := o.maxOpenConns
	switch t.dialect {
	case dialectSQLite:
		dialector = sqlite.Open(t.driverDSN)
		if conns <= 0 {
			conns = defaultSQLiteConns
		}
		if t.memory {
			// Shared-cache memory databases lock whole tables and report
			// SQLITE_LOCKED, which no busy timeout waits for: one
			// connection keeps it simple and the database alive.
			conns = 1
		}
	case dialectPostgres:
		dialector = postgres.New(postgres.Config{DSN: t.driverDSN})
		if conns <= 0 {
			conns = defaultPostgresConns
		}
	}
	s := &Store{dialect: t.dialect, target: t, now: o.now}
	db, err := gorm.Open(dialector, &gorm.Config{
		Logger:                 o.logger,
		SkipDefaultTransaction: true,
		DisableAutomaticPing:   true,
		NowFunc:                s.clock,
	})
	if err != nil {
		return nil, s.openErr(err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, s.openErr(err)
	}
	sqlDB.SetMaxOpenConns(conns)
	sqlDB.SetMaxIdleConns(conns)
	if t.memory {
		sqlDB.SetConnMaxLifetime(0)
		sqlDB.SetConnMaxIdleTime(0)
	}
	if err := sqlDB.PingContext(ctx); err != nil {
		_ = sqlDB.Close()
		return nil, s.openErr(err)
	}
	if t.dialect == dialectSQLite {
		mu, _ := sqliteLocks.LoadOrStore(t.lockKey, &sync.Mutex{})
		s.writeMu = mu.(*sync.Mutex)
	}
	s.db = db
	return s, nil
}

// openErr reports a failure to connect without the DSN's password.
func (s *Store) openErr(err error) error {
	kind := fault.Unavailable
	var fe *fault.Error
	if errors.As(err, &fe) {
		kind = fe.Kind
	}
	if msg := s.target.scrub(err.Error()); msg != err.Error() {
		err = errors.New(msg) // the cause repeated a password
	}
	return &fault.Error{Kind: kind,
		Message: "cannot connect to the " + s.dialect.String() + " database " + s.target.redacted, Err: err}
}

// Close releases the store's connections. On a Store bound to a
// transaction it does nothing.
func (s *Store) Close() error {
	if s.inTx || s.db == nil {
		return nil
	}
	sqlDB, err := s.db.DB()
	if err != nil {
		return dbErr(err, "closing the database")
	}
	return sqlDB.Close()
}

// SQL returns the store's connection pool, for its statistics
// (sql.DB.Stats: connections open, in use, waits); nil on a Store bound
// to a transaction.
func (s *Store) SQL() *sql.DB {
	if s.inTx || s.db == nil {
		return nil
	}
	sqlDB, err := s.db.DB()
	if err != nil {
		return nil
	}
	return sqlDB
}

// clock returns the time now in UTC, at the microsecond precision both
// databases keep.
func (s *Store) clock() time.Time { return dbTime(s.now()) }

// dbTime normalises a time for storage: UTC, whole microseconds.
func dbTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// dbTimePtr is dbTime for an optional time.
func dbTimePtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := dbTime(*t)
	return &v
}

// orNow returns t normalised, or now when t is zero.
func (s *Store) orNow(t time.Time) time.Time {
	if t.IsZero() {
		return s.clock()
	}
	return dbTime(t)
}

// read returns the handle for queries outside a write.
func (s *Store) read(ctx context.Context) *gorm.DB { return s.db.WithContext(ctx) }

// InTx runs fn in one transaction; see ports.Store. The Tx fn receives is a
// Store bound to the transaction; an InTx called on it reuses the same
// transaction. On SQLite the transaction takes the write lock when it
// begins, so fn must use tx, not the Store it came from.
func (s *Store) InTx(ctx context.Context, fn func(tx ports.Tx) error) error {
	if s.inTx {
		return fn(s)
	}
	return s.transact(ctx, "running a transaction", true, func(db *gorm.DB) error {
		return fn(s.bound(db))
	})
}

// bound returns a Store that works inside the transaction db.
func (s *Store) bound(db *gorm.DB) *Store {
	return &Store{db: db, dialect: s.dialect, target: s.target, now: s.now, inTx: true}
}

// write runs f atomically: in a transaction of its own, or in a savepoint
// when s is bound to a transaction (so a failed statement does not abort
// the caller's transaction on PostgreSQL). Errors f returns come back
// unchanged; the transaction's own errors are classified.
func (s *Store) write(ctx context.Context, what string, f func(tx *gorm.DB) error) error {
	if s.inTx {
		var fErr error
		err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			fErr = f(tx)
			return fErr
		})
		if err != nil && err != fErr {
			return dbErr(err, what)
		}
		return err
	}
	return s.transact(ctx, what, false, f)
}

// transact runs f in a new transaction, retrying it when the database
// reports a transient conflict (SQLITE_BUSY, a serialization failure, a
// deadlock). A caller's function (userFn) is retried only if it never
// started. On SQLite, the process-wide write lock is held throughout, and
// the driver begins with BEGIN IMMEDIATE, so writers queue instead of
// failing when they upgrade their lock.
func (s *Store) transact(ctx context.Context, what string, userFn bool, f func(tx *gorm.DB) error) error {
	if s.writeMu != nil {
		s.writeMu.Lock()
		defer s.writeMu.Unlock()
	}
	backoff := 5 * time.Millisecond
	for attempt := 1; ; attempt++ {
		started := false
		var fErr error
		err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			started = true
			fErr = f(tx)
			return fErr
		})
		if err == nil {
			return nil
		}
		if attempt < maxAttempts && transient(err) && (!started || !userFn) && ctx.Err() == nil {
			select {
			case <-time.After(backoff):
			case <-ctx.Done():
			}
			backoff *= 2
			continue
		}
		if started && err == fErr {
			return err
		}
		return dbErr(err, what)
	}
}

// forUpdate locks the rows a query reads until the transaction ends, on
// PostgreSQL. SQLite needs no row locks: its write transactions begin
// IMMEDIATE and run one at a time.
func (s *Store) forUpdate(db *gorm.DB) *gorm.DB {
	if s.dialect == dialectPostgres {
		return db.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	return db
}

// newID returns id in canonical form, or a new UUID when id is empty; an
// ID that is not a UUID is a Validation error naming field.
func newID(id, field string) (string, error) {
	if id == "" {
		return uuid.NewString(), nil
	}
	u, err := uuid.Parse(id)
	if err != nil {
		return "", &fault.Error{Kind: fault.Validation, Message: field + " must be a UUID, got " + strconv.Quote(id),
			Details: map[string]any{"field": field}}
	}
	return u.String(), nil
}

// lookupID returns id in canonical form; ok is false when id cannot name
// any entity (it is not a UUID), which callers report as NotFound.
func lookupID(id string) (string, bool) {
	u, err := uuid.Parse(id)
	if err != nil {
		return "", false
	}
	return u.String(), true
}
