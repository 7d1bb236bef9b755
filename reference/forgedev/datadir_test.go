package forgedev

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/catalyst-forge/forge/domain/pipeline"
	"github.com/catalyst-forge/forge/reference/internal/gittest"
)

// tinyRepo writes a repository of one project with one quick step (not a
// git work tree, so a dev run snapshots it into the data directory).
func tinyRepo(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "tiny")
	files := map[string]string{
		".forge/repo.cue":        "package repo\n\nforgeVersion: \"v1.0.0\"\n\ntagging: strategy: \"monorepo\"\n\nphases: check: group: 1\n",
		"app/.forge/project.cue": "package project\n\nname: \"app\"\n\nci: phases: check: hello: {\n\taction: \"script\"\n\trun: \"echo hello\"\n}\n",
	}
	for name, body := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// oneLineError fails the test unless err is a one-line error holding want.
func oneLineError(t *testing.T, what string, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: no error", what)
	}
	if strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), want) {
		t.Errorf("%s: want one line holding %q, got %q", what, want, err.Error())
	}
}

// upOnce runs Up with data until it is ready, then stops it; it returns
// Up's error (nil when it started and stopped cleanly).
func upOnce(t *testing.T, data string) error {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- Up(ctx, UpOptions{Data: data, Addr: "127.0.0.1:0", Ready: func(string) { cancel() }})
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(60 * time.Second):
		t.Fatal("Up neither started nor failed")
		return nil
	}
}

// TestDataDirectoryThatDoesNotExistIsCreated runs 'forge dev run' and
// 'forge dev up' on a --data that does not exist yet: it is created (with
// its parents) and used. Before, the platform failed to open and close
// panicked on a nil platform.
func TestDataDirectoryThatDoesNotExistIsCreated(t *testing.T) {
	data := filepath.Join(t.TempDir(), "not", "yet")
	out, err := Run(context.Background(), Options{Dir: tinyRepo(t), Data: data})
	if err != nil {
		t.Fatal(err)
	}
	if out.Run.Status != pipeline.StatusSuccess {
		t.Fatalf("run %s (%q)", out.Run.Status, out.Run.Reason)
	}
	if _, err := os.Stat(filepath.Join(data, "forge.db")); err != nil {
		t.Errorf("the data directory was not used: %v", err)
	}
	// A clean git work tree is fetched from where it is: nothing but the
	// platform writes to the data directory.
	repo := tinyRepo(t)
	gittest.CommitAll(t, repo)
	data = filepath.Join(t.TempDir(), "not", "yet")
	out, err = Run(context.Background(), Options{Dir: repo, Ref: "main", Data: data})
	if err != nil {
		t.Fatal(err)
	}
	if out.Run.Status != pipeline.StatusSuccess || out.Snapshot {
		t.Fatalf("run of a commit %s (%q), snapshot %v", out.Run.Status, out.Run.Reason, out.Snapshot)
	}
	upData := filepath.Join(t.TempDir(), "up", "data")
	if err := upOnce(t, upData); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(upData, "forge.db")); err != nil {
		t.Errorf("the data directory was not used: %v", err)
	}
}

// TestDataDirectoryThatCannotOpenIsAOneLineError gives 'forge dev run' and
// 'forge dev up' a file as --data and a data directory whose forge.db is
// not a database: each fails with one line that names what is wrong,
// never a panic.
func TestDataDirectoryThatCannotOpenIsAOneLineError(t *testing.T) {
	file := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(file, []byte("not a directory"), 0o644); err != nil {
		t.Fatal(err)
	}
	corrupt := t.TempDir()
	if err := os.WriteFile(filepath.Join(corrupt, "forge.db"), []byte(strings.Repeat("this is not SQLite\n", 300)), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, data, want string
	}{
		{"a file", file, file + " is not a directory"},
		{"a corrupt forge.db", corrupt, filepath.Join(corrupt, "forge.db")},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Run(context.Background(), Options{Dir: tinyRepo(t), Data: c.data})
			oneLineError(t, "dev run", err, c.want)
			oneLineError(t, "dev up", upOnce(t, c.data), c.want)
		})
	}
}

// TestRelativeDataDirectory runs a directory that is no git work tree
// with a relative --data: its snapshot is fetched from a file:// URL,
// which a relative path turned into a host before.
func TestRelativeDataDirectory(t *testing.T) {
	repo := tinyRepo(t)
	t.Chdir(t.TempDir())
	out, err := Run(context.Background(), Options{Dir: repo, Data: filepath.Join("rel", "data")})
	if err != nil {
		t.Fatal(err)
	}
	if out.Run.Status != pipeline.StatusSuccess || !out.Snapshot {
		t.Fatalf("run %s (%q), snapshot %v", out.Run.Status, out.Run.Reason, out.Snapshot)
	}
	if _, err := os.Stat(filepath.Join("rel", "data", "forge.db")); err != nil {
		t.Errorf("the relative data directory was not used: %v", err)
	}
}

// TestDataDirectoryIsLocked starts 'forge dev up' and then tries a second
// 'forge dev up' and a 'forge dev run' on the same data directory: both
// are refused with a message naming the process that holds it, and the
// directory is free again once the first stops.
func TestDataDirectoryIsLocked(t *testing.T) {
	data := t.TempDir()
	u := startUp(t, UpOptions{Data: data})
	holder := fmt.Sprintf("in use by process %d", os.Getpid())
	oneLineError(t, "second dev up", upOnce(t, data), holder)
	_, err := Run(context.Background(), Options{Dir: tinyRepo(t), Data: data})
	oneLineError(t, "dev run", err, holder)
	if err != nil && !strings.Contains(err.Error(), "started ") {
		t.Errorf("the message does not say when the holder started: %v", err)
	}
	u.stop()
	if err := upOnce(t, data); err != nil {
		t.Errorf("after the first stopped: %v", err)
	}
}
