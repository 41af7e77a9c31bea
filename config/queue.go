package config

import "errors"

// QueueKind is where a run learns which calls were notified.
type QueueKind int

const (
	// QueueNone: no queue section. Ingest discovers Teams calls by listing
	// each UTC day of its window, RingCentral calls by its call-log windows.
	QueueNone QueueKind = iota
	// QueueFile: queue.path, a JSON Lines file or a Storage Explorer CSV export.
	QueueFile
	// QueueAzureTable: queue.azure_table, the receiver's Azure table itself.
	QueueAzureTable
)

// Kind says which queue the section names. A valid Config names at most
// one.
func (q Queue) Kind() QueueKind {
	switch {
	case q.AzureTable != nil:
		return QueueAzureTable
	case q.Path != "":
		return QueueFile
	}
	return QueueNone
}

// DefaultInitialDays is reconcile.initial_days' default; MaxInitialDays its
// limit, Graph's retention of call records.
const (
	DefaultInitialDays = 7
	MaxInitialDays     = 30
)

// validateQueue refuses a section naming both a file and a table (which one
// the receiver writes is not for callstats to guess), and turning the
// reconcile sweep off when there is no queue: listing is then how calls are
// found.
func (c *Config) validateQueue() error {
	q := c.Queue
	switch {
	case q.Path != "" && q.AzureTable != nil:
		return errors.New("queue.path, queue.azure_table: set only one: the file the receiver writes, or its Azure table")
	case q.Kind() == QueueNone && c.Reconcile.Disabled && c.Teams != nil:
		return errors.New("reconcile.disabled: with no queue section, listing each day is how Teams calls are found: set queue.path or queue.azure_table, or leave reconcile on")
	}
	return nil
}
