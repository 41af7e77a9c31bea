package transform

import (
	"math"
	"strings"

	"callstats/extract/graph"
)

// MediaType is the kind of media a stream carries, told by its media label.
type MediaType string

// Media types.
const (
	MediaAudio MediaType = "audio"
	MediaVideo MediaType = "video"
	MediaVBSS  MediaType = "vbss" // video-based screen sharing
	MediaOther MediaType = "other"
)

// Quality is a stream's class by Microsoft CQD's thresholds.
type Quality string

// Stream qualities. Unclassified streams count neither as good nor as poor.
const (
	QualityGood         Quality = "good"
	QualityPoor         Quality = "poor"
	QualityUnclassified Quality = "unclassified"
)

// CQD's limits. A value exactly at a limit is within it.
const (
	audioDegradationMax   = 1.0  // averageAudioDegradation (MOS points)
	concealedRatioMax     = 0.07 // averageRatioOfConcealedSamples
	roundTripMsMax        = 500  // averageRoundTripTime
	packetLossRateMax     = 0.1  // averagePacketLossRate
	jitterMsMax           = 30   // averageJitter
	videoFrameLossPctMax  = 50   // averageVideoFrameLossPercentage
	videoFrameRateMin     = 7    // averageVideoFrameRate / averageReceivedFrameRate, video
	vbssFrameRateMin      = 2    // the same, screen sharing
	postFECPacketLossRate = 0.15 // postForwardErrorCorrectionPacketLossRate
)

// MediaTypeOf tells the media type from a media label (case-insensitively): a
// label containing "audio" is audio; one beginning with "applicationsharing" is
// VBSS; any other containing "video" is video; anything else is other.
func MediaTypeOf(label string) MediaType {
	l := strings.ToLower(label) // no copy when already lower case
	switch {
	case strings.Contains(l, "audio"):
		return MediaAudio
	case strings.HasPrefix(l, "applicationsharing"):
		return MediaVBSS
	case strings.Contains(l, "video"):
		return MediaVideo
	}
	return MediaOther
}

// Classify returns the media type of a stream of the media labelled label and
// its quality by CQD's rules (DESIGN.md "Call quality"). Streams of other media,
// and a nil stream, are unclassified.
func Classify(label string, s *graph.Stream) (MediaType, Quality) {
	mt := MediaTypeOf(label)
	return mt, classify(mt, s)
}

func classify(mt MediaType, s *graph.Stream) Quality {
	if s == nil {
		return QualityUnclassified
	}
	switch mt {
	case MediaAudio:
		return classifyAudio(s)
	case MediaVideo:
		return classifyVideo(s, videoFrameRateMin)
	case MediaVBSS:
		return classifyVideo(s, vbssFrameRateMin)
	}
	return QualityUnclassified
}

// classifyAudio: poor when any reported metric crosses its limit, good when at
// least one applicable metric is reported and none crosses, else unclassified.
// Degradation and concealed ratio do not apply to SATIN.
func classifyAudio(s *graph.Stream) Quality {
	present, poor := false, false
	if !isSatin(s.AudioCodec) {
		if v := s.AverageAudioDegradation; v != nil {
			present, poor = true, poor || *v > audioDegradationMax
		}
		if v := s.AverageRatioOfConcealedSamples; v != nil {
			present, poor = true, poor || *v > concealedRatioMax
		}
	}
	if v := s.AverageRoundTripTime; v != nil {
		present, poor = true, poor || ms(*v) > roundTripMsMax
	}
	if v := s.AveragePacketLossRate; v != nil {
		present, poor = true, poor || *v > packetLossRateMax
	}
	if v := s.AverageJitter; v != nil {
		present, poor = true, poor || ms(*v) > jitterMsMax
	}
	switch {
	case poor:
		return QualityPoor
	case present:
		return QualityGood
	}
	return QualityUnclassified
}

// classifyVideo: the first metric reported of frame loss, frame rate (sent, else
// received) and post-FEC packet loss decides.
func classifyVideo(s *graph.Stream, minFrameRate float64) Quality {
	if v := s.AverageVideoFrameLossPercentage; v != nil {
		return verdict(*v > videoFrameLossPctMax)
	}
	fr := s.AverageVideoFrameRate
	if fr == nil {
		fr = s.AverageReceivedFrameRate
	}
	if fr != nil {
		return verdict(*fr < minFrameRate)
	}
	if v := s.PostForwardErrorCorrectionPacketLossRate; v != nil {
		return verdict(*v > postFECPacketLossRate)
	}
	return QualityUnclassified
}

func verdict(poor bool) Quality {
	if poor {
		return QualityPoor
	}
	return QualityGood
}

func isSatin(codec *string) bool {
	return codec != nil && (strings.EqualFold(*codec, "satin") || strings.EqualFold(*codec, "satinFullband"))
}

// ms converts a duration to milliseconds, rounded to Graph's resolution of 100 ns
// so that "PT0.03S" is exactly 30 ms (a plain product would be 30.000000000000004).
func ms(d graph.Duration) float64 { return math.Round(float64(d)*1e7) / 1e4 }

// seconds returns a duration in seconds, rounded to 100 ns like ms.
func seconds(d graph.Duration) float64 { return math.Round(float64(d)*1e7) / 1e7 }
