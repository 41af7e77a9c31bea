package transform

import (
	"testing"

	"callstats/extract/graph"
)

func f(v float64) *float64 { return &v }

func dur(seconds float64) *graph.Duration { d := graph.Duration(seconds); return &d }

func str(s string) *string { return &s }

func TestMediaTypeOf(t *testing.T) {
	tests := []struct {
		label string
		want  MediaType
	}{
		{"main-audio", MediaAudio},
		{"Main-Audio", MediaAudio},
		{"applicationsharing-audio", MediaAudio}, // "audio" is tested first
		{"main-video", MediaVideo},
		{"panoramic-video", MediaVideo},
		{"applicationsharing-video", MediaVBSS},
		{"applicationsharing", MediaVBSS},
		{"ApplicationSharing-Video", MediaVBSS},
		{"video-applicationsharing", MediaVideo}, // VBSS only by prefix
		{"data", MediaOther},
		{"", MediaOther},
	}
	for _, tc := range tests {
		if got := MediaTypeOf(tc.label); got != tc.want {
			t.Errorf("MediaTypeOf(%q) = %q, want %q", tc.label, got, tc.want)
		}
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		name  string
		label string
		s     *graph.Stream
		want  Quality
	}{
		// Audio: every limit, at (good) and just past (poor) the threshold.
		{"audio no metrics", "main-audio", &graph.Stream{}, QualityUnclassified},
		{"audio nil stream", "main-audio", nil, QualityUnclassified},
		{"audio degradation at limit", "main-audio", &graph.Stream{AverageAudioDegradation: f(1.0)}, QualityGood},
		{"audio degradation past limit", "main-audio", &graph.Stream{AverageAudioDegradation: f(1.0001)}, QualityPoor},
		{"audio concealed at limit", "main-audio", &graph.Stream{AverageRatioOfConcealedSamples: f(0.07)}, QualityGood},
		{"audio concealed past limit", "main-audio", &graph.Stream{AverageRatioOfConcealedSamples: f(0.0701)}, QualityPoor},
		{"audio RTT at limit", "main-audio", &graph.Stream{AverageRoundTripTime: dur(0.5)}, QualityGood},
		{"audio RTT past limit", "main-audio", &graph.Stream{AverageRoundTripTime: dur(0.5001)}, QualityPoor},
		{"audio loss at limit", "main-audio", &graph.Stream{AveragePacketLossRate: f(0.1)}, QualityGood},
		{"audio loss past limit", "main-audio", &graph.Stream{AveragePacketLossRate: f(0.1001)}, QualityPoor},
		{"audio jitter at limit", "main-audio", &graph.Stream{AverageJitter: dur(0.03)}, QualityGood},
		{"audio jitter past limit", "main-audio", &graph.Stream{AverageJitter: dur(0.0301)}, QualityPoor},
		{"audio one bad among good", "main-audio", &graph.Stream{
			AverageJitter: dur(0.005), AveragePacketLossRate: f(0.01), AverageRoundTripTime: dur(0.6),
		}, QualityPoor},
		{"audio max metrics do not count", "main-audio", &graph.Stream{
			MaxJitter: dur(1), MaxPacketLossRate: f(0.9), MaxRoundTripTime: dur(3), AverageAudioNetworkJitter: dur(1),
		}, QualityUnclassified},
		// SATIN is exempt from degradation and concealed ratio, whatever the case.
		{"satin degradation skipped", "main-audio", &graph.Stream{
			AudioCodec: str("satin"), AverageAudioDegradation: f(3), AverageRatioOfConcealedSamples: f(0.5), AverageJitter: dur(0.01),
		}, QualityGood},
		{"satinFullband skipped", "main-audio", &graph.Stream{
			AudioCodec: str("SatinFullBand"), AverageAudioDegradation: f(3), AverageRoundTripTime: dur(0.1),
		}, QualityGood},
		{"satin with only exempt metrics", "main-audio", &graph.Stream{
			AudioCodec: str("SATIN"), AverageAudioDegradation: f(3), AverageRatioOfConcealedSamples: f(0.5),
		}, QualityUnclassified},
		{"satin still poor on jitter", "main-audio", &graph.Stream{AudioCodec: str("satin"), AverageJitter: dur(0.031)}, QualityPoor},
		{"opus not exempt", "main-audio", &graph.Stream{AudioCodec: str("opus"), AverageAudioDegradation: f(1.5)}, QualityPoor},
		{"satin-like codec not exempt", "main-audio", &graph.Stream{AudioCodec: str("satinX"), AverageAudioDegradation: f(1.5)}, QualityPoor},

		// Video ladder: the first metric present decides.
		{"video no metrics", "main-video", &graph.Stream{AverageJitter: dur(1)}, QualityUnclassified},
		{"video frame loss at limit", "main-video", &graph.Stream{AverageVideoFrameLossPercentage: f(50)}, QualityGood},
		{"video frame loss past limit", "main-video", &graph.Stream{AverageVideoFrameLossPercentage: f(50.01)}, QualityPoor},
		{"video frame loss decides over rate", "main-video", &graph.Stream{
			AverageVideoFrameLossPercentage: f(10), AverageVideoFrameRate: f(1), PostForwardErrorCorrectionPacketLossRate: f(0.9),
		}, QualityGood},
		{"video frame rate at limit", "main-video", &graph.Stream{AverageVideoFrameRate: f(7)}, QualityGood},
		{"video frame rate under limit", "main-video", &graph.Stream{AverageVideoFrameRate: f(6.99)}, QualityPoor},
		{"video sent rate before received", "main-video", &graph.Stream{
			AverageVideoFrameRate: f(20), AverageReceivedFrameRate: f(1),
		}, QualityGood},
		{"video received rate when sent absent", "main-video", &graph.Stream{AverageReceivedFrameRate: f(6.5)}, QualityPoor},
		{"video rate decides over FEC", "main-video", &graph.Stream{
			AverageReceivedFrameRate: f(25), PostForwardErrorCorrectionPacketLossRate: f(0.5),
		}, QualityGood},
		{"video FEC at limit", "main-video", &graph.Stream{PostForwardErrorCorrectionPacketLossRate: f(0.15)}, QualityGood},
		{"video FEC past limit", "main-video", &graph.Stream{PostForwardErrorCorrectionPacketLossRate: f(0.1501)}, QualityPoor},

		// VBSS: the same ladder with frame rate < 2.
		{"vbss frame rate at limit", "applicationsharing-video", &graph.Stream{AverageVideoFrameRate: f(2)}, QualityGood},
		{"vbss frame rate under limit", "applicationsharing-video", &graph.Stream{AverageVideoFrameRate: f(1.99)}, QualityPoor},
		{"vbss frame loss past limit", "applicationsharing-video", &graph.Stream{AverageVideoFrameLossPercentage: f(51)}, QualityPoor},
		{"vbss FEC past limit", "applicationsharing-video", &graph.Stream{PostForwardErrorCorrectionPacketLossRate: f(0.2)}, QualityPoor},
		{"vbss no metrics", "applicationsharing-video", &graph.Stream{}, QualityUnclassified},

		// Other media is never classified.
		{"other with bad metrics", "data", &graph.Stream{AverageJitter: dur(1), AverageVideoFrameRate: f(0)}, QualityUnclassified},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mt, q := Classify(tc.label, tc.s)
			if mt != MediaTypeOf(tc.label) {
				t.Errorf("media type %q, want %q", mt, MediaTypeOf(tc.label))
			}
			if q != tc.want {
				t.Errorf("Classify(%q) = %q, want %q", tc.label, q, tc.want)
			}
		})
	}
}

// TestClassifySamples checks the CQD cases the sample group call was built to show.
func TestClassifySamples(t *testing.T) {
	rec := groupCall(t)
	want := map[string]struct {
		mt MediaType
		q  Quality
	}{
		"2204958731": {MediaAudio, QualityPoor},         // opus, every metric past its limit
		"2204958732": {MediaVideo, QualityUnclassified}, // no metrics
		"0917735264": {MediaAudio, QualityGood},         // good only by the SATIN exemption
		"0917735265": {MediaVideo, QualityGood},         // no frame loss: 14.8 fps decides
		"1841207555": {MediaVBSS, QualityGood},          // 4.62 fps: fine for VBSS, poor for video
		"1841207553": {MediaAudio, QualityGood},
		"1841207554": {MediaVideo, QualityGood},
	}
	seen := 0
	for _, s := range rec.Sessions {
		for _, g := range s.Segments {
			for _, m := range g.Media {
				for i := range m.Streams {
					st := &m.Streams[i]
					w, ok := want[*st.StreamID]
					if !ok {
						continue
					}
					seen++
					mt, q := Classify(*m.Label, st)
					if mt != w.mt || q != w.q {
						t.Errorf("stream %s (%s): got %s/%s, want %s/%s", *st.StreamID, *m.Label, mt, q, w.mt, w.q)
					}
				}
			}
		}
	}
	if seen != len(want) {
		t.Errorf("found %d of the %d sample streams", seen, len(want))
	}

	// The exemption is what makes 0917735264 good, and the VBSS threshold what
	// makes 1841207555 good: the same metrics under other rules are poor.
	for _, s := range rec.Sessions {
		for _, g := range s.Segments {
			for _, m := range g.Media {
				for _, st := range m.Streams {
					switch *st.StreamID {
					case "0917735264":
						st.AudioCodec = str("opus")
						if _, q := Classify(*m.Label, &st); q != QualityPoor {
							t.Errorf("0917735264 without SATIN: %s, want poor", q)
						}
					case "1841207555":
						if _, q := Classify("main-video", &st); q != QualityPoor {
							t.Errorf("1841207555 as video: %s, want poor", q)
						}
					}
				}
			}
		}
	}
}

func TestMs(t *testing.T) {
	for _, tc := range []struct {
		iso  string
		want float64
	}{
		{"PT0.03S", 30}, {"PT0.5S", 500}, {"PT0.016S", 16}, {"PT0.0000001S", 0.0001}, {"PT1M", 60000},
	} {
		s, err := graph.ParseDuration(tc.iso)
		if err != nil {
			t.Fatal(err)
		}
		if got := ms(graph.Duration(s)); got != tc.want {
			t.Errorf("ms(%s) = %v, want %v", tc.iso, got, tc.want)
		}
	}
}
