package httptransport

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/catalyst-forge/forge/application/running"
	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/transport/endpoints"
)

// followPoll is how often a followed log is checked for more bytes.
const followPoll = 500 * time.Millisecond

// stepLogs serves GET /v1/steps/{id}/logs?offset=N&follow=true as plain
// text. With follow, it keeps the answer open and sends bytes as the log
// grows until the step has finished and every byte was sent.
func stepLogs(svc *running.Service) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		offset, err := strconv.ParseInt(q.Get("offset"), 10, 64)
		if q.Get("offset") == "" {
			offset, err = 0, nil
		}
		if err != nil || offset < 0 {
			encodeError(r.Context(), &fault.Error{Kind: fault.Validation, Details: map[string]any{"field": "offset"},
				Message: "offset must be a non-negative integer"}, w)
			return
		}
		var follow bool
		switch v := q.Get("follow"); v {
		case "", "false", "0":
		case "true", "1":
			follow = true
		default:
			encodeError(r.Context(), &fault.Error{Kind: fault.Validation, Details: map[string]any{"field": "follow"},
				Message: "follow must be true or false, got " + strconv.Quote(v)}, w)
			return
		}
		who := endpoints.PrincipalFrom(r.Context())
		id := r.PathValue("id")

		log, err := openLog(r.Context(), svc, id, offset, follow)
		if err != nil {
			encodeError(r.Context(), err, w)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
		flusher, _ := w.(http.Flusher)
		for {
			n, err := io.Copy(w, log.Body)
			log.Body.Close()
			offset += n
			if flusher != nil {
				flusher.Flush()
			}
			if err != nil || !follow || (log.Finished && n == 0) {
				return
			}
			select {
			case <-r.Context().Done():
				return
			case <-time.After(followPoll):
			}
			next, err := svc.Log(r.Context(), who, id, offset)
			if err != nil {
				return // the answer has started: end it, the client sees a short log
			}
			log = next
		}
	}
}

// openLog opens the log; when following a step that has no log yet, it
// waits for one (until the request ends).
func openLog(ctx context.Context, svc *running.Service, id string, offset int64, follow bool) (*running.StepLog, error) {
	p := endpoints.PrincipalFrom(ctx)
	for {
		log, err := svc.Log(ctx, p, id, offset)
		if err == nil || !follow || !fault.Is(err, fault.NotFound) {
			return log, err
		}
		if step, serr := svc.Store.GetStep(ctx, id); serr != nil || step.Status.Terminal() {
			return nil, err
		}
		select {
		case <-ctx.Done():
			return nil, fault.Wrap(fault.Unavailable, ctx.Err(), "waiting for the log of step %s", id)
		case <-time.After(followPoll):
		}
	}
}
