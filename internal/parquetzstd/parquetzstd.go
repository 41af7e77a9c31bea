// Package parquetzstd replaces arrow-go's zstd codec for Parquet pages with
// one that keeps its encoders.
//
// arrow-go's codec keeps its page encoders in a sync.Pool, which the garbage
// collector empties at every cycle, and resets each encoder when it is put
// back. A zstd encoder's tables are megabytes: a writer that collects often
// (callstats runs under a soft memory limit) builds new encoders again and
// again, and clears each one after every page. This codec keeps a few idle
// encoders per level on a free list the collector does not touch, and lets
// EncodeAll reset the encoder it uses, as it does anyway. The encoders are
// made with arrow-go's options, so the pages are the same bytes; decoding is
// arrow-go's.
//
// Importing the package registers the codec (compress.RegisterCodec).
package parquetzstd

import (
	"runtime"
	"sync"

	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/klauspost/compress/zstd"
)

func init() {
	base, err := compress.GetCodec(compress.Codecs.Zstd)
	if err != nil {
		return // no zstd in arrow-go: nothing to improve on
	}
	compress.RegisterCodec(compress.Codecs.Zstd, New(base))
}

// base is what arrow-go's zstd codec is: a codec that also reports decoding
// errors and streams (the page reader uses both).
type base interface {
	compress.ErrorCodec
	compress.StreamingCodec
}

// Codec encodes Parquet pages with zstd on encoders it keeps; decoding,
// bounds and streams are the wrapped codec's.
type Codec struct {
	base

	mu   sync.Mutex
	idle map[zstd.EncoderLevel][]*zstd.Encoder
	// keep is how many idle encoders a level keeps: one per page writer
	// that can run at once.
	keep int
}

// New wraps arrow-go's zstd codec. A codec that is not one (no error
// decoding, no streams) is returned as it is.
func New(c compress.Codec) compress.Codec {
	if w, ok := c.(*Codec); ok {
		return w
	}
	b, ok := c.(base)
	if !ok {
		return c
	}
	return &Codec{base: b, idle: map[zstd.EncoderLevel][]*zstd.Encoder{}, keep: 2 * runtime.GOMAXPROCS(0)}
}

// Encode encodes src at the default level.
func (c *Codec) Encode(dst, src []byte) []byte {
	return c.EncodeLevel(dst, src, compress.DefaultCompressionLevel)
}

// EncodeLevel encodes src at a zstd level, as arrow-go's codec does.
func (c *Codec) EncodeLevel(dst, src []byte, level int) []byte {
	l := zstd.SpeedDefault
	if level != compress.DefaultCompressionLevel {
		l = zstd.EncoderLevelFromZstd(level)
	}
	enc := c.get(l)
	out := enc.EncodeAll(src, dst[:0])
	c.put(l, enc)
	return out
}

func (c *Codec) get(l zstd.EncoderLevel) *zstd.Encoder {
	c.mu.Lock()
	if free := c.idle[l]; len(free) > 0 {
		enc := free[len(free)-1]
		c.idle[l] = free[:len(free)-1]
		c.mu.Unlock()
		return enc
	}
	c.mu.Unlock()
	// The options of arrow-go's pool (parquet/compress/zstd.go), so that
	// the pages are the same bytes. They are valid: no error.
	enc, _ := zstd.NewWriter(nil, zstd.WithZeroFrames(true), zstd.WithEncoderLevel(l),
		zstd.WithEncoderConcurrency(1), zstd.WithAllLitEntropyCompression(true))
	return enc
}

func (c *Codec) put(l zstd.EncoderLevel, enc *zstd.Encoder) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.idle[l]) < c.keep {
		c.idle[l] = append(c.idle[l], enc)
	}
}
