package gormstore

import (
	"context"
	"path/filepath"
	"testing"
)

// TestSQLiteSyncsAtCheckpointsUnlessTheDSNSaysOtherwise: a SQLite file
// store runs with synchronous=NORMAL (1), the write-ahead log's usual
// setting, and a _pragma in the DSN wins over it (FULL, 2).
func TestSQLiteSyncsAtCheckpointsUnlessTheDSNSaysOtherwise(t *testing.T) {
	for dsn, want := range map[string]int{
		"sqlite://" + filepath.Join(t.TempDir(), "a.db"):                                1,
		"sqlite://" + filepath.Join(t.TempDir(), "b.db") + "?_pragma=synchronous(FULL)": 2,
	} {
		s, err := Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		var got int
		if err := s.db.Raw("PRAGMA synchronous").Scan(&got).Error; err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("%s: synchronous = %d, want %d", dsn, got, want)
		}
		_ = s.Close()
	}
}
