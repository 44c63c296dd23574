package scan

import (
	"context"
	"sync"
)

// Blob is one piece of content to scan.
type Blob struct {
	ID     string // git object id; "" for a file read from disk
	Path   string // slash-separated, relative to the repository or scan root
	Data   []byte
	pooled bool // Data came from getBuffer and is returned after the scan
}

// Source produces blobs. Blobs calls emit once per blob, possibly from
// several goroutines at once (emit must be safe for that); emit takes
// ownership of the blob's Data. It stops at the first error from emit and
// returns it.
type Source interface {
	Blobs(ctx context.Context, emit func(Blob) error) error
}

// Attributor is implemented by sources that can say which commit first
// introduced a blob (the history source).
type Attributor interface {
	// Attribute maps blob ids (to the path each was read under) to the
	// commit that introduced them; blobs it cannot place are left out.
	Attribute(ctx context.Context, blobs map[string]string) (map[string]Commit, error)
}

var bufferPool = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

func getBuffer(n int) []byte {
	bp := bufferPool.Get().(*[]byte)
	if cap(*bp) < n {
		return make([]byte, n)
	}
	return (*bp)[:n]
}

func putBuffer(b []byte) {
	if cap(b) > 4<<20 {
		return // let big blobs go: keep memory flat
	}
	b = b[:0]
	bufferPool.Put(&b)
}
