package jobs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"callstats/extract/ringcentral"
	"callstats/internal/atomicfile"
)

// PendingRecording is a recording whose audio could not be saved yet (404
// until RingCentral has processed it).
type PendingRecording struct {
	ID         string    `json:"id"`
	ContentURI string    `json:"content_uri"`
	Date       string    `json:"date"`
	First      time.Time `json:"first"`
	Attempts   int       `json:"attempts"`
	LastError  string    `json:"last_error,omitempty"`
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

// saveRecordings downloads pending recordings; those not ready stay pending.
func (s *ringCentralSource) saveRecordings(ctx context.Context, r *runner) error {
	for _, id := range sortedKeys(r.st.recordings) {
		pr := r.st.recordings[id]
		pr.Attempts++
		err := s.saveRecording(ctx, r, pr)
		switch {
		case err == nil:
			delete(r.st.recordings, id)
			r.sum.RecordingsSaved++
		case errors.Is(err, ringcentral.ErrAuth):
			return cannot(err)
		case ctx.Err() != nil:
			return cannot(fmt.Errorf("interrupted: %w", ctx.Err()))
		default:
			pr.LastError = err.Error()
			r.log.Debug("recording not saved yet", "id", id, "error", err)
		}
	}
	r.sum.RecordingsPending = len(r.st.recordings)
	return nil
}

// saveRecording streams one recording into place atomically.
func (s *ringCentralSource) saveRecording(ctx context.Context, r *runner, pr *PendingRecording) error {
	body, ctype, err := s.client.Recording(ctx, pr.ContentURI)
	if err != nil {
		return fmt.Errorf("recording %s: %w", pr.ID, err)
	}
	defer body.Close()
	ext, err := ringcentral.RecordingExt(ctype)
	if err != nil {
		return fmt.Errorf("recording %s: %w", pr.ID, err)
	}
	final, err := r.recordingPath(pr.Date, pr.ID, ext)
	if err != nil {
		return err
	}
	if err := atomicfile.Write(final, func(w io.Writer) error {
		_, err := io.Copy(w, body)
		return err
	}); err != nil {
		return fmt.Errorf("saving recording %s: %w", pr.ID, err)
	}
	return nil
}
