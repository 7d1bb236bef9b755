package stepexec

import (
	"bytes"
	"io"
	"sort"
)

// MinMaskedLength is the shortest secret value the output is masked for.
// Shorter values are passed through: replacing every "1" or "ab" in a log
// would garble it while hiding nothing that could not be guessed, so
// secrets that short are not worth protecting this way.
const MinMaskedLength = 4

// mask is what replaces a secret value, or several overlapping ones.
const mask = "***"

// maskingWriter replaces every occurrence of a secret value in the stream
// written to it with "***" before passing it on. It sees the stream, not
// the writes: a value split across writes is masked too, because the last
// len(longest value)-1 bytes are held back until the next write (or
// Flush) shows whether they start a value. Overlapping or adjacent
// occurrences, of one value or of several, become a single "***", so no
// byte of any of them gets through. Not safe for concurrent use.
type maskingWriter struct {
	w       io.Writer
	secrets [][]byte // at least MinMaskedLength bytes, longest first
	keep    int      // bytes held back: len(longest secret) - 1

	// pending holds the bytes not passed on yet; masked[i] says whether
	// pending[i] is part of an occurrence found so far.
	pending []byte
	masked  []bool
	// inMask says the last byte passed on was masked, so that a masked
	// run that continues into the next write yields one "***".
	inMask bool
	out    []byte
}

// newMaskingWriter returns a writer that masks values in what it passes
// to w. Values shorter than MinMaskedLength, and duplicates, are ignored.
func newMaskingWriter(w io.Writer, values []string) *maskingWriter {
	m := &maskingWriter{w: w}
	seen := map[string]bool{}
	for _, v := range values {
		if len(v) < MinMaskedLength || seen[v] {
			continue
		}
		seen[v] = true
		m.secrets = append(m.secrets, []byte(v))
	}
	sort.Slice(m.secrets, func(i, j int) bool { return len(m.secrets[i]) > len(m.secrets[j]) })
	if len(m.secrets) > 0 {
		m.keep = len(m.secrets[0]) - 1
	}
	return m
}

// Write masks p and passes on all but the last few bytes seen, which may
// be the start of a secret value. It returns len(p) unless the
// underlying writer fails.
func (m *maskingWriter) Write(p []byte) (int, error) {
	if len(m.secrets) == 0 {
		return m.w.Write(p)
	}
	old := len(m.pending)
	m.pending = append(m.pending, p...)
	m.masked = append(m.masked, make([]bool, len(p))...)
	m.mark(old)
	if n := len(m.pending) - m.keep; n > 0 {
		if err := m.emit(n); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// Flush passes on the bytes held back; call it when the stream ends.
func (m *maskingWriter) Flush() error {
	if len(m.pending) == 0 {
		return nil
	}
	return m.emit(len(m.pending))
}

// mark finds the occurrences that end in the bytes appended after old and
// marks their bytes. An occurrence that covers a byte already passed on
// was complete when that byte was passed on (a byte is passed on only
// once keep more bytes follow it), so it is already marked.
func (m *maskingWriter) mark(old int) {
	for _, s := range m.secrets {
		from := max(old-len(s)+1, 0)
		for {
			i := bytes.Index(m.pending[from:], s)
			if i < 0 {
				break
			}
			start := from + i
			for j := start; j < start+len(s); j++ {
				m.masked[j] = true
			}
			from = start + 1
		}
	}
}

// emit passes on the first n pending bytes, a masked run as "***".
func (m *maskingWriter) emit(n int) error {
	m.out = m.out[:0]
	for i := range n {
		switch {
		case !m.masked[i]:
			m.out = append(m.out, m.pending[i])
			m.inMask = false
		case !m.inMask:
			m.out = append(m.out, mask...)
			m.inMask = true
		}
	}
	m.pending = m.pending[:copy(m.pending, m.pending[n:])]
	m.masked = m.masked[:copy(m.masked, m.masked[n:])]
	if len(m.out) == 0 {
		return nil
	}
	_, err := m.w.Write(m.out)
	return err
}
