package resources

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/fuelplan/fuelplan/specs"
)

// UploadProgress says where image uploads report how far they are: a
// multi-gigabyte ISO takes minutes, and an apply that prints nothing for
// that long looks hung.
type UploadProgress struct {
	W io.Writer
	// MinSize: smaller files upload without a word; 0 means 64 MiB.
	MinSize int64
	// Step is the percentage between two lines; 0 means 10.
	Step int
}

type uploadProgressKey struct{}

// WithUploadProgress returns ctx telling image uploads to report to p.W.
// Lines from uploads running at once never interleave.
func WithUploadProgress(ctx context.Context, p UploadProgress) context.Context {
	if p.MinSize <= 0 {
		p.MinSize = 64 << 20
	}
	if p.Step <= 0 || p.Step > 100 {
		p.Step = 10
	}
	if p.W != nil {
		p.W = &lockedWriter{w: p.W}
	}
	return context.WithValue(ctx, uploadProgressKey{}, p)
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// uploadBody is what an upload streams: the file itself, or the file
// wrapped to report progress when ctx asks for it and the file is large.
func uploadBody(ctx context.Context, addr specs.Address, f *os.File) io.Reader {
	p, ok := ctx.Value(uploadProgressKey{}).(UploadProgress)
	if !ok || p.W == nil {
		return f
	}
	st, err := f.Stat()
	if err != nil || st.Size() < p.MinSize || st.Size() == 0 {
		return f
	}
	return &progressReader{f: f, addr: addr, size: st.Size(), step: int64(p.Step), next: int64(p.Step), w: p.W}
}

// progressReader counts what is read from the file and writes a line each
// time another step of it has gone. It is a Seeker, as the file is, so
// gophercloud can rewind it to re-send after re-authenticating.
type progressReader struct {
	f          *os.File
	addr       specs.Address
	size, sent int64
	step, next int64 // percent
	w          io.Writer
}

func (r *progressReader) Read(p []byte) (int, error) {
	n, err := r.f.Read(p)
	r.sent += int64(n)
	if pct := r.sent * 100 / r.size; pct >= r.next {
		fmt.Fprintf(r.w, "%s: uploaded %s of %s (%d%%)\n", r.addr, humanBytes(r.sent), humanBytes(r.size), pct)
		r.next = (pct/r.step + 1) * r.step
	}
	return n, err
}

func (r *progressReader) Seek(offset int64, whence int) (int64, error) {
	pos, err := r.f.Seek(offset, whence)
	if err == nil {
		r.sent = pos
		r.next = (pos*100/r.size/r.step + 1) * r.step
	}
	return pos, err
}

// humanBytes is a size in binary units with one decimal: "1.5 GiB".
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
