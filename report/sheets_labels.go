package report

// Labels: how the sheets spell values from the lake.

import "strings"

var (
	platformNames = map[string]string{
		"windows": "Windows", "macOS": "macOS", "iOS": "iOS", "android": "Android", "web": "Web browser",
		"ipPhone": "IP phone", "roomSystem": "Room system", "surfaceHub": "Surface Hub", "holoLens": "HoloLens",
		"unknown": "Unknown", "unknownFutureValue": "Other (newer value)",
	}
	familyNames = map[string]string{
		"teams": "Teams", "skypeForBusiness": "Skype for Business", "lync": "Lync", "teamsForLife": "Teams (personal)",
		"azureCommunicationServices": "Azure Communication Services", "unknown": "Unknown", "unknownFutureValue": "Other (newer value)",
	}
	connNames = map[string]string{
		"wired": "Wired", "wifi": "Wi-Fi", "mobile": "Mobile", "tunnel": "VPN tunnel", "unknown": "Unknown",
		"unknownFutureValue": "Other (newer value)",
	}
	mediaNames = map[string]string{
		"audio": "Audio", "video": "Video", "vbss": "Screen sharing (VBSS)", "other": "Other (data, not classified)",
	}
	ratingNames = map[string]string{
		"excellent": "Excellent", "good": "Good", "fair": "Fair", "poor": "Poor", "bad": "Bad", "notRated": "Not rated",
		"unknownFutureValue": "Other (newer value)",
	}
	sourceNames = map[string]string{"teams": "Teams", "ringcentral": "RingCentral"}
)

func ratingOrder(r string) int {
	for i, k := range []string{"excellent", "good", "fair", "poor", "bad", "notRated"} {
		if r == k {
			return i
		}
	}
	return 10
}

// label is the display name of a value; unknown values show as they are.
func label(pretty map[string]string, v string) string {
	if p, ok := pretty[v]; ok {
		return p
	}
	if v == "" {
		return notReported
	}
	return v
}

// splitWords turns a feedback token name into words: "DistortedSpeech" -> "Distorted speech".
func splitWords(s string) string {
	var b strings.Builder
	rs := []rune(s)
	for i, r := range rs {
		if i > 0 && r >= 'A' && r <= 'Z' && rs[i-1] >= 'a' && rs[i-1] <= 'z' {
			b.WriteByte(' ')
			if i+1 < len(rs) && rs[i+1] >= 'a' && rs[i+1] <= 'z' {
				r += 'a' - 'A'
			}
		}
		b.WriteRune(r)
	}
	return b.String()
}
