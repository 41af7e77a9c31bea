//go:build unix

package jobs

import (
	"fmt"
	"io"
	"time"

	"callstats/config"
	"callstats/delivery"
)

// StatusOf writes Status for the config's state directory, with the next
// runs of its schedule, then the delivery sends that failed and will be
// retried. Like Status it takes no lock and writes nothing.
func StatusOf(w io.Writer, cfg *config.Config) error {
	next, err := NextRuns(cfg)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	if err := Status(w, cfg.StateDir, next, cfg.Now()); err != nil {
		return err
	}
	if cfg.Serve != nil {
		if err := SubscriptionStatus(w, cfg.StateDir, cfg.Now(), cfg.Serve.RenewBefore); err != nil {
			return err
		}
	}
	failed, err := delivery.Failed(cfg.StateDir)
	if err != nil {
		return err
	}
	for _, st := range failed {
		for _, f := range st.Sends {
			kind := "will be retried by the next deliver"
			if f.Permanent {
				kind = "refused by the server; retried by the next deliver"
			}
			fmt.Fprintf(w, "delivery %s: not sent to %s (%s, %d attempts, last %s): %s\n",
				st.Week, f.Address, kind, f.Attempts, f.At.Format(time.RFC3339), f.Error)
		}
	}
	return nil
}
