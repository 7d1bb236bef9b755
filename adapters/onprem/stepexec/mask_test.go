package stepexec

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// maskAll writes each piece to a masking writer for secrets, flushes it,
// and returns what came out.
func maskAll(t *testing.T, secrets []string, pieces ...string) string {
	t.Helper()
	var out bytes.Buffer
	m := newMaskingWriter(&out, secrets)
	for _, p := range pieces {
		n, err := m.Write([]byte(p))
		if err != nil || n != len(p) {
			t.Fatalf("Write(%q) = %d, %v", p, n, err)
		}
	}
	if err := m.Flush(); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	return out.String()
}

func TestMaskingWriter(t *testing.T) {
	tests := []struct {
		name    string
		secrets []string
		input   string
		want    string
	}{
		{"no secrets", nil, "nothing to hide", "nothing to hide"},
		{"empty input", []string{"hunter2"}, "", ""},
		{"one value", []string{"hunter2"}, "password: hunter2\n", "password: ***\n"},
		{"every occurrence", []string{"hunter2"}, "hunter2 and hunter2", "*** and ***"},
		{"value at the very end", []string{"hunter2"}, "ends with hunter2", "ends with ***"},
		{"value is the whole output", []string{"hunter2"}, "hunter2", "***"},
		{"prefix of a value at the end", []string{"hunter2"}, "ends with hunt", "ends with hunt"},
		{"adjacent occurrences become one", []string{"hunter2"}, "hunter2hunter2", "***"},
		{"a value that overlaps itself", []string{"abab"}, "xababab-", "x***-"},
		{"several values", []string{"alpha-1", "bravo-2"}, "a=alpha-1 b=bravo-2", "a=*** b=***"},
		{"overlapping values are masked as one", []string{"abcdef", "defghi"}, "[abcdefghi]", "[***]"},
		{"a value inside a longer one", []string{"password123", "word"}, "password123 word", "*** ***"},
		{"a longer value ending in a shorter one", []string{"xx-token", "token"}, "xx-token token", "*** ***"},
		{"duplicates", []string{"hunter2", "hunter2"}, "hunter2", "***"},
		{"values shorter than 4 bytes are not masked", []string{"abc", "", "1"}, "abc 1 abcd", "abc 1 abcd"},
		{"a 4-byte value is masked", []string{"abcd"}, "abc abcd", "abc ***"},
		{"short values beside long ones", []string{"ab", "long-secret"}, "ab long-secret ab", "ab *** ab"},
		{"newlines in a value", []string{"line1\nline2"}, "x line1\nline2 y", "x *** y"},
		{"binary bytes", []string{"\x00\xff\x00\xff"}, "a\x00\xff\x00\xffb", "a***b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := maskAll(t, tt.secrets, tt.input); got != tt.want {
				t.Errorf("in one write: got %q, want %q", got, tt.want)
			}
			// Split in two at every position: the stream, not the
			// writes, decides what is masked.
			for i := 0; i <= len(tt.input); i++ {
				if got := maskAll(t, tt.secrets, tt.input[:i], tt.input[i:]); got != tt.want {
					t.Errorf("split at %d (%q | %q): got %q, want %q", i, tt.input[:i], tt.input[i:], got, tt.want)
				}
			}
			// One byte per write.
			if got := maskAll(t, tt.secrets, strings.Split(tt.input, "")...); got != tt.want {
				t.Errorf("byte by byte: got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestMaskingWriterAcrossManyWrites(t *testing.T) {
	secret := "0123456789abcdef"
	got := maskAll(t, []string{secret}, "token=01", "2345", "6789ab", "", "cdef;next=0123", "456789abcdef!")
	if want := "token=***;next=***!"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestMaskingWriterHoldsBackOnlyAPossibleValue(t *testing.T) {
	var out bytes.Buffer
	m := newMaskingWriter(&out, []string{"12345678"})
	if _, err := m.Write([]byte("progress: 10%...")); err != nil {
		t.Fatal(err)
	}
	// len("12345678")-1 = 7 bytes wait for the next write.
	if got, want := out.String(), "progress:"; got != want {
		t.Errorf("passed on %q before Flush, want %q", got, want)
	}
	if err := m.Flush(); err != nil {
		t.Fatal(err)
	}
	if got, want := out.String(), "progress: 10%..."; got != want {
		t.Errorf("after Flush %q, want %q", got, want)
	}
	// Flush twice is harmless.
	if err := m.Flush(); err != nil || out.String() != "progress: 10%..." {
		t.Errorf("second Flush: %v, %q", err, out.String())
	}
}

func TestMaskingWriterWithoutSecretsPassesWritesThrough(t *testing.T) {
	var out bytes.Buffer
	m := newMaskingWriter(&out, []string{"ab"})
	if _, err := m.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	if out.String() != "x" {
		t.Errorf("a writer with only short values held back %q", "x")
	}
}

// errWriter fails every write.
type errWriter struct{ err error }

func (w errWriter) Write([]byte) (int, error) { return 0, w.err }

func TestMaskingWriterReportsWriteErrors(t *testing.T) {
	cause := errors.New("disk full")
	m := newMaskingWriter(errWriter{cause}, []string{"hunter2"})
	if _, err := m.Write([]byte("a line long enough to pass on\n")); !errors.Is(err, cause) {
		t.Errorf("Write: %v, want %v", err, cause)
	}
	if err := m.Flush(); !errors.Is(err, cause) {
		t.Errorf("Flush: %v, want %v", err, cause)
	}
}
