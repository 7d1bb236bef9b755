package discovering

import (
	"bufio"
	"bytes"
	"context"
	"encoding/gob"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime/debug"
	"runtime/metrics"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/catalyst-forge/forge/domain/config"
	"github.com/catalyst-forge/forge/domain/discovery"
	"github.com/catalyst-forge/forge/domain/fault"
)

// Limits bound the evaluation of user CUE in one discovery. CUE offers no
// way to stop an evaluation that has started, and Go none to stop a
// goroutine, so the bounds hold only in a process of their own: Isolated
// runs discovery in a child process and kills it at the first bound it
// passes.
type Limits struct {
	// Time bounds the whole discovery, walk included.
	Time time.Duration
	// FileTime bounds the evaluation of one configuration (the files of
	// one .forge directory).
	FileTime time.Duration
	// Memory bounds the memory of the process that evaluates, in bytes.
	Memory int64
}

// The default limits: a discovery of 200 projects takes about 0.1 s and
// 50 MB, so these leave room for repositories a hundred times larger and
// still stop a runaway evaluation within seconds.
const (
	DefaultTime     = time.Minute
	DefaultFileTime = 5 * time.Second
	DefaultMemory   = 512 << 20
)

// WithDefaults returns l with every zero field set to its default.
func (l Limits) WithDefaults() Limits {
	if l.Time <= 0 {
		l.Time = DefaultTime
	}
	if l.FileTime <= 0 {
		l.FileTime = DefaultFileTime
	}
	if l.Memory <= 0 {
		l.Memory = DefaultMemory
	}
	return l
}

// Isolated discovers in a child process bounded by Limits: the process is
// killed when the discovery passes Time, when one configuration takes
// longer than FileTime, or when it uses more than Memory, and the error
// names the configuration that was being evaluated. Use it wherever the
// repository is not trusted (the CLI and the workers do); Service is the
// same discovery in the calling process, with only cheap in-process guards.
// Isolated is safe for concurrent use: each Discover starts its own child.
type Isolated struct {
	// Path and Args start the child: a binary that calls ServeChild when
	// it is started with Args. The reference binaries re-execute
	// themselves with a hidden argument. The child inherits only the Go
	// runtime's settings from the environment (GOGC, GOMAXPROCS, GODEBUG
	// and the like), never the caller's tokens or credentials; Env is
	// added to them.
	Path string
	Args []string
	Env  []string
	// Limits bound each discovery; zero fields take the defaults.
	Limits Limits
	// Workers is Service.Workers in the child.
	Workers int
	// KeepWarm starts the next child (see Warm) as soon as a discovery
	// ends, for callers that discover again and again.
	KeepWarm bool

	mu     sync.Mutex
	warm   *child // started, waiting for its request
	closed bool
}

// child is a started child process that has not been sent its request.
type child struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout io.ReadCloser
	stderr *headBuffer
}

// start starts a child that waits for its request on its standard input.
func (s *Isolated) start() (*child, error) {
	cmd := exec.Command(s.Path, s.Args...)
	cmd.Env = childEnviron(os.Environ(), s.Env)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fault.Wrap(fault.Internal, err, "starting the discovery process")
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fault.Wrap(fault.Internal, err, "starting the discovery process")
	}
	c := &child{cmd: cmd, stdin: stdin, stdout: stdout, stderr: &headBuffer{max: 4 << 10}}
	cmd.Stderr = c.stderr
	if err := cmd.Start(); err != nil {
		return nil, fault.Wrap(fault.Internal, err, "starting the discovery process %s", s.Path)
	}
	return c, nil
}

// stop kills a child and waits for it.
func (c *child) stop() {
	_ = c.cmd.Process.Kill()
	_ = c.cmd.Wait()
	c.stdin.Close()
}

// Warm starts a child now that waits for the next Discover, so that the
// discovery does not wait for the binary to start (the reference
// binaries' package initialisation is about 70 ms, most of a small
// repository's discovery). The waiting child blocks on its standard input
// and uses no CPU; the limits count from the request, not from its start.
// Warm does nothing when a child already waits, after Close, or when the
// child cannot start (Discover then reports why). Close stops the child.
func (s *Isolated) Warm() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.warm != nil {
		return
	}
	if c, err := s.start(); err == nil {
		s.warm = c
	}
}

// Close stops the child Warm started, if no discovery took it, and
// starts no other. Discover still works after Close, each time with a
// child of its own.
func (s *Isolated) Close() {
	s.mu.Lock()
	c := s.warm
	s.warm, s.closed = nil, true
	s.mu.Unlock()
	if c != nil {
		c.stop()
	}
}

// take returns the waiting child, if any, and forgets it.
func (s *Isolated) take() *child {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.warm
	s.warm = nil
	return c
}

// childRequest is what the parent sends on the child's standard input.
type childRequest struct {
	Dir     string               `json:"dir"`
	Git     discovery.GitContext `json:"git"`
	Limits  Limits               `json:"limits"`
	Workers int                  `json:"workers"`
}

// message is one gob-encoded message from the child: a configuration it
// starts or finishes evaluating, the memory it ran out of, or the end.
type message struct {
	Start, Done string
	// Memory is set when the child stops because it used more than its
	// limit: how much it was using.
	Memory int64
	Result *wireResult
	Error  *wireError
}

// wireResult carries a Result. The output travels as its JSON, which is
// its contract (gob would turn its empty lists into null); the rest
// travels as gob, positions included, where empty maps arrive as nil.
type wireResult struct {
	Output   []byte
	Repo     *config.Repo
	Projects []*config.Project
	Problems config.Problems
}

type wireError struct {
	Kind     fault.Kind
	Message  string
	Problems config.Problems
}

var registerOnce sync.Once

// registerTypes names the dynamic types of free-form configuration values
// (maps, lists and numbers decoded from JSON) for gob.
func registerTypes() {
	registerOnce.Do(func() {
		gob.Register(map[string]any{})
		gob.Register([]any{})
		gob.Register(json.Number(""))
	})
}

// send writes req to the waiting child, or else to a new one, and
// returns the child.
func (s *Isolated) send(req []byte) (*child, error) {
	if c := s.take(); c != nil {
		if _, err := c.stdin.Write(req); err == nil {
			return c, nil
		}
		c.stop() // it died while it waited (killed from outside)
	}
	c, err := s.start()
	if err != nil {
		return nil, err
	}
	if _, err := c.stdin.Write(req); err != nil {
		var done bool
		return nil, s.ended(c.cmd, &done, c.stderr, err, nil)
	}
	return c, nil
}

// Discover discovers the checkout in dir (a directory of the local file
// system) for git, in a child process. The errors are Service.Discover's;
// a bound passed is fault.Validation wrapping config.Problems that name the
// configurations being evaluated; a child that cannot start or ends
// without an answer is fault.Internal.
func (s *Isolated) Discover(ctx context.Context, dir string, git discovery.GitContext) (*Result, error) {
	registerTypes()
	limits := s.Limits.WithDefaults()
	if s.KeepWarm {
		// The next child starts once this discovery has answered,
		// without holding up the answer.
		defer func() { go s.Warm() }()
	}
	req, _ := json.Marshal(childRequest{Dir: dir, Git: git, Limits: limits, Workers: s.Workers})
	c, err := s.send(append(req, '\n'))
	if err != nil {
		return nil, err
	}
	cmd, stdout, stderr := c.cmd, c.stdout, c.stderr
	started := time.Now()
	done := false
	defer func() {
		if !done {
			c.stop()
		}
		c.stdin.Close()
	}()

	msgs := make(chan message)
	readErr := make(chan error, 1)
	quit := make(chan struct{})
	defer close(quit) // runs before the child is killed: the reader ends
	go func() {
		dec := gob.NewDecoder(stdout)
		for {
			var m message
			if err := dec.Decode(&m); err != nil {
				readErr <- err
				close(msgs)
				return
			}
			select {
			case msgs <- m:
			case <-quit:
				return
			}
		}
	}()

	inFlight := map[string]time.Time{}
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case m, ok := <-msgs:
			switch {
			case !ok:
				return nil, s.ended(cmd, &done, stderr, <-readErr, inFlight)
			case m.Start != "":
				inFlight[m.Start] = time.Now()
			case m.Done != "":
				delete(inFlight, m.Done)
			case m.Memory > 0:
				return nil, overLimit(inFlight, fmt.Sprintf("the discovery used %s of memory, over the limit of %s for one discovery", mib(m.Memory), mib(limits.Memory)))
			case m.Error != nil:
				s.wait(cmd, &done)
				if m.Error.Problems != nil {
					return nil, fault.Wrap(m.Error.Kind, m.Error.Problems, "%s", m.Error.Message)
				}
				return nil, fault.New(m.Error.Kind, "%s", m.Error.Message)
			case m.Result != nil:
				s.wait(cmd, &done)
				return m.Result.result()
			}
		case now := <-tick.C:
			for file, since := range inFlight {
				if now.Sub(since) > limits.FileTime {
					return nil, overLimit(map[string]time.Time{file: since}, fmt.Sprintf("the evaluation took longer than %s, the limit for one configuration", limits.FileTime))
				}
			}
			if now.Sub(started) > limits.Time {
				return nil, overLimit(inFlight, fmt.Sprintf("the discovery took longer than %s, the limit for one discovery", limits.Time))
			}
			if rss, ok := residentBytes(cmd.Process.Pid); ok && rss > limits.Memory {
				return nil, overLimit(inFlight, fmt.Sprintf("the discovery used %s of memory, over the limit of %s for one discovery", mib(rss), mib(limits.Memory)))
			}
		}
	}
}

// childEnviron keeps the Go runtime's variables (GO...) of env, the only
// ones a child that reads files and evaluates CUE needs, and adds extra.
func childEnviron(env, extra []string) []string {
	var out []string
	for _, kv := range env {
		if strings.HasPrefix(kv, "GO") {
			out = append(out, kv)
		}
	}
	return append(out, extra...)
}

func (s *Isolated) wait(cmd *exec.Cmd, done *bool) {
	_ = cmd.Wait()
	*done = true
}

// ended explains a child that stopped answering: the first line it wrote
// on its standard error (a Go runtime's "fatal error: ..." or "panic: ..."
// comes first) and the configurations it was evaluating.
func (s *Isolated) ended(cmd *exec.Cmd, done *bool, stderr *headBuffer, err error, inFlight map[string]time.Time) error {
	werr := cmd.Wait()
	*done = true
	if werr == nil {
		werr = err
	}
	why, _, _ := strings.Cut(strings.TrimSpace(stderr.String()), "\n")
	if why == "" {
		why = "it wrote nothing on its standard error"
	}
	if len(inFlight) == 0 {
		return fault.Wrap(fault.Internal, werr, "the discovery process ended without an answer (%s)", why)
	}
	files := make([]string, 0, len(inFlight))
	for f := range inFlight {
		files = append(files, f)
	}
	sort.Strings(files)
	return fault.Wrap(fault.Internal, werr, "the discovery process ended without an answer while evaluating %s (%s)", strings.Join(files, ", "), why)
}

// overLimit is the error of a bound passed: what happened, said of every
// configuration that was being evaluated (file-level bounds pass one).
func overLimit(inFlight map[string]time.Time, what string) error {
	const why = "; forge stops evaluations that could run away with a worker (docs/discovery.md, \"Limits\")"
	var ps config.Problems
	for file := range inFlight {
		ps = append(ps, config.Errorf(config.Position{File: file}, "%s, while this configuration was being evaluated%s", what, why))
	}
	if len(ps) == 0 {
		ps = config.Problems{config.Errorf(config.Position{}, "%s, while no configuration was being evaluated%s", what, why)}
	}
	ps.Sort()
	return fault.Wrap(fault.Validation, &limitsError{ps}, "discovery stopped at its limits")
}

// limitsError carries the problems of a discovery stopped at its limits,
// so that StoppedAtLimits can tell it from invalid configuration.
type limitsError struct{ config.Problems }

func (e *limitsError) Unwrap() error { return e.Problems }

// StoppedAtLimits reports whether err is a discovery stopped at its
// limits (its problems, from Problems, name the files).
func StoppedAtLimits(err error) bool {
	var le *limitsError
	return errors.As(err, &le)
}

func (w *wireResult) result() (*Result, error) {
	res := &Result{Repo: w.Repo, Projects: w.Projects, Problems: w.Problems}
	dec := json.NewDecoder(bytes.NewReader(w.Output))
	dec.UseNumber()
	if err := dec.Decode(&res.Output); err != nil {
		return nil, fault.Wrap(fault.Internal, err, "reading the discovery process's output")
	}
	return res, nil
}

// residentBytes reads the resident memory of a process from /proc; ok is
// false where there is no /proc (the child's own watch still holds).
func residentBytes(pid int) (int64, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/statm")
	if err != nil {
		return 0, false
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0, false
	}
	pages, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return 0, false
	}
	return pages * int64(os.Getpagesize()), true
}

func mib(n int64) string { return fmt.Sprintf("%d MiB", n>>20) }

// headBuffer keeps the first max bytes written to it.
type headBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (h *headBuffer) Write(p []byte) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if room := h.max - len(h.b); room > 0 {
		h.b = append(h.b, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

func (h *headBuffer) String() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return string(h.b)
}

// exit ends the child process; a variable so that nothing else does.
var exit = os.Exit

// ServeChild is the child's side of Isolated: it reads one request from
// in, discovers, and writes its progress and answer to out. It returns the
// process's exit code; it ends the process itself when it passes its
// memory limit or when in closes before the answer (the parent is gone).
// A binary calls it, and nothing else, when started with the arguments its
// Isolated passes.
func ServeChild(in io.Reader, out io.Writer) int {
	registerTypes()
	dec := json.NewDecoder(in)
	var req childRequest
	if err := dec.Decode(&req); err != nil {
		fmt.Fprintf(os.Stderr, "reading the discovery request: %v\n", err)
		return 2
	}
	limits := req.Limits.WithDefaults()
	// The child lives for one discovery and its memory is bounded: collect
	// garbage only near three quarters of the limit (unless GOGC says
	// otherwise), which spares an ordinary discovery every collection
	// (about a third of its time in a fresh process) and keeps a large one
	// under the bound.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(-1)
	}
	debug.SetMemoryLimit(limits.Memory * 3 / 4)

	// Progress goes out in batches, every few milliseconds: the parent's
	// file time limit is in seconds, and a message per file would wake
	// it hundreds of times in a large discovery.
	var mu sync.Mutex
	buf := bufio.NewWriter(out)
	enc := gob.NewEncoder(buf)
	send := func(m message, flush bool) {
		mu.Lock()
		defer mu.Unlock()
		err := enc.Encode(m)
		if err == nil && flush {
			err = buf.Flush()
		}
		if err != nil {
			exit(3) // the parent is gone
		}
	}
	go func() {
		for range time.Tick(10 * time.Millisecond) {
			mu.Lock()
			err := buf.Flush()
			mu.Unlock()
			if err != nil {
				exit(3)
			}
		}
	}()
	go func() {
		_, _ = io.Copy(io.Discard, io.MultiReader(dec.Buffered(), in))
		exit(3) // the parent is gone: stop at once
	}()
	go watchMemory(limits.Memory, func(used int64) {
		send(message{Memory: used}, true)
		exit(4)
	})

	svc := &Service{Workers: req.Workers, observe: func(file string, start bool) {
		if start {
			send(message{Start: file}, false)
		} else {
			send(message{Done: file}, false)
		}
	}}
	res, err := svc.Discover(context.Background(), os.DirFS(req.Dir), req.Git)
	if err != nil {
		we := &wireError{Kind: fault.KindOf(err), Message: err.Error()}
		var fe *fault.Error
		if ps, ok := Problems(err); ok && errors.As(err, &fe) {
			we.Message, we.Problems = fe.Message, ps
		}
		send(message{Error: we}, true)
		return 0
	}
	b, err := json.Marshal(res.Output)
	if err != nil {
		send(message{Error: &wireError{Kind: fault.Internal, Message: "encoding the discovery output: " + err.Error()}}, true)
		return 0
	}
	send(message{Result: &wireResult{Output: b, Repo: res.Repo, Projects: res.Projects, Problems: res.Problems}}, true)
	return 0
}

// watchMemory calls over when the Go runtime holds more than limit bytes
// from the system, checking every few milliseconds.
func watchMemory(limit int64, over func(used int64)) {
	samples := []metrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
	for range time.Tick(5 * time.Millisecond) {
		metrics.Read(samples)
		used := int64(samples[0].Value.Uint64() - samples[1].Value.Uint64())
		if used > limit {
			over(used)
			return
		}
	}
}
