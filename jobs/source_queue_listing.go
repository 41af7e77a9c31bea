package jobs

import "context"

// listingQueue is the queue of a config with no queue section: nothing is
// notified, so ingest discovers Teams calls by listing each UTC day of its
// window (teamsSource.Reconcile) and RingCentral calls by reading its call
// log by window. The reconcile table then has no notified figure.
type listingQueue struct{}

func (listingQueue) Read(context.Context, []byte) (*Notified, error) {
	return &Notified{Listing: true}, nil
}
