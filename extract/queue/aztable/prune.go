package aztable

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"
)

// maxBatch is the most entities one entity group transaction may hold.
const maxBatch = 100

// PruneResult counts what a prune did with the old entities.
type PruneResult struct {
	Deleted int // old entities of eligible calls, deleted
	Kept    int // old entities of calls not eligible, left in place
	Skipped int // old malformed entities, left in place
}

// Prune deletes the entities of partitions whose hour ended at least
// olderThan ago, but only those whose call eligible accepts (its record is
// in the lake, or it was given up). Malformed entities and entities of
// younger partitions are never deleted. Deletes go out as entity group
// transactions of at most 100 entities of one partition, while the old
// partitions are paged through, so memory stays bounded.
func (t *Table) Prune(ctx context.Context, olderThan time.Duration, eligible func(source, callID string) bool) (*PruneResult, error) {
	if olderThan <= 0 {
		return nil, fmt.Errorf("pruning azure table %s: olderThan must be positive, got %s", t.name, olderThan)
	}
	before := PartitionKey(t.now().UTC().Add(-olderThan).Truncate(time.Hour))
	res := &PruneResult{}
	var (
		batch     []aztables.TransactionAction
		partition string
	)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if _, err := t.client.SubmitTransaction(ctx, batch, nil); err != nil {
			return fmt.Errorf("deleting %d entities of partition %s: %w", len(batch), partition, err)
		}
		res.Deleted += len(batch)
		batch = batch[:0]
		return nil
	}
	opts := &aztables.ListEntitiesOptions{
		Filter: ptr(fmt.Sprintf("PartitionKey lt '%s'", before)),
		Select: ptr(selectProperties),
		Top:    ptr(t.pageSize),
	}
	err := t.scan(ctx, opts, func(b []byte) error {
		e, err := parseEntity(b)
		if err != nil {
			res.Skipped++
			return nil
		}
		if !eligible(e.Source, e.CallID) {
			res.Kept++
			return nil
		}
		if e.PartitionKey != partition || len(batch) == maxBatch {
			if err := flush(); err != nil {
				return err
			}
			partition = e.PartitionKey
		}
		keys, err := json.Marshal(map[string]string{"PartitionKey": e.PartitionKey, "RowKey": e.RowKey})
		if err != nil {
			return err
		}
		batch = append(batch, aztables.TransactionAction{ActionType: aztables.TransactionTypeDelete, Entity: keys})
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return res, fmt.Errorf("pruning azure table %s before partition %s: %w", t.name, before, err)
	}
	return res, nil
}
