package natsembed

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/catalyst-forge/forge/domain/fault"
)

// DefaultName is the server name used when Config.Name is empty.
const DefaultName = "forge-embedded"

// defaultStartTimeout bounds the start when ctx has no deadline.
const defaultStartTimeout = 10 * time.Second

// Config describes an embedded server.
type Config struct {
	// Dir is where JetStream keeps its files. Required; it is created if
	// missing. A server started again on the same Dir finds its streams,
	// consumers and queued messages.
	Dir string
	// Host is the address to listen on; empty means 127.0.0.1.
	Host string
	// Port is the client port; 0 picks a free one (read it from URL).
	Port int
	// NoListener starts the server without any network listener: only
	// Connect (in-process connections) reaches it.
	NoListener bool
	// Name is the server's name; empty means DefaultName.
	Name string
	// MaxPayload is the largest message the server accepts, in bytes; 0
	// keeps the NATS default of 1 MiB.
	MaxPayload int32
	// Log receives the server's log lines; nil discards them.
	Log io.Writer
}

// Server is a running embedded NATS server. Its methods are safe for
// concurrent use.
type Server struct {
	ns         *server.Server
	noListener bool
	stop       sync.Once
}

// Start runs a NATS server with JetStream (file storage under cfg.Dir) in
// this process and waits until it accepts connections. ctx bounds only the
// start (10 s when it has no deadline); the server runs until Shutdown.
// Errors: Validation (a bad Config), Unavailable (the server did not come
// up, for example because the port is taken).
func Start(ctx context.Context, cfg Config) (*Server, error) {
	if strings.TrimSpace(cfg.Dir) == "" {
		return nil, fault.New(fault.Validation, "natsembed: Config.Dir is required (JetStream keeps its files there)")
	}
	if cfg.Port < 0 || cfg.Port > 65535 {
		return nil, fault.New(fault.Validation, "natsembed: Config.Port %d is not a port (0 picks a free one)", cfg.Port)
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, fault.Wrap(fault.Unavailable, err, "natsembed: creating %s", cfg.Dir)
	}
	opts := &server.Options{
		ServerName:         cfg.Name,
		Host:               cfg.Host,
		Port:               cfg.Port,
		DontListen:         cfg.NoListener,
		JetStream:          true,
		StoreDir:           cfg.Dir,
		MaxPayload:         cfg.MaxPayload,
		NoSigs:             true,
		JetStreamMaxMemory: -1,
		JetStreamMaxStore:  -1,
	}
	if opts.ServerName == "" {
		opts.ServerName = DefaultName
	}
	if opts.Host == "" {
		opts.Host = "127.0.0.1"
	}
	if opts.Port == 0 {
		opts.Port = server.RANDOM_PORT
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		return nil, fault.Wrap(fault.Validation, err, "natsembed: configuring the server")
	}
	log := &logger{w: cfg.Log}
	ns.SetLoggerV2(log, false, false, false)

	wait := defaultStartTimeout
	if deadline, ok := ctx.Deadline(); ok {
		wait = time.Until(deadline)
	}
	if err := ctx.Err(); err != nil {
		return nil, fault.Wrap(fault.Unavailable, err, "natsembed: starting the server")
	}
	go ns.Start()
	// The server logs a failure to start (a taken port) instead of
	// returning it: look for one while waiting.
	deadline := time.Now().Add(wait)
	for !ns.ReadyForConnections(20 * time.Millisecond) {
		msg := log.fatal()
		if msg == "" && time.Now().Before(deadline) {
			continue
		}
		ns.Shutdown()
		ns.WaitForShutdown()
		if msg != "" {
			return nil, fault.New(fault.Unavailable, "natsembed: the server did not start: %s", msg)
		}
		return nil, fault.New(fault.Unavailable, "natsembed: the server was not ready within %s", wait)
	}
	if !ns.JetStreamEnabled() {
		ns.Shutdown()
		ns.WaitForShutdown()
		return nil, fault.New(fault.Unavailable, "natsembed: JetStream did not start in %s (see the server log)", cfg.Dir)
	}
	return &Server{ns: ns, noListener: cfg.NoListener}, nil
}

// URL is the client URL of the server's listener (nats://127.0.0.1:port),
// or "" when it has none (Config.NoListener).
func (s *Server) URL() string {
	if s.noListener {
		return ""
	}
	return s.ns.ClientURL()
}

// Connect opens a client connection to the server: in-process (no
// network) when the server has no listener, over its loopback listener
// otherwise. opts are passed to nats.Connect. Errors: Unavailable.
func (s *Server) Connect(opts ...nats.Option) (*nats.Conn, error) {
	var (
		nc  *nats.Conn
		err error
	)
	if s.noListener {
		nc, err = nats.Connect("", append(opts, nats.InProcessServer(s.ns))...)
	} else {
		nc, err = nats.Connect(s.ns.ClientURL(), opts...)
	}
	if err != nil {
		return nil, fault.Wrap(fault.Unavailable, err, "natsembed: connecting to the embedded server")
	}
	return nc, nil
}

// Shutdown stops the server and waits until it has stopped and closed its
// files, so that another server can start on the same Dir. Clients see
// their connections drop. Calling it again does nothing. JetStream is
// stopped first, as the server's own shutdown would, but before the
// server tells pulls still waiting that it is going away and sleeps 50 ms
// for the news to leave a cluster this server is not part of: a worker's
// pulls wait on the server after the worker stops, so every forge dev
// run paid that sleep and more at its end.
func (s *Server) Shutdown() {
	s.stop.Do(func() {
		_ = s.ns.ShutdownJetStream()
		s.ns.Shutdown()
		s.ns.WaitForShutdown()
	})
}

// logger writes the server's log to w (when set) and remembers the last
// fatal message, which the server logs instead of returning it.
type logger struct {
	w    io.Writer
	mu   sync.Mutex
	last string // the last fatal line, for Start's error
}

func (l *logger) log(level, format string, v ...any) {
	if l.w == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, "nats-server %s "+format+"\n", append([]any{level}, v...)...)
}

func (l *logger) remember(format string, v ...any) {
	l.mu.Lock()
	l.last = fmt.Sprintf(format, v...)
	l.mu.Unlock()
}

func (l *logger) fatal() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.last
}

func (l *logger) Noticef(format string, v ...any) { l.log("[INF]", format, v...) }
func (l *logger) Warnf(format string, v ...any)   { l.log("[WRN]", format, v...) }
func (l *logger) Debugf(format string, v ...any)  { l.log("[DBG]", format, v...) }
func (l *logger) Tracef(format string, v ...any)  { l.log("[TRC]", format, v...) }

// Fatalf records the message instead of exiting the process, as the
// server's own logger would.
func (l *logger) Fatalf(format string, v ...any) {
	l.remember(format, v...)
	l.log("[FTL]", format, v...)
}

func (l *logger) Errorf(format string, v ...any) { l.log("[ERR]", format, v...) }
