package jobs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"callstats/extract/queue"
	"callstats/extract/ringcentral"
	"callstats/internal/atomicfile"
)

// PendingRecording is a recording whose audio could not be saved yet (404
// until RingCentral has processed it), or one refused for good (Refused
// set: over the size cap, or an id that may not be used), kept so that the
// call log's lookback neither downloads nor reports it again; a refused one
// is dropped once the lookback is past.
type PendingRecording struct {
	ID         string    `json:"id"`
	ContentURI string    `json:"content_uri"`
	Date       string    `json:"date"`
	First      time.Time `json:"first"`
	Attempts   int       `json:"attempts"`
	LastError  string    `json:"last_error,omitempty"`
	Refused    string    `json:"refused,omitempty"`
}

// plainID is a recording id that can name a file as it is: RingCentral's
// are digits. Any other id is hashed (see recordingPath).
var plainID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$`)

// recordingPath is where a recording is saved: under the lake's recordings
// directory, in its call's date partition, named by its id. The id comes
// from a server and never forms a path: an id that is not a plain token is
// replaced by its SHA-256, and the path is checked to stay in the partition.
func (r *runner) recordingPath(date, id, ext string) (string, error) {
	if _, err := time.Parse(time.DateOnly, date); err != nil {
		return "", fmt.Errorf("recording %q: bad date %q", id, date)
	}
	if !plainID.MatchString(ext) {
		return "", fmt.Errorf("recording %q: bad extension %q", id, ext)
	}
	name := id
	if !plainID.MatchString(id) {
		sum := sha256.Sum256([]byte(id))
		name = "id-" + hex.EncodeToString(sum[:])
	}
	dir := filepath.Join(r.cfg.Output.Dir, "recordings", "date="+date)
	p := filepath.Join(dir, name+"."+ext)
	if filepath.Dir(p) != dir {
		return "", fmt.Errorf("recording %q: path %s is outside %s", id, p, dir)
	}
	return p, nil
}

// recordingSaved reports whether a recording is saved already.
func (r *runner) recordingSaved(date, id string) bool {
	for _, ext := range []string{"mp3", "wav"} {
		p, err := r.recordingPath(date, id, ext)
		if err != nil {
			return false
		}
		if _, err := os.Stat(p); err == nil {
			return true
		}
	}
	return false
}

// saveRecordings downloads pending recordings; those not ready, or whose
// download failed for now, stay pending. A recording over the size cap is
// refused for good and reported. A recording that cannot be written (a full
// disk) stops the run: exit status 1, as for a lake that cannot be written.
func (s *ringCentralSource) saveRecordings(ctx context.Context, r *runner) error {
	now := r.cfg.Now().UTC()
	fctx, cancel := r.fetchContext(ctx)
	defer cancel()
	waiting := 0
	for _, id := range sortedKeys(r.st.recordings) {
		pr := r.st.recordings[id]
		if pr.Refused != "" {
			if now.Sub(pr.First) > s.cfg.Lookback+day {
				delete(r.st.recordings, id)
			}
			continue
		}
		if r.sum.TimedOut {
			waiting++
			continue
		}
		pr.Attempts++
		err := s.saveRecording(fctx, r, pr)
		if err == nil {
			delete(r.st.recordings, id)
			r.sum.RecordingsSaved++
			continue
		}
		switch {
		case errors.Is(err, ringcentral.ErrAuth), errors.Is(err, ringcentral.ErrWrite):
			return cannot(err)
		case errors.Is(err, ringcentral.ErrTooLarge), errors.Is(err, ringcentral.ErrInvalidID):
			pr.Refused = err.Error()
			r.sum.RecordingsRefused = append(r.sum.RecordingsRefused, RefusedRecording{ID: id, Reason: err.Error()})
			r.log.Warn("recording refused", "id", id, "error", err)
			continue
		}
		if stopped, runErr := r.readStopped(ctx, fctx, err); runErr != nil {
			return runErr
		} else if !stopped {
			pr.LastError = err.Error()
			if errors.Is(err, ringcentral.ErrNotReady) {
				r.log.Debug("recording not ready yet", "id", id, "error", err)
			} else {
				r.sum.sourceFailed(queue.SourceRingCentral, err)
				r.log.Warn("recording not saved; tried again next run", "id", id, "error", err)
			}
		}
		waiting++
	}
	r.sum.RecordingsPending = waiting
	return nil
}

// saveRecording streams one recording into place atomically: into a temp
// file, renamed to its final name (whose extension the answer's type
// decides) once complete. A failing write is ringcentral.ErrWrite.
func (s *ringCentralSource) saveRecording(ctx context.Context, r *runner, pr *PendingRecording) error {
	partial, err := r.recordingPath(pr.Date, pr.ID, "download")
	if err != nil {
		return fmt.Errorf("%w: %w", ringcentral.ErrInvalidID, err)
	}
	f, err := atomicfile.Create(partial)
	if err != nil {
		return fmt.Errorf("%w: saving recording %s: %w", ringcentral.ErrWrite, pr.ID, err)
	}
	ext, _, err := s.client.CopyRecording(ctx, pr.ContentURI, f)
	if err != nil {
		f.Abort()
		return fmt.Errorf("recording %s: %w", pr.ID, err)
	}
	final, err := r.recordingPath(pr.Date, pr.ID, ext)
	if err != nil {
		f.Abort()
		return fmt.Errorf("%w: %w", ringcentral.ErrInvalidID, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("%w: saving recording %s: %w", ringcentral.ErrWrite, pr.ID, err)
	}
	if err := os.Rename(f.TempPath(), final); err != nil {
		os.Remove(f.TempPath())
		return fmt.Errorf("%w: saving recording %s: %w", ringcentral.ErrWrite, pr.ID, err)
	}
	if err := atomicfile.SyncDir(filepath.Dir(final)); err != nil {
		return fmt.Errorf("%w: saving recording %s: %w", ringcentral.ErrWrite, pr.ID, err)
	}
	return nil
}
