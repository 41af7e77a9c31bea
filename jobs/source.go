package jobs

import (
	"context"

	"callstats/config"
)

// Source is a call platform whose records a run reads (in the manner of
// telegraf's inputs): Teams through Microsoft Graph, RingCentral through its
// call log. A run hands each source, in turn, the calls pending for it (named
// by the queue, or deferred by earlier runs), then the window of days to
// reconcile. Sources write through the run's batches (runner.newBatch) and
// keep their own part of the run state.
//
// Adding a source is a type implementing Source and a line in sourceKinds.
type Source interface {
	// Name is the source's name in the queue, the ledger and the reconcile
	// table ("teams", "ringcentral").
	Name() string
	// Fetch reads the pending calls of this source (their ids, sorted; their
	// entries are in r.st.pending) into the sink. A call read is taken off
	// the pending list; one that is not ready or whose read failed for now
	// stays pending (counted as deferred); one that can never be read is
	// failed. A read that fails because the source kept failing is counted
	// with r.sum.sourceFailed. Requests run in r.fetchContext: at the run's
	// deadline the source commits what it read and returns nil. Only errors
	// that stop the run (credentials, the sink, ctx) are returned, marked
	// with ErrCannotRun.
	Fetch(ctx context.Context, r *runner, ids []string) error
	// Reconcile lists what the source holds for the days of w, reads into
	// the sink what the lake lacks (whatever an earlier run concluded: a
	// listed call is never left out for having failed before) or holds in an
	// older version, and adds a
	// reconcile row per day to the summary. A day that could not be listed
	// whole is recorded to be listed again by the next run.
	Reconcile(ctx context.Context, r *runner, w Window) error
	// Throttled is the number of 429 answers the source gave so far.
	Throttled() int64
}

// sourceKinds builds each configured source, in the order a run reads them;
// a constructor returns nil for a source the config does not name.
var sourceKinds = []func(cfg *config.Config, env Env) (Source, error){
	newTeamsSource,
	newRingCentralSource,
}

// openSources builds the configured sources.
func openSources(cfg *config.Config, env Env) ([]Source, error) {
	var out []Source
	for _, open := range sourceKinds {
		s, err := open(cfg, env)
		if err != nil {
			return nil, err
		}
		if s != nil {
			out = append(out, s)
		}
	}
	return out, nil
}
