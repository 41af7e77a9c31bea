package delivery

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"callstats/internal/atomicfile"
)

// A Send is what is recorded of one recipient's mail for a week.
type Send struct {
	Address  string    `json:"address"`
	Scope    string    `json:"scope,omitempty"` // the scope's slug; "" tenant-wide
	Workbook string    `json:"workbook"`        // file name of the attachment
	Link     string    `json:"link,omitempty"`  // web URL of the uploaded workbook (delivery.upload)
	Sent     bool      `json:"sent"`
	At       time.Time `json:"at"` // last attempt
	Attempts int       `json:"attempts"`
	// Error is the last attempt's error when Sent is false; Permanent says
	// the server refused the message or the address for good (it is still
	// retried on the next run, the configuration may have been fixed).
	Error     string `json:"error,omitempty"`
	Permanent bool   `json:"permanent,omitempty"`
}

// key identifies a recipient's mail within a week.
func (s Send) key() string { return strings.ToLower(s.Address) + "|" + s.Scope }

// State is the record of one week's sends.
type State struct {
	Week  string `json:"week"`
	Sends []Send `json:"sends"`
}

func (st *State) find(key string) *Send {
	for i := range st.Sends {
		if st.Sends[i].key() == key {
			return &st.Sends[i]
		}
	}
	return nil
}

func (st *State) put(s Send) {
	if p := st.find(s.key()); p != nil {
		*p = s
		return
	}
	st.Sends = append(st.Sends, s)
}

// statePath is {stateDir}/delivery/<week>.json.
func statePath(stateDir, week string) string {
	return filepath.Join(stateDir, "delivery", week+".json")
}

// LoadState reads the record of a week's sends; an empty State when there
// is none yet.
func LoadState(stateDir, week string) (*State, error) {
	b, err := os.ReadFile(statePath(stateDir, week))
	if errors.Is(err, fs.ErrNotExist) {
		return &State{Week: week}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading delivery state of %s: %w", week, err)
	}
	var st State
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("reading delivery state of %s: %w", week, err)
	}
	st.Week = week
	return &st, nil
}

// saveState writes st atomically: temp file, fsync, rename, fsync of the
// directory.
func saveState(stateDir string, st *State) error {
	path := statePath(stateDir, st.Week)
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, append(b, '\n'))
}

// Failed lists the sends of every recorded week that have not succeeded
// (they are retried by the next deliver of that week), oldest week first,
// for `callstats status`.
func Failed(stateDir string) ([]State, error) {
	names, err := filepath.Glob(filepath.Join(stateDir, "delivery", "*.json"))
	if err != nil {
		return nil, err
	}
	slices.Sort(names)
	var out []State
	for _, n := range names {
		st, err := LoadState(stateDir, strings.TrimSuffix(filepath.Base(n), ".json"))
		if err != nil {
			return nil, err
		}
		var bad []Send
		for _, s := range st.Sends {
			if !s.Sent {
				bad = append(bad, s)
			}
		}
		if len(bad) > 0 {
			out = append(out, State{Week: st.Week, Sends: bad})
		}
	}
	return out, nil
}
