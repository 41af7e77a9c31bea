package delivery

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"callstats/config"
)

// uploadWorkbook uploads the workbook at path to the folder of u (replacing
// a file of the same name) through a drive upload session and returns its
// webUrl, the link the mail carries.
func (g *graphAPI) uploadWorkbook(ctx context.Context, u *config.DeliveryUpload, path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("reading workbook: %w", err)
	}
	item := filepath.Base(path)
	if u.Folder != "" {
		item = u.Folder + "/" + item
	}
	var segs []string
	for s := range strings.SplitSeq(item, "/") {
		segs = append(segs, url.PathEscape(s))
	}
	body, err := json.Marshal(map[string]any{"item": map[string]any{"@microsoft.graph.conflictBehavior": "replace"}})
	if err != nil {
		return "", err
	}
	sessionURL := g.base + "/drives/" + url.PathEscape(u.DriveID) + "/items/root:/" + strings.Join(segs, "/") + ":/createUploadSession"
	a, err := g.do(ctx, request{method: http.MethodPost, url: sessionURL, body: body})
	if err != nil {
		return "", fmt.Errorf("uploading %s: creating the upload session: %w", item, err)
	}
	uploadURL, err := uploadSessionURL(a)
	if err != nil {
		return "", fmt.Errorf("uploading %s: %w", item, err)
	}
	a, err = g.upload(ctx, driveSession, uploadURL, data)
	if err != nil {
		return "", fmt.Errorf("uploading %s: %w", item, err)
	}
	var di struct {
		WebURL string `json:"webUrl"`
	}
	if err := json.Unmarshal(a.body, &di); err != nil || di.WebURL == "" {
		return "", fmt.Errorf("uploading %s: the drive item has no webUrl", item)
	}
	return di.WebURL, nil
}
