package config

import (
	"fmt"
	"net/mail"
	"strings"
)

// How the workbooks are mailed (delivery.via).
const (
	ViaSMTP  = "smtp"  // the SMTP server of delivery.host
	ViaGraph = "graph" // Microsoft Graph sendMail, as delivery.sender
)

// How delivery signs in to the SMTP server (delivery.auth).
const (
	// SMTPAuthPassword is delivery.user with its password (or no
	// authentication when delivery.user is empty).
	SMTPAuthPassword = "password"
	// SMTPAuthXOAUTH2 is the XOAUTH2 mechanism with a token of the teams
	// app for Exchange Online, as the mailbox delivery.user.
	SMTPAuthXOAUTH2 = "xoauth2"
)

// DeliveryUpload is the SharePoint document library or OneDrive folder
// every workbook is uploaded to (delivery.upload).
type DeliveryUpload struct {
	DriveID string `yaml:"drive_id"` // the drive (document library) id
	Folder  string `yaml:"folder"`   // path under the drive's root, "Reports/Calls"; "" the root
}

// SenderMailbox is the mailbox Graph sends as: delivery.sender, or the
// address of delivery.from when sender is empty.
func (d *Delivery) SenderMailbox() string {
	if d.Sender != "" {
		return d.Sender
	}
	if a, err := mail.ParseAddress(d.From); err == nil {
		return a.Address
	}
	return ""
}

// validateMicrosoft reports the problems with the keys of mail through
// Graph, SMTP with OAuth and the upload. Each of them signs in as the teams
// app, so it needs the teams section.
func (d *Delivery) validateMicrosoft(teams *Teams) []error {
	var errs []error
	switch d.Via {
	case ViaSMTP, ViaGraph:
	default:
		errs = append(errs, fmt.Errorf("delivery.via: must be smtp or graph, got %q", d.Via))
	}
	switch d.Auth {
	case SMTPAuthPassword:
	case SMTPAuthXOAUTH2:
		if d.Via == ViaGraph {
			errs = append(errs, fmt.Errorf("delivery.auth: xoauth2 is for delivery.via: smtp; Graph signs in as the teams app"))
		}
		if d.User == "" {
			errs = append(errs, fmt.Errorf("delivery.user: required with delivery.auth: xoauth2: the mailbox the app sends as"))
		}
		if d.PasswordEnv != "" || d.PasswordFile != "" {
			errs = append(errs, fmt.Errorf("delivery.password_env: not used with delivery.auth: xoauth2 (the token comes from the teams app)"))
		}
	default:
		errs = append(errs, fmt.Errorf("delivery.auth: must be password or xoauth2, got %q", d.Auth))
	}
	if d.Sender != "" {
		if d.Via != ViaGraph {
			errs = append(errs, fmt.Errorf("delivery.sender: set only with delivery.via: graph (SMTP sends as delivery.from)"))
		} else if strings.ContainsAny(d.Sender, "/?#") || strings.TrimSpace(d.Sender) != d.Sender {
			errs = append(errs, fmt.Errorf("delivery.sender: must be a user principal name or user id, got %q", d.Sender))
		}
	}
	if u := d.Upload; u != nil {
		if u.DriveID == "" {
			errs = append(errs, fmt.Errorf("delivery.upload.drive_id: required: the id of the document library or OneDrive"))
		} else if strings.ContainsAny(u.DriveID, "/?#") {
			errs = append(errs, fmt.Errorf("delivery.upload.drive_id: must be a drive id, got %q", u.DriveID))
		}
		if strings.HasPrefix(u.Folder, "/") || strings.HasSuffix(u.Folder, "/") || strings.Contains(u.Folder, "//") ||
			strings.ContainsAny(u.Folder, ":?#\\") {
			errs = append(errs, fmt.Errorf("delivery.upload.folder: must be a path like Reports/Calls, without leading or trailing slash, ':', '?', '#' or '\\', got %q", u.Folder))
		}
	}
	if !d.Attach && d.Upload == nil {
		errs = append(errs, fmt.Errorf("delivery.attach: false needs delivery.upload: the mail links to the uploaded workbook instead"))
	}
	needsApp := ""
	switch {
	case d.Via == ViaGraph:
		needsApp = "delivery.via: graph"
	case d.Auth == SMTPAuthXOAUTH2:
		needsApp = "delivery.auth: xoauth2"
	case d.Upload != nil:
		needsApp = "delivery.upload"
	}
	if needsApp != "" && teams == nil {
		errs = append(errs, fmt.Errorf("teams: required with %s: delivery signs in as the teams app", needsApp))
	}
	return errs
}
