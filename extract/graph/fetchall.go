package graph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"callstats/internal/httpretry"
)

// Fetch returns a record with every page of sessions and participants joined.
// Errors name the call id; see ErrNotFound, ErrAuth, ErrInvalidID,
// ErrSourceFailed, ErrThrottled, APIError and IsRetryable.
func (c *Client) Fetch(ctx context.Context, id string) (*CallRecord, error) {
	var rec *CallRecord
	var ferr error
	err := c.FetchAll(ctx, []string{id}, func(_ string, r *CallRecord, err error) error {
		rec, ferr = r, err
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("fetching call %s: %w", id, err)
	}
	return rec, ferr
}

// FetchAll fetches ids and calls fn for each result from a single goroutine
// (so fn needs no locking), in completion order. A failed fetch is passed to
// fn, not returned. FetchAll stops at the first error fn returns (and returns
// it) or when ctx is done (and returns ctx.Err()); fetches still in flight
// are then cancelled and not reported.
//
// The requests go in JSON $batch requests of up to 20, each request paced
// and judged on its own: a request answered 429 pauses the app's requests
// and is sent again alone, the others are not; a 404 ends that record as
// ErrNotFound. A record takes one request (the record with its sessions and
// segments), then participants_v2 and any next pages of sessions, which go
// in later batches. The number of batches in flight follows the observed
// latency (Little's law at the paced rate), up to Concurrency.
func (c *Client) FetchAll(ctx context.Context, ids []string, fn func(id string, rec *CallRecord, err error) error) error {
	inner, cancel := context.WithCancel(ctx)
	defer cancel()
	r := &fetchRun{
		c: c, ctx: inner, ids: ids,
		batchMax:  min(maxBatchItems, c.pacer.sent.limit),
		maxActive: c.concurrency * maxBatchItems,
		outcomes:  make(chan batchOutcome, c.concurrency),
		requeue:   make(chan []*pending),
	}
	results := make(chan fetchResult)
	r.wg.Go(func() { r.run(results) })

	var fnErr error
	for res := range results {
		if ctx.Err() != nil {
			break
		}
		if err := fn(res.id, res.rec, res.err); err != nil {
			fnErr = err
			break
		}
	}
	cancel()
	for range results { // let the run end so that nothing outlives FetchAll
	}
	r.wg.Wait()
	if fnErr != nil {
		return fnErr
	}
	return ctx.Err()
}

// The parts of a record, each fetched with its own requests.
const (
	partRecord       = iota // the record with sessions and segments
	partSessions            // a next page of sessions
	partParticipants        // a page of participants_v2
)

// recordJob is the fetch of one record.
type recordJob struct {
	id      string
	rec     *CallRecord
	parts   []Participant
	noParts error // the 404 of participants_v2, for an archived record
	open    int   // requests not yet answered for good
	pages   int
	done    bool
	pacer   *pacer // Graph's limit per call record
}

// pending is one request of a record, waiting to be sent or in flight.
type pending struct {
	job      *recordJob
	part     int
	url      string // relative to /v1.0
	attempt  int    // attempts made
	reauthed bool   // a 401 already renewed the token
	solo     bool   // its batch's answer was too large: send it alone
}

// itemResult is what an attempt of a pending request came to, decoded in
// the sender's goroutine.
type itemResult struct {
	err      error // nil, a *httpretry.Retry, or permanent
	rec      *CallRecord
	sessions []Session
	parts    []Participant
	next     string
}

type batchOutcome struct {
	batch   []*pending
	results []itemResult
	sent    bool
	latency time.Duration
}

type fetchResult struct {
	id  string
	rec *CallRecord
	err error
}

// fetchRun is one FetchAll. Its state belongs to the goroutine of run; the
// senders get their batch and hand back a batchOutcome.
type fetchRun struct {
	c         *Client
	ctx       context.Context
	wg        sync.WaitGroup
	ids       []string
	next      int // ids[next:] are not yet admitted
	batchMax  int
	maxActive int // records admitted and not yet handed to fn

	queue    []*pending // ready to send
	active   int        // records admitted and not finished
	inflight int        // batches sent and not answered
	latency  time.Duration
	observed bool
	finished []fetchResult // to hand to fn

	outcomes chan batchOutcome
	requeue  chan []*pending // requests back from a wait
}

func (r *fetchRun) run(results chan<- fetchResult) {
	defer close(results)
	for {
		r.admit()
		r.launch()
		if len(r.finished) == 0 && r.active == 0 && r.next == len(r.ids) {
			return
		}
		var out chan<- fetchResult
		var first fetchResult
		if len(r.finished) > 0 {
			out, first = results, r.finished[0]
		}
		select {
		case o := <-r.outcomes:
			r.inflight--
			r.apply(o)
		case ps := <-r.requeue:
			for _, p := range ps {
				if !p.job.done {
					r.queue = append(r.queue, p)
				}
			}
		case out <- first:
			r.finished[0] = fetchResult{}
			r.finished = r.finished[1:]
		case <-r.ctx.Done():
			return
		}
	}
}

// allowed is the number of batches to keep in flight: by Little's law, the
// requests in flight at the paced rate are rate × latency; in batches, plus
// one being paced and one to spare, at most Concurrency.
func (r *fetchRun) allowed() int {
	return batchesFor(r.c.pacer.rate, r.latency, r.batchMax, r.c.concurrency)
}

func batchesFor(rate float64, latency time.Duration, perBatch, most int) int {
	onTheWire := rate * latency.Seconds() / float64(perBatch)
	return max(1, min(most, int(math.Ceil(onTheWire))+2))
}

// observe folds the latency of one batch into a moving average.
func (r *fetchRun) observe(d time.Duration) {
	if !r.observed {
		r.latency, r.observed = d, true
		return
	}
	r.latency = (7*r.latency + 3*d) / 10
}

// admit starts records while the batches that may go out now lack requests.
func (r *fetchRun) admit() {
	want := (r.allowed() - r.inflight) * r.batchMax
	for r.next < len(r.ids) && len(r.queue) < want && r.active+len(r.finished) < r.maxActive {
		id := r.ids[r.next]
		r.next++
		if err := CheckID(id); err != nil {
			r.finished = append(r.finished, fetchResult{id: id, err: fmt.Errorf("fetching call %s: %w", id, err)})
			continue
		}
		j := &recordJob{id: id, pacer: newWindowPacer(r.c.recordPer20s, 20*time.Second)}
		r.active++
		r.enqueue(j, partRecord, "/communications/callRecords/"+url.PathEscape(id)+"?$expand=sessions($expand=segments)")
	}
}

// launch sends batches while fewer than allowed are in flight.
func (r *fetchRun) launch() {
	for r.inflight < r.allowed() {
		batch := r.take()
		if len(batch) == 0 {
			return
		}
		r.inflight++
		r.wg.Go(func() { r.outcomes <- r.send(batch) })
	}
}

// take removes the next batch from the queue: up to batchMax requests of
// records still open, a solo request alone. A request its record's pacer
// would hold back waits outside the batch.
func (r *fetchRun) take() []*pending {
	now := r.c.now()
	var batch []*pending
	perJob := map[*recordJob]int{}
	later := map[time.Duration][]*pending{}
	rest := r.queue[:0]
	for _, p := range r.queue {
		switch {
		case p.job.done:
		case len(batch) >= r.batchMax || len(batch) > 0 && (p.solo || batch[0].solo):
			rest = append(rest, p)
		default:
			if d := p.job.pacer.delay(now, perJob[p.job]+1); d > 0 {
				later[d] = append(later[d], p)
				continue
			}
			perJob[p.job]++
			batch = append(batch, p)
		}
	}
	clear(r.queue[len(rest):])
	r.queue = rest
	for d, ps := range later {
		r.delay(ps, d)
	}
	return batch
}

// delay puts ps back in the queue after d.
func (r *fetchRun) delay(ps []*pending, d time.Duration) {
	r.wg.Go(func() {
		if r.c.wait(r.ctx, d) != nil {
			return
		}
		select {
		case r.requeue <- ps:
		case <-r.ctx.Done():
		}
	})
}

// enqueue adds a request for part of j.
func (r *fetchRun) enqueue(j *recordJob, part int, rel string) {
	if j.pages++; j.pages > maxPages {
		r.fail(&pending{job: j, part: part}, fmt.Errorf("more than %d pages", maxPages))
		return
	}
	j.open++
	r.queue = append(r.queue, &pending{job: j, part: part, url: rel})
}

// send paces batch, posts it and judges each answer. It runs in its own
// goroutine: it reads only the pending requests it was given.
func (r *fetchRun) send(batch []*pending) batchOutcome {
	o := batchOutcome{batch: batch, results: make([]itemResult, len(batch))}
	ss := []slots{{r.c.pacer, len(batch)}}
	slotsOf := map[*recordJob]int{} // index in ss of a record's pacer
	urls := make([]string, len(batch))
	for i, p := range batch {
		urls[i] = p.url
		if k, ok := slotsOf[p.job]; ok {
			ss[k].n++
			continue
		}
		slotsOf[p.job] = len(ss)
		ss = append(ss, slots{p.job.pacer, 1})
	}
	if err := r.c.paceAll(r.ctx, ss); err != nil {
		for i := range o.results {
			o.results[i].err = err
		}
		return o
	}
	start := r.c.now()
	env, items, err := r.c.postBatch(r.ctx, urls)
	o.sent, o.latency = true, r.c.now().Sub(start)
	if err == nil && env.status != http.StatusOK && env.status >= 200 && env.status < 300 {
		err = httpretry.Transient(fmt.Errorf("the $batch was answered %d, not 200", env.status))
	}
	if err != nil || env.status != http.StatusOK {
		// The $batch failed as a whole: one judgement for all its
		// requests, so that they are retried together.
		p0 := batch[0]
		verdict := r.c.judge(r.ctx, env, err, p0.attempt+1, &p0.reauthed, nil, func([]byte) error { return nil })
		if err == nil && env.status == http.StatusNotFound {
			// Not a record that is not ready: the $batch endpoint is not
			// where Graph should be.
			verdict = fmt.Errorf("%w: %w", ErrSourceFailed, newAPIError(env.status, env.header, env.body))
		}
		for i, p := range batch {
			p.attempt++
			p.reauthed = p0.reauthed
			o.results[i].err = verdict
		}
		return o
	}
	for i, p := range batch {
		p.attempt++
		a, aerr := items[i], error(nil)
		if a.status == 0 {
			aerr = httpretry.Transient(errNoResponse)
		}
		res := &o.results[i]
		res.err = r.c.judge(r.ctx, a, aerr, p.attempt, &p.reauthed, nil, func(b []byte) error { return res.decode(p, b) })
	}
	return o
}

// decode decodes the body of a 2xx answer to p.
func (res *itemResult) decode(p *pending, body json.RawMessage) error {
	b, err := itemBody(body)
	if err != nil {
		return err
	}
	if p.part == partRecord {
		rec, err := DecodeRecord(b)
		if err != nil {
			return err
		}
		if !strings.EqualFold(rec.ID, p.job.id) {
			return fmt.Errorf("graph answered with call record %q", rec.ID)
		}
		res.rec = rec
		return nil
	}
	var page struct {
		Value    json.RawMessage `json:"value"`
		NextLink string          `json:"@odata.nextLink"`
	}
	if err := json.Unmarshal(b, &page); err != nil {
		return fmt.Errorf("decoding page %s: %w", p.url, err)
	}
	res.next = page.NextLink
	if len(page.Value) == 0 {
		return nil
	}
	if p.part == partSessions {
		err = json.Unmarshal(page.Value, &res.sessions)
	} else {
		err = json.Unmarshal(page.Value, &res.parts)
	}
	if err != nil {
		return fmt.Errorf("decoding page %s: %w", p.url, err)
	}
	return nil
}

// apply takes the outcome of a batch: each request is done, retried (alone,
// without the others), or ends its record.
func (r *fetchRun) apply(o batchOutcome) {
	if o.sent {
		r.observe(o.latency)
	}
	later := map[time.Duration][]*pending{}
	defer func() {
		for d, ps := range later {
			r.delay(ps, d)
		}
	}()
	for i, p := range o.batch {
		j := p.job
		if j.done {
			continue
		}
		j.open--
		res := o.results[i]
		rt, isRetry := errors.AsType[*httpretry.Retry](res.err)
		switch {
		case res.err == nil:
			r.progress(p, res)
		case isRetry && p.attempt < r.c.retry.MaxAttempts && r.ctx.Err() == nil:
			r.c.log.Debug("graph request failed, retrying", "call", j.id, "url", p.url, "attempt", p.attempt,
				"error", rt.Err, "wait", rt.Delay.Round(time.Millisecond).String())
			if errors.Is(rt.Err, httpretry.ErrTooLarge) || errors.Is(rt.Err, httpretry.ErrOverBudget) {
				p.solo = true
			}
			j.open++
			if rt.Delay > 0 {
				later[rt.Delay] = append(later[rt.Delay], p)
			} else {
				r.queue = append(r.queue, p)
			}
		case isRetry:
			kind := ErrSourceFailed
			if rt.Throttled {
				kind = ErrThrottled
			}
			r.fail(p, authFailure(fmt.Errorf("%w: giving up after %d attempts: %w", kind, p.attempt, rt.Err)))
		case p.part == partParticipants && j.parts == nil && errors.Is(res.err, ErrNotFound):
			j.noParts = res.err
			r.settle(j)
		default:
			r.fail(p, res.err)
		}
	}
}

// progress takes a part that came: it asks for the next pages, and settles
// the record when nothing is left.
func (r *fetchRun) progress(p *pending, res itemResult) {
	j := p.job
	switch p.part {
	case partRecord:
		rec := res.rec
		j.rec = rec
		link := rec.SessionsNextLink
		rec.SessionsNextLink = ""
		r.follow(p, partSessions, link)
		if len(rec.ParticipantsV2) > 0 || rec.ParticipantsV2NextLink != "" {
			// Inline participants (Graph does not send them today): follow
			// their next link.
			j.parts, link = rec.ParticipantsV2, rec.ParticipantsV2NextLink
			rec.ParticipantsV2NextLink = ""
			r.follow(p, partParticipants, link)
		} else if !j.done {
			r.enqueue(j, partParticipants, "/communications/callRecords/"+url.PathEscape(j.id)+"/participants_v2")
		}
	case partSessions:
		j.rec.Sessions = append(j.rec.Sessions, res.sessions...)
		r.follow(p, partSessions, res.next)
	case partParticipants:
		j.parts = append(j.parts, res.parts...)
		if j.parts == nil {
			j.parts = []Participant{}
		}
		r.follow(p, partParticipants, res.next)
	}
	r.settle(j)
}

// follow asks for the page at link (none when empty) after the request p.
func (r *fetchRun) follow(p *pending, part int, link string) {
	if link == "" || p.job.done {
		return
	}
	rel, err := r.c.relativeURL(link)
	switch {
	case err != nil:
		r.fail(&pending{job: p.job, part: part}, err)
	case rel == p.url:
		r.fail(&pending{job: p.job, part: part}, fmt.Errorf("next link %s points to itself", link))
	default:
		r.enqueue(p.job, part, rel)
	}
}

// settle finishes j once all its requests are answered.
func (r *fetchRun) settle(j *recordJob) {
	if j.done || j.open > 0 {
		return
	}
	if j.noParts != nil {
		if len(j.rec.Participants) == 0 {
			r.fail(&pending{job: j, part: partParticipants}, j.noParts)
			return
		}
		// An archived record from before participants_v2: keep the
		// deprecated list (AllParticipants reads it).
		r.c.log.Debug("no participants_v2, keeping deprecated participants", "call", j.id)
	} else {
		j.rec.ParticipantsV2 = j.parts
	}
	r.finish(j, j.rec, nil)
}

// fail ends p's record with err.
func (r *fetchRun) fail(p *pending, err error) {
	switch p.part {
	case partSessions:
		err = fmt.Errorf("sessions: %w", err)
	case partParticipants:
		err = fmt.Errorf("participants: %w", err)
	}
	r.finish(p.job, nil, fmt.Errorf("fetching call %s: %w", p.job.id, err))
}

func (r *fetchRun) finish(j *recordJob, rec *CallRecord, err error) {
	if j.done {
		return
	}
	j.done = true
	r.active--
	r.finished = append(r.finished, fetchResult{id: j.id, rec: rec, err: err})
}
