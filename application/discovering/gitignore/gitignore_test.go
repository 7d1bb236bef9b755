package gitignore

import (
	"fmt"
	"strings"
	"testing"
)

// ignoreFile is one .gitignore of a test scenario.
type ignoreFile struct {
	dir     string
	content string
}

// check is one question asked of a scenario.
type check struct {
	path  string
	isDir bool
	want  bool
}

// scenario is a set of .gitignore files and the answers git gives for them.
type scenario struct {
	name   string
	files  []ignoreFile
	checks []check
}

func file(p string, want bool) check { return check{path: p, want: want} }
func dir(p string, want bool) check  { return check{path: p, isDir: true, want: want} }

// scenarios is shared by the table tests. Every expectation but the one
// marked in "other ** act like *" was also confirmed with
// `git check-ignore --no-index` (git 2.39) while writing this package. No
// check asks about a path below an ignored directory: git would report it
// ignored through its parent, which is the walker's job (see
// TestParentsAreNotChecked).
var scenarios = []scenario{
	{
		name:  "blank lines and comments are skipped",
		files: []ignoreFile{{"", "# a comment\n\n   \n #spaced\nfoo\n#bar\n"}},
		checks: []check{
			file("foo", true),
			file("a/foo", true),
			file("foobar", false),
			file("# a comment", false),
			file("bar", false),
			file("#bar", false),
			file(" #spaced", true), // only a '#' in first column starts a comment
		},
	},
	{
		name:  "escaped leading hash and bang",
		files: []ignoreFile{{"", "\\#hash\n\\!bang\n"}},
		checks: []check{
			file("#hash", true),
			file("!bang", true),
			file("hash", false),
			file("bang", false),
		},
	},
	{
		name:  "trailing spaces trimmed unless escaped",
		files: []ignoreFile{{"", "foo   \nbar\\ \nbaz\\  \nqux\t\nsp\\\\ \n"}},
		checks: []check{
			file("foo", true),
			file("foo   ", false),
			file("bar ", true),
			file("bar", false),
			file("baz ", true),
			file("baz  ", false),
			file("baz", false),
			file("qux\t", true), // only spaces are trimmed, like git
			file("qux", false),
			file("sp\\", true), // "\\\\" is an escaped backslash, the space is trimmed
			file("sp\\ ", false),
		},
	},
	{
		name:  "CRLF line endings",
		files: []ignoreFile{{"", "foo\r\nbar/\r\n*.log \r\n!keep.log\r\nlast\r"}},
		checks: []check{
			file("foo", true),
			file("foo\r", false),
			dir("bar", true),
			file("bar", false),
			file("x.log", true),
			file("keep.log", false),
			file("last", true),
		},
	},
	{
		name:  "negation: the last matching pattern wins",
		files: []ignoreFile{{"", "*.log\n!important.log\n!*.txt\n*.txt\n!keep.txt\n*.md\n!*.md\nREADME.md\n"}},
		checks: []check{
			file("a.log", true),
			file("important.log", false),
			file("sub/important.log", false),
			file("a.txt", true),
			file("keep.txt", false),
			file("x.md", false),
			file("README.md", true),
			file("other", false),
		},
	},
	{
		name:  "negation before the exclusion has no effect",
		files: []ignoreFile{{"", "!important.log\n*.log\n"}},
		checks: []check{
			file("important.log", true),
			file("a.log", true),
		},
	},
	{
		name:  "negated directory-only pattern",
		files: []ignoreFile{{"", "build*\n!build/\n"}},
		checks: []check{
			dir("build", false),
			file("build", true),
			dir("build2", true),
		},
	},
	{
		name: "deeper .gitignore overrides shallower",
		files: []ignoreFile{
			{"", "*.log\n!important.log\nsecret\n"},
			{"sub", "!debug.log\n*.tmp\nimportant.log\n"},
		},
		checks: []check{
			file("debug.log", true),
			file("other/debug.log", true),
			file("sub/debug.log", false),
			file("sub/deep/debug.log", false),
			file("sub/other.log", true),
			file("sub/x.tmp", true),
			file("x.tmp", false),
			file("important.log", false),
			file("sub/important.log", true), // deeper file wins even though root re-includes later
			file("sub/secret", true),        // falls through to the root file
		},
	},
	{
		name: "three levels, each overriding",
		files: []ignoreFile{
			{"", "*.gen\n"},
			{"a", "!*.gen\n"},
			{"a/b", "*.gen\n!keep.gen\n"},
		},
		checks: []check{
			file("x.gen", true),
			file("a/x.gen", false),
			file("a/c/x.gen", false),
			file("a/b/x.gen", true),
			file("a/b/keep.gen", false),
			file("a/b/c/x.gen", true),
		},
	},
	{
		name:  "anchored vs unanchored at the root",
		files: []ignoreFile{{"", "/foo\nbar\ndoc/frotz\n/dir/\n"}},
		checks: []check{
			file("foo", true),
			file("a/foo", false),
			file("bar", true),
			file("a/bar", true),
			file("a/b/bar", true),
			dir("a/bar", true),
			file("doc/frotz", true),
			dir("doc/frotz", true),
			file("a/doc/frotz", false),
			file("doc/frotzx", false),
			dir("dir", true),
			dir("a/dir", false),
		},
	},
	{
		name:  "anchored vs unanchored in a subdirectory",
		files: []ignoreFile{{"sub", "/x\ny/z\nw\n"}},
		checks: []check{
			file("sub/x", true),
			file("sub/a/x", false),
			file("x", false),
			file("sub/y/z", true),
			file("sub/a/y/z", false),
			file("y/z", false),
			file("sub/w", true),
			file("sub/a/b/w", true),
			file("w", false),
		},
	},
	{
		name:  "trailing slash matches directories only",
		files: []ignoreFile{{"", "build/\nlogs/debug/\n*.d/\n"}},
		checks: []check{
			dir("build", true),
			file("build", false),
			dir("a/build", true),
			file("a/build", false),
			dir("logs/debug", true),
			file("logs/debug", false),
			dir("a/logs/debug", false),
			dir("x.d", true),
			file("x.d", false),
		},
	},
	{
		name:  "leading **/",
		files: []ignoreFile{{"", "**/foo\n**/a/b\n**/*.o\n"}},
		checks: []check{
			file("foo", true),
			file("x/foo", true),
			file("x/y/foo", true),
			dir("x/y/foo", true),
			file("xfoo", false),
			file("a/b", true),
			file("x/a/b", true),
			file("x/y/a/b", true),
			file("a/x/b", false),
			file("ab", false),
			file("m.o", true),
			file("x/m.o", true),
		},
	},
	{
		name:  "trailing /**",
		files: []ignoreFile{{"", "abc/**\n"}},
		checks: []check{
			file("abc/x", true),
			dir("abc/x", true),
			file("abc/x/y", true),
			file("abc", false),
			dir("abc", false),
			file("x/abc/y", false),
		},
	},
	{
		name:  "middle /**/",
		files: []ignoreFile{{"", "a/**/b\nx/**/y/**/z\n"}},
		checks: []check{
			file("a/b", true),
			file("a/x/b", true),
			file("a/x/y/b", true),
			file("a/xb", false),
			file("ab", false),
			file("q/a/b", false),
			file("a/bc", false),
			file("x/y/z", true),
			file("x/1/2/y/3/z", true),
			file("x/y/y/z", true),
			file("x/z", false),
			file("x/y", false),
		},
	},
	{
		name:  "other ** act like *",
		files: []ignoreFile{{"", "foo**bar\nq/**x\ny**/z\n"}},
		checks: []check{
			file("foobar", true),
			file("fooXbar", true),
			file("d/fooXbar", true),
			file("foo/bar", false),
			file("q/x", true),
			file("q/abx", true),
			file("q/a/x", false),
			file("yy/z", true),
			// gitignore(5) says such a "**" is a regular "*". git 2.39
			// nevertheless reports y/a/z ignored: it strips the literal
			// prefix "y" before wildmatch, which then sees a leading
			// "**/". This package follows the documented rule.
			file("y/a/z", false),
		},
	},
	{
		name:  "lone ** forms",
		files: []ignoreFile{{"d", "**\n"}, {"e", "/**\n"}, {"f", "**/\n"}, {"g", "**/**\n"}},
		checks: []check{
			file("d/x", true),
			file("d/x/y", true),
			dir("d/x", true),
			file("e/x", true),
			file("e/x/y", true),
			file("f/x", false),
			dir("f/x", true),
			dir("f/x/y", true),
			file("g/x", true),
			file("g/x/y", true),
			file("x", false),
		},
	},
	{
		name:  "star and question mark do not cross slashes",
		files: []ignoreFile{{"", "*.o\n?.c\na/*.h\nz*/q\n"}},
		checks: []check{
			file("m.o", true),
			file("x/y/m.o", true),
			file(".o", true),
			file("m.oo", false),
			file("a.c", true),
			file("x/a.c", true),
			file("ab.c", false),
			file(".c", false),
			file("a/x.h", true),
			file("a/b/x.h", false),
			file("b/a/x.h", false),
			file("z/q", true),
			file("zzz/q", true),
			file("z/y/q", false),
		},
	},
	{
		name:  "general globs with several wildcards",
		files: []ignoreFile{{"", "*a*b*c\nx?y*z\n*.tar.*\n"}},
		checks: []check{
			file("abc", true),
			file("aabbcc", true),
			file("1a2b3c", true),
			file("acb", false),
			file("abcd", false),
			file("x1yz", true),
			file("x1y123z", true),
			file("xyz", false),
			file("a.tar.gz", true),
			file("a.tar", false),
		},
	},
	{
		name:  "character classes",
		files: []ignoreFile{{"", "[abc].txt\n[a-c]x\n[!a-c]y\n[^a]z\n[]]q\n[\\]]r\nx[-]y\n[a-]w\n[[:digit:]]d\n[[:upper:][:lower:]]v\n[![:alpha:]]u\n"}},
		checks: []check{
			file("a.txt", true),
			file("c.txt", true),
			file("d.txt", false),
			file("ab.txt", false),
			file("bx", true),
			file("dx", false),
			file("dy", true),
			file("ay", false),
			file("cy", false),
			file("bz", true),
			file("az", false),
			file("]q", true),
			file("aq", false),
			file("]r", true),
			file("x-y", true),
			file("xay", false),
			file("-w", true),
			file("aw", true),
			file("bw", false),
			file("1d", true),
			file("ad", false),
			file("Av", true),
			file("av", true),
			file("1v", false),
			file("1u", true),
			file("au", false),
		},
	},
	{
		name:  "more POSIX classes and odd brackets",
		files: []ignoreFile{{"", "[[:space:]]s\n[[:xdigit:]][[:punct:]]\n[[:x]p\n[[:bogus:]]b\nopen[abc\n"}},
		checks: []check{
			file(" s", true),
			file("\ts", true),
			file("xs", false),
			file("f.", true),
			file("F_", true),
			file("g.", false),
			file("[p", true),
			file(":p", true),
			file("xp", true),
			file("]p", false),
			file("xb", false), // unknown class: line dropped
			file("[[:bogus:]]b", false),
			file("open[abc", false), // unterminated: line dropped
			file("opena", false),
		},
	},
	{
		name:  "backslash escapes",
		files: []ignoreFile{{"", "\\*star\nq\\?\n\\[br]\nback\\\\slash\ntrail\\\nlit\\eral\n"}},
		checks: []check{
			file("*star", true),
			file("xstar", false),
			file("q?", true),
			file("qa", false),
			file("[br]", true),
			file("b", false),
			file("back\\slash", true),
			file("trail", false), // dangling backslash: line dropped
			file("trail\\", false),
			file("literal", true), // "\e" is just "e"
		},
	},
	{
		name:  "patterns of a subdirectory do not apply outside it",
		files: []ignoreFile{{"", "root-only\n"}, {"sub", "*.log\n*\n!keep\n/anch\n"}},
		checks: []check{
			file("a.log", false),
			file("other/a.log", false),
			file("subx/a.log", false), // shares a prefix, but is not under sub/
			file("sub/a.log", true),
			file("sub/x/a.log", true),
			dir("sub", false), // a .gitignore never matches its own directory
			file("sub/keep", false),
			file("keep", false),
			file("anch", false),
			file("sub/anch", true),
			file("sub/root-only", true),
			file("root-only", true),
		},
	},
	{
		name:  "nested subdirectory .gitignore with anchored and ** patterns",
		files: []ignoreFile{{"a/b", "/c/**/d\n**/e\nf/\n"}},
		checks: []check{
			file("a/b/c/d", true),
			file("a/b/c/x/y/d", true),
			file("c/d", false),
			file("a/c/d", false),
			file("a/b/x/c/d", false),
			file("a/b/e", true),
			file("a/b/x/y/e", true),
			file("a/e", false),
			file("e", false),
			dir("a/b/x/f", true),
			file("a/b/x/f", false),
			dir("f", false),
		},
	},
	{
		name:  "leading byte order mark",
		files: []ignoreFile{{"", "\ufefffirst\nsecond\n"}},
		checks: []check{
			file("first", true),
			file("second", true),
		},
	},
	{
		name:  "dotfiles are not special",
		files: []ignoreFile{{"", ".*\n!.gitignore\n*\n!*/\n!*.go\n"}},
		checks: []check{
			file(".env", true),
			file("x.go", false),
			file(".x.go", false),
			file("x.c", true),
			dir("d", false),
			file(".gitignore", true), // "*" comes after "!.gitignore"
		},
	},
}

// stackFor builds the stack a top-down walker would have when it reaches
// rel: only the .gitignore files of rel's ancestor directories, shallowest
// first.
func stackFor(t testing.TB, files []ignoreFile, rel string) *Stack {
	t.Helper()
	var s *Stack
	for _, f := range files {
		if f.dir == "" || strings.HasPrefix(rel, f.dir+"/") {
			s = s.Push(Parse(f.dir, []byte(f.content)))
		}
	}
	return s
}

func TestIgnored(t *testing.T) {
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			for _, c := range sc.checks {
				s := stackFor(t, sc.files, c.path)
				if got := s.Ignored(c.path, c.isDir); got != c.want {
					t.Errorf("Ignored(%q, isDir=%v) = %v, want %v", c.path, c.isDir, got, c.want)
				}
			}
		})
	}
}

// TestIgnoredFullStack pushes every .gitignore of a scenario, not only the
// ancestors of the path: answers must not change, because a matcher only
// applies below its own directory.
func TestIgnoredFullStack(t *testing.T) {
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			var s *Stack
			for _, f := range sc.files {
				s = s.Push(Parse(f.dir, []byte(f.content)))
			}
			for _, c := range sc.checks {
				if got := s.Ignored(c.path, c.isDir); got != c.want {
					t.Errorf("Ignored(%q, isDir=%v) = %v, want %v", c.path, c.isDir, got, c.want)
				}
			}
		})
	}
}

// TestParentsAreNotChecked pins down the documented contract: Ignored
// answers for the path itself only. The walker never descends into an
// ignored directory, so the children below are never asked about.
func TestParentsAreNotChecked(t *testing.T) {
	s := (*Stack)(nil).Push(Parse("", []byte("build/\n!*.keep\n")))
	if !s.Ignored("build", true) {
		t.Fatal("build/ not ignored")
	}
	if s.Ignored("build/main.go", false) {
		t.Error("Ignored looked at the parent of build/main.go")
	}
	if s.Ignored("build/x.keep", false) {
		t.Error("x.keep is re-included by its own pattern")
	}
}

func TestTrimTrailingSpaces(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"a", "a"},
		{"a ", "a"},
		{"a   ", "a"},
		{"a b ", "a b"},
		{"a\\ ", "a\\ "},
		{"a\\  ", "a\\ "},
		{"a\\ \\ ", "a\\ \\ "},
		{"a\\\\ ", "a\\\\"},
		{"a\\", "a\\"},
		{"a \\", "a \\"},
		{"a\t", "a\t"},
		{"   ", ""},
	}
	for _, tt := range tests {
		if got := trimTrailingSpaces(tt.in); got != tt.want {
			t.Errorf("trimTrailingSpaces(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseSkipsLines(t *testing.T) {
	tests := []struct {
		content string
		want    int // number of compiled patterns
	}{
		{"", 0},
		{"\n\n\n", 0},
		{"# only\n#comments\n", 0},
		{"   \n \r\n\r\n", 0},
		{"!\n", 0},          // negation of nothing
		{"/\n", 0},          // anchors nothing
		{"!/\n", 0},         // both
		{"//\n", 0},         // nothing left after the slashes
		{"x\\\n", 0},        // dangling backslash
		{"[ab\n", 0},        // unterminated bracket
		{"[[:nope:]]\n", 0}, // unknown class
		{"a\nb\n# c\n\n!d\n", 3},
		{"a", 1}, // no final newline
		{"\\#a\n\\!b\n", 2},
	}
	for _, tt := range tests {
		if got := len(Parse("", []byte(tt.content)).patterns); got != tt.want {
			t.Errorf("Parse(%q) compiled %d patterns, want %d", tt.content, got, tt.want)
		}
	}
}

func TestParseDirIsCleaned(t *testing.T) {
	for _, d := range []string{"sub", "sub/", "/sub", "./sub", "sub/.", "x/../sub"} {
		s := (*Stack)(nil).Push(Parse(d, []byte("*.log\n")))
		if !s.Ignored("sub/a.log", false) {
			t.Errorf("dir %q: sub/a.log not ignored", d)
		}
		if s.Ignored("a.log", false) {
			t.Errorf("dir %q: a.log ignored outside the directory", d)
		}
	}
	for _, d := range []string{"", ".", "/", "./"} {
		s := (*Stack)(nil).Push(Parse(d, []byte("*.log\n")))
		if !s.Ignored("a.log", false) || !s.Ignored("x/a.log", false) {
			t.Errorf("root dir %q does not apply at the root", d)
		}
	}
}

func TestStack(t *testing.T) {
	t.Run("nil stack ignores nothing", func(t *testing.T) {
		var s *Stack
		if s.Ignored("anything", false) || s.Ignored("dir", true) {
			t.Fatal("nil stack ignored a path")
		}
	})
	t.Run("push nil matcher returns the same stack", func(t *testing.T) {
		var s *Stack
		if got := s.Push(nil); got != nil {
			t.Fatalf("nil.Push(nil) = %p, want nil", got)
		}
		s = s.Push(Parse("", []byte("x\n")))
		if got := s.Push(nil); got != s {
			t.Fatal("Push(nil) did not return the receiver")
		}
		if got := s.Push(Parse("a", []byte("# nothing\n"))); got != s {
			t.Fatal("Push of an empty matcher did not return the receiver")
		}
	})
	t.Run("push does not modify the parent", func(t *testing.T) {
		root := (*Stack)(nil).Push(Parse("", []byte("*.log\n")))
		a := root.Push(Parse("a", []byte("!*.log\n")))
		b := root.Push(Parse("b", []byte("*.tmp\n")))
		if !root.Ignored("a/x.log", false) {
			t.Error("root stack changed by a child's push")
		}
		if a.Ignored("a/x.log", false) {
			t.Error("a: re-include lost")
		}
		if !b.Ignored("b/x.log", false) || !b.Ignored("b/x.tmp", false) {
			t.Error("b: sibling affected by a's push")
		}
		if root.Ignored("b/x.tmp", false) || a.Ignored("a/x.tmp", false) {
			t.Error("b's matcher leaked into other stacks")
		}
	})
	t.Run("empty path and trailing slash", func(t *testing.T) {
		s := (*Stack)(nil).Push(Parse("", []byte("*\nbuild/\n")))
		if s.Ignored("", true) {
			t.Error("the repository root was ignored")
		}
		s = (*Stack)(nil).Push(Parse("", []byte("build/\n")))
		if !s.Ignored("build/", false) {
			t.Error("trailing slash did not imply a directory")
		}
		if s.Ignored("build", false) {
			t.Error("file matched a directory-only pattern")
		}
	})
	t.Run("ignored does not allocate", func(t *testing.T) {
		s := benchStack()
		paths := benchPaths()
		allocs := testing.AllocsPerRun(10, func() {
			for _, p := range paths {
				s.Ignored(p.path, p.isDir)
			}
		})
		if allocs != 0 {
			t.Fatalf("Ignored allocated %v times per run", allocs)
		}
	})
}

// TestMatchSegmentsAgainstReference cross-checks the iterative matcher of
// anchored patterns with a naive recursive one, over all combinations of a
// small alphabet of components.
func TestMatchSegmentsAgainstReference(t *testing.T) {
	comps := []string{"a", "b", "*", "**", "?"}
	pathComps := []string{"a", "b", "ab"}
	var patterns []string
	var gen func(prefix []string, depth int)
	gen = func(prefix []string, depth int) {
		if len(prefix) > 0 {
			patterns = append(patterns, strings.Join(prefix, "/"))
		}
		if depth == 0 {
			return
		}
		for _, c := range comps {
			gen(append(prefix, c), depth-1)
		}
	}
	gen(nil, 4)
	var paths []string
	var genPath func(prefix []string, depth int)
	genPath = func(prefix []string, depth int) {
		if len(prefix) > 0 {
			paths = append(paths, strings.Join(prefix, "/"))
		}
		if depth == 0 {
			return
		}
		for _, c := range pathComps {
			genPath(append(prefix, c), depth-1)
		}
	}
	genPath(nil, 4)

	for _, pat := range patterns {
		m := Parse("", []byte("/"+pat+"\n"))
		if len(m.patterns) != 1 {
			t.Fatalf("pattern %q did not compile", pat)
		}
		s := (*Stack)(nil).Push(m)
		for _, p := range paths {
			want := refMatch(strings.Split(pat, "/"), strings.Split(p, "/"))
			if got := s.Ignored(p, false); got != want {
				t.Errorf("pattern /%s, path %s: got %v, want %v", pat, p, got, want)
			}
		}
	}
}

// refMatch is a deliberately naive recursive reference of gitignore's
// component matching: "**" alone in a component matches zero or more
// components, except in last position where it needs at least one.
func refMatch(pat, path []string) bool {
	if len(pat) == 0 {
		return len(path) == 0
	}
	if pat[0] == "**" {
		if len(pat) == 1 {
			return len(path) >= 1
		}
		for i := 0; i <= len(path); i++ {
			if refMatch(pat[1:], path[i:]) {
				return true
			}
		}
		return false
	}
	if len(path) == 0 || !refComp(pat[0], path[0]) {
		return false
	}
	return refMatch(pat[1:], path[1:])
}

// refComp matches one component with '*' (and "**" inside a component is
// never reached here) and '?' only, recursively.
func refComp(p, s string) bool {
	if p == "" {
		return s == ""
	}
	switch p[0] {
	case '*':
		for i := 0; i <= len(s); i++ {
			if refComp(p[1:], s[i:]) {
				return true
			}
		}
		return false
	case '?':
		return s != "" && refComp(p[1:], s[1:])
	}
	return s != "" && s[0] == p[0] && refComp(p[1:], s[1:])
}

func TestMatchTokensAgainstReference(t *testing.T) {
	pats := []string{"", "*", "a*", "*a", "a*b", "*a*", "a?b", "*?*", "?*a", "**a", "a*b*a", "*ab*ba*", "???", "*a?"}
	strs := []string{"", "a", "b", "ab", "ba", "aa", "aab", "abab", "abba", "bab", "aaa", "abcba", "abxba"}
	for _, p := range pats {
		comps, ok := tokenize(p)
		if !ok || len(comps) != 1 {
			t.Fatalf("tokenize(%q) failed", p)
		}
		g := newGlob(comps[0])
		for _, s := range strs {
			want := refComp(strings.ReplaceAll(p, "**", "*"), s)
			if got := g.match(s); got != want {
				t.Errorf("glob %q on %q: got %v, want %v", p, s, got, want)
			}
			if got := matchTokens(comps[0], s); got != want {
				t.Errorf("matchTokens %q on %q: got %v, want %v", p, s, got, want)
			}
		}
	}
}

// benchStack is a realistic monorepo stack: a root .gitignore, a project
// one and a nested package one, about twenty patterns in all.
func benchStack() *Stack {
	root := Parse("", []byte(`# editor and OS noise
.DS_Store
*.swp
.idea/
.vscode/
# build outputs
/dist/
build/
*.o
*.log
!important.log
node_modules/
**/coverage/**
/tmp
`))
	svc := Parse("services", []byte(`*.pb.go
!api/*.pb.go
vendor/
/generated/
*.tmp
`))
	web := Parse("services/web", []byte(`.next/
out/
*.tsbuildinfo
!keep.log
`))
	return (*Stack)(nil).Push(root).Push(svc).Push(web)
}

type benchPath struct {
	path  string
	isDir bool
}

// benchPaths returns a few hundred paths shaped like a monorepo listing.
func benchPaths() []benchPath {
	var out []benchPath
	dirs := []string{"services/web/src/components", "services/web/pages", "services/api/handlers", "services/api", "services/web", "libs/core/internal/util", "tools/gen"}
	names := []string{"main.go", "handler.go", "handler_test.go", "service.pb.go", "index.tsx", "Button.tsx", "styles.css", "README.md", "debug.log", "important.log", "keep.log", "x.o", ".DS_Store", "notes.tmp", "tsconfig.tsbuildinfo", "package.json", "go.mod", "Makefile", "a.swp", "data.json"}
	subdirs := []string{"build", "node_modules", "coverage", "vendor", "out", ".next", "generated", "src", "internal", "testdata"}
	for _, d := range dirs {
		for _, n := range names {
			out = append(out, benchPath{d + "/" + n, false})
		}
		for _, sd := range subdirs {
			out = append(out, benchPath{d + "/" + sd, true})
		}
		out = append(out, benchPath{d + "/coverage/lcov/report.html", false})
	}
	for i := 0; i < 40; i++ {
		out = append(out, benchPath{fmt.Sprintf("libs/pkg%d/file%d.go", i, i), false})
	}
	return out
}

func BenchmarkIgnored(b *testing.B) {
	s := benchStack()
	paths := benchPaths()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		p := paths[i%len(paths)]
		s.Ignored(p.path, p.isDir)
	}
}

func BenchmarkParse(b *testing.B) {
	content := []byte("# c\n.DS_Store\n*.swp\n.idea/\n/dist/\nbuild/\n*.o\n*.log\n!important.log\nnode_modules/\n**/coverage/**\n[Bb]in/\na/**/b\n")
	b.ReportAllocs()
	for b.Loop() {
		Parse("services", content)
	}
}

func FuzzParse(f *testing.F) {
	seeds := []string{
		"", "*.log\n!keep.log\n", "/a/**/b/\n", "[a-\n", "[[:alpha:]\n", "\\", "a\\ \r\n",
		"**\n!**/\n", "[!]]x\n", "[\\\n", "\ufeff#x\n", "[[:]x\n", "a/\\/b\n", "***/x/***\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s), "", "a/b/c.log", false)
		f.Add([]byte(s), "a", "a/b", true)
	}
	f.Fuzz(func(t *testing.T, content []byte, dir, rel string, isDir bool) {
		m := Parse(dir, content)
		s := (*Stack)(nil).Push(Parse("", content)).Push(m)
		got := s.Ignored(rel, isDir)
		if again := s.Ignored(rel, isDir); again != got {
			t.Fatalf("Ignored is not deterministic for %q", rel)
		}
		// The answers of a stack never depend on matchers that do not
		// apply to rel; pushing one for an unrelated directory is a no-op.
		other := s.Push(Parse("\x00unrelated", content))
		if other.Ignored(rel, isDir) != got && !strings.HasPrefix(rel, "\x00unrelated/") {
			t.Fatalf("unrelated matcher changed the answer for %q", rel)
		}
	})
}
