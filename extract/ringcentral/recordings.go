package ringcentral

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"

	"callstats/internal/httpretry"
)

// idPattern is what an id from RingCentral may be before it goes into a URL
// or a file name: letters, digits, '-' and '_', at most 128.
var idPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)

// CheckID reports an id from RingCentral (a record's or a recording's) that
// may not be used in a URL or a path, as an error wrapping ErrInvalidID and
// naming it: ".", "..", anything with '/', '%' or other characters.
func CheckID(id string) error {
	if !idPattern.MatchString(id) {
		return fmt.Errorf("%w: %q is not a RingCentral id", ErrInvalidID, id)
	}
	return nil
}

// Recording GETs a recording's audio from its content URI
// (Recording.ContentURI) and returns the open body, which the caller closes,
// and its Content-Type (audio/mpeg or audio/wav; see RecordingExt). Content
// requests are in the Heavy group and paced with the call log. A 404 (not
// ready yet, or gone) is ErrNotReady. A URI on an origin other than the
// server's or the media host's is refused before anything is sent, and a
// redirect off the request's origin is refused (ErrSourceFailed). The body
// fails its read with ErrTooLarge past MaxRecordingBytes (at once when the
// Content-Length says so), and with a transient error when it stalls.
func (c *Client) Recording(ctx context.Context, contentURI string) (io.ReadCloser, string, error) {
	resp, err := c.recording(ctx, contentURI)
	if err != nil {
		return nil, "", err
	}
	return resp.Body, resp.Header.Get("Content-Type"), nil
}

// CopyRecording copies a recording's audio (see Recording) to w and returns
// its file extension (see RecordingExt) and its size. Nothing is written
// unless the answer is audio from an allowed origin. A recording over
// MaxRecordingBytes is ErrTooLarge; a failing w (a full disk) is ErrWrite,
// an error of the run; a body cut or stalled is ErrSourceFailed (retryable).
// On an error, what was written is to be discarded.
func (c *Client) CopyRecording(ctx context.Context, contentURI string, w io.Writer) (string, int64, error) {
	resp, err := c.recording(ctx, contentURI)
	if err != nil {
		return "", 0, err
	}
	defer resp.Body.Close()
	ext, err := RecordingExt(resp.Header.Get("Content-Type"))
	if err != nil {
		return "", 0, fmt.Errorf("fetching recording %s: %w", contentURI, err)
	}
	n, err := io.Copy(writeTagger{w}, resp.Body)
	switch {
	case err == nil:
		return ext, n, nil
	case errors.Is(err, ErrWrite), errors.Is(err, ErrTooLarge):
		return "", n, fmt.Errorf("recording %s: %w", contentURI, err)
	case ctx.Err() != nil:
		return "", n, ctx.Err()
	}
	return "", n, fmt.Errorf("%w: reading recording %s: %w", ErrSourceFailed, contentURI, err)
}

// recording GETs the content URI and returns the answer with its body open
// and capped.
func (c *Client) recording(ctx context.Context, contentURI string) (*http.Response, error) {
	if err := c.checkMedia(contentURI); err != nil {
		return nil, fmt.Errorf("fetching recording %s: %w", contentURI, err)
	}
	var out *http.Response
	err := c.get(ctx, contentURI, "audio/mpeg, audio/wav, audio/*", httpretry.Progress{Stall: c.stall},
		func(resp *http.Response) (bool, error) {
			if resp.ContentLength > c.maxRecording {
				return false, fmt.Errorf("%w: %d bytes, the cap is %d (ringcentral.max_recording_bytes)",
					ErrTooLarge, resp.ContentLength, c.maxRecording)
			}
			resp.Body = &cappedBody{rc: resp.Body, left: c.maxRecording, limit: c.maxRecording}
			out = resp
			return true, nil
		})
	if err != nil {
		if out != nil { // kept, then the context ended
			out.Body.Close()
		}
		if ae, ok := errors.AsType[*APIError](err); ok && ae.Status == http.StatusNotFound {
			err = fmt.Errorf("%w: %w", ErrNotReady, err)
		}
		return nil, fmt.Errorf("fetching recording %s: %w", contentURI, err)
	}
	return out, nil
}

// cappedBody fails its read with ErrTooLarge once more than limit bytes came.
type cappedBody struct {
	rc          io.ReadCloser
	left, limit int64
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.left < 0 {
		return 0, fmt.Errorf("%w: over %d bytes (ringcentral.max_recording_bytes)", ErrTooLarge, b.limit)
	}
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		return 0, fmt.Errorf("%w: over %d bytes (ringcentral.max_recording_bytes)", ErrTooLarge, b.limit)
	}
	return n, err
}

func (b *cappedBody) Close() error { return b.rc.Close() }

// writeTagger marks the errors of w as ErrWrite.
type writeTagger struct{ w io.Writer }

func (t writeTagger) Write(p []byte) (int, error) {
	n, err := t.w.Write(p)
	if err != nil {
		err = fmt.Errorf("%w: %w", ErrWrite, err)
	}
	return n, err
}

// checkMedia accepts an absolute URI on the server's or the media host's
// origin (scheme, host and port).
func (c *Client) checkMedia(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("content URI: %v", err) // %v: a *url.Error is a net.Error, but this is permanent
	}
	for _, h := range []*url.URL{c.media, c.server} {
		if httpretry.SameOrigin(u, h) {
			return nil
		}
	}
	return fmt.Errorf("refusing content URI on %s: neither the server %s nor the media host %s",
		httpretry.Origin(u), httpretry.Origin(c.server), httpretry.Origin(c.media))
}

// RecordingExt is the file extension for a recording's Content-Type: "mp3"
// for audio/mpeg, "wav" for audio/wav (and its aliases audio/x-wav,
// audio/wave, audio/vnd.wave). Other types are an error.
func RecordingExt(contentType string) (string, error) {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return "", fmt.Errorf("recording content type %q: %w", contentType, err)
	}
	switch mt {
	case "audio/mpeg", "audio/mp3":
		return "mp3", nil
	case "audio/wav", "audio/x-wav", "audio/wave", "audio/vnd.wave":
		return "wav", nil
	}
	return "", fmt.Errorf("recording content type %q is neither audio/mpeg nor audio/wav", contentType)
}
