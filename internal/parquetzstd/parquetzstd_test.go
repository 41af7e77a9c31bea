package parquetzstd

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/parquet/compress"
)

// arrowCodec is arrow-go's own zstd codec, the peer: the one this package
// registered wraps it.
func arrowCodec(t testing.TB) compress.Codec {
	t.Helper()
	c, err := compress.GetCodec(compress.Codecs.Zstd)
	if err != nil {
		t.Fatal(err)
	}
	w, ok := c.(*Codec)
	if !ok {
		t.Fatalf("the registered zstd codec is %T, want *parquetzstd.Codec", c)
	}
	return w.base
}

// page is n bytes that compress as a Parquet page does: runs, repeats and noise.
func page(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, 0, n)
	for len(b) < n {
		switch r.IntN(3) {
		case 0:
			b = append(b, bytes.Repeat([]byte{byte(r.IntN(4))}, 1+r.IntN(64))...)
		case 1:
			b = fmt.Appendf(b, "call-%08d;", r.IntN(5000))
		default:
			b = append(b, byte(r.Uint32()))
		}
	}
	return b[:n]
}

// TestSameBytesAsArrow: the pages are the bytes arrow-go's codec writes, at
// every level the writer properties can name, and decode to the input.
func TestSameBytesAsArrow(t *testing.T) {
	peer := arrowCodec(t)
	c, _ := compress.GetCodec(compress.Codecs.Zstd)
	for _, level := range []int{compress.DefaultCompressionLevel, 1, 3, 7, 11} {
		for _, n := range []int{1, 100, 64 << 10, 256 << 10} {
			src := page(n, uint64(n+level))
			// Twice: the second time on an encoder that was used before.
			for round := range 2 {
				got := c.EncodeLevel(nil, src, level)
				want := peer.EncodeLevel(nil, src, level)
				if !bytes.Equal(got, want) {
					t.Fatalf("level %d, %d bytes, round %d: %d bytes differ from arrow-go's %d", level, n, round, len(got), len(want))
				}
				back, err := compress.Decode(c, nil, got)
				if err != nil || !bytes.Equal(back, src) {
					t.Fatalf("level %d, %d bytes: decoded %d bytes, err %v", level, n, len(back), err)
				}
			}
		}
	}
	if got, want := c.Encode(nil, page(4096, 9)), peer.Encode(nil, page(4096, 9)); !bytes.Equal(got, want) {
		t.Fatalf("Encode: %d bytes differ from arrow-go's %d", len(got), len(want))
	}
	if _, ok := c.(compress.StreamingCodec); !ok {
		t.Fatal("the codec lost arrow-go's streams (the page reader needs them)")
	}
}

// TestConcurrentPages: page writers encode at once (run with -race); each
// gets its own bytes back, and the free list keeps at most keep encoders.
func TestConcurrentPages(t *testing.T) {
	c, _ := compress.GetCodec(compress.Codecs.Zstd)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 20 {
				src := page(8<<10, uint64(g*100+i))
				back, err := compress.Decode(c, nil, c.EncodeLevel(nil, src, 3))
				if err != nil || !bytes.Equal(back, src) {
					t.Errorf("writer %d page %d: round trip failed: %v", g, i, err)
					return
				}
			}
		})
	}
	wg.Wait()
	w := c.(*Codec)
	w.mu.Lock()
	defer w.mu.Unlock()
	for l, free := range w.idle {
		if len(free) > w.keep {
			t.Errorf("level %v keeps %d idle encoders, want at most %d", l, len(free), w.keep)
		}
	}
}

// BenchmarkPages encodes 256 KiB pages with arrow-go's codec and with this
// one, with no garbage collection between pages and with one every 8 pages
// (a writer under a soft memory limit collects that often): arrow-go's pool
// loses its encoders to each.
func BenchmarkPages(b *testing.B) {
	src := page(256<<10, 1)
	ours, _ := compress.GetCodec(compress.Codecs.Zstd)
	for _, gcEvery := range []int{0, 8} {
		for _, tc := range []struct {
			name  string
			codec compress.Codec
		}{{"arrow-go", arrowCodec(b)}, {"parquetzstd", ours}} {
			b.Run(fmt.Sprintf("gc-every-%d/%s", gcEvery, tc.name), func(b *testing.B) {
				b.SetBytes(int64(len(src)))
				b.ReportAllocs()
				dst := make([]byte, 0, len(src))
				i := 0
				for b.Loop() {
					if gcEvery > 0 && i%gcEvery == 0 {
						runtime.GC()
					}
					i++
					dst = tc.codec.EncodeLevel(dst[:0], src, 3)
				}
			})
		}
	}
}
