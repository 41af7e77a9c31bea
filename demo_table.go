package main

import (
	"context"
	"fmt"
	"os"

	"callstats/config"
	"callstats/extract/queue"
	"callstats/extract/queue/aztable"
	"callstats/internal/azurite"
)

// demoTable starts Azurite in dir, points cfg's queue at a new table on it
// and returns the table to write the notifications into; closeTable stops
// Azurite.
func demoTable(ctx context.Context, cfg *config.Config, dir string) (tbl *aztable.Table, closeTable func(), err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, err
	}
	srv, err := azurite.Launch(ctx, dir)
	if err != nil {
		return nil, nil, fmt.Errorf("starting Azurite: %w", err)
	}
	cfg.Queue.Path = ""
	cfg.Queue.AzureTable = &config.AzureTable{Endpoint: srv.TableURL, Table: "callids",
		AccountName: azurite.Account, AccountKey: config.NewSecret(azurite.Key)}
	tbl, err = aztable.New(aztable.Config{Endpoint: srv.TableURL, Table: "callids",
		Credential: aztable.Credential{AccountName: azurite.Account, AccountKey: azurite.Key}})
	if err == nil {
		err = tbl.Create(ctx)
	}
	if err != nil {
		srv.Close()
		return nil, nil, fmt.Errorf("creating the queue table on Azurite: %w", err)
	}
	return tbl, srv.Close, nil
}

// tableIntake writes the notifications straight into the Azure table on
// Azurite, as the receiver would (--queue azure-table).
type tableIntake struct {
	upsert func(context.Context, []queue.Entity) error
}

func (t tableIntake) deliver(ctx context.Context, notes []demoNote) error {
	es := make([]queue.Entity, len(notes))
	for i, n := range notes {
		es[i] = queue.NewEntity(n.source, n.id, n.change, n.at)
	}
	return t.upsert(ctx, es)
}
