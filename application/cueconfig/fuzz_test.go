package cueconfig

import (
	"testing"
	"testing/fstest"
)

// FuzzLoadProject feeds arbitrary bytes to the loader as a project and as
// a repository configuration: it must report problems, never panic, and
// never return a project together with an error.
func FuzzLoadProject(f *testing.F) {
	for _, seed := range []string{
		header,
		header + "ci: phases: build: b: {action: \"script\", run: \"x\", timeout: @repo(path=\"phases.build.timeout\")}\n",
		header + "deployment: resources: [{apiVersion: \"v1\", kind: \"P\", metadata: name: \"p\", x:@artifact(\"a.b\")}]\n",
		header + "x: \"\\(name) @y(z)\"\n",
		"package project\n@repo(path=\"a\")\n",
		"package project\na: b: @artifact(\n",
		"package repo\nforgeVersion: \"v9\"\n",
		"\xef\xbb\xbfpackage project\nname: \"x\"",
		"",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		l := NewLoader()
		fsys := fstest.MapFS{
			".forge/repo.cue":        {Data: []byte(testRepo)},
			"svc/.forge/project.cue": {Data: data},
		}
		rc, ps := l.LoadRepo(fsys)
		if rc == nil {
			t.Fatalf("the fixed repository failed to load: %v", ps)
		}
		p, ps := l.LoadProject(fsys, "svc", rc)
		if p != nil && ps.HasErrors() {
			t.Fatalf("a project was returned with errors: %v", ps)
		}
		if p == nil && !ps.HasErrors() {
			t.Fatalf("no project and no error")
		}
		rc, ps = l.LoadRepo(fstest.MapFS{".forge/repo.cue": {Data: data}})
		if rc != nil && ps.HasErrors() {
			t.Fatalf("a repository was returned with errors: %v", ps)
		}
	})
}
