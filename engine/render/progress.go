package render

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/fuelplan/fuelplan/engine"
	"github.com/fuelplan/fuelplan/resources"
)

// Progress prints one line when an operation starts and one when it ends,
// and every Every, one summary line of what is still running, so a CI log
// of a 200-server apply stays readable.
type Progress struct {
	W     io.Writer
	Every time.Duration // default 30s; < 0 disables the summary

	mu      sync.Mutex
	running map[engine.Op]time.Time
	stop    chan struct{}
	// outMu serialises whole lines: operations finish in parallel, and
	// neither a bytes.Buffer nor a reader of the log wants them interleaved.
	outMu sync.Mutex
}

var verbs = map[engine.Phase][2]string{
	engine.PhaseCreate:  {"creating", "created"},
	engine.PhaseUpdate:  {"updating", "updated"},
	engine.PhaseDestroy: {"destroying", "destroyed"},
}

func (p *Progress) printf(format string, args ...any) {
	p.outMu.Lock()
	defer p.outMu.Unlock()
	_, _ = fmt.Fprintf(p.W, format, args...)
}

// Start begins the periodic summary; Stop ends it.
func (p *Progress) Start() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.running = map[engine.Op]time.Time{}
	every := p.Every
	if every == 0 {
		every = 30 * time.Second
	}
	if every < 0 {
		return
	}
	p.stop = make(chan struct{})
	go func(stop chan struct{}) {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				p.summary()
			}
		}
	}(p.stop)
}

// Stop ends the periodic summary.
func (p *Progress) Stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stop != nil {
		close(p.stop)
		p.stop = nil
	}
}

func (p *Progress) summary() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.running) == 0 {
		return
	}
	type item struct {
		op    engine.Op
		since time.Time
	}
	var items []item
	for op, t := range p.running {
		items = append(items, item{op, t})
	}
	sort.Slice(items, func(i, j int) bool {
		if !items[i].since.Equal(items[j].since) {
			return items[i].since.Before(items[j].since)
		}
		return items[i].op.String() < items[j].op.String()
	})
	var names []string
	for i, it := range items {
		if i == 3 {
			names = append(names, fmt.Sprintf("and %d more", len(items)-3))
			break
		}
		names = append(names, fmt.Sprintf("%s %s [%s]", verbs[it.op.Phase][0], it.op.Address, time.Since(it.since).Round(time.Second)))
	}
	p.printf("still running: %s\n", strings.Join(names, ", "))
}

func (p *Progress) Started(op engine.Op) {
	p.mu.Lock()
	if p.running == nil {
		p.running = map[engine.Op]time.Time{}
	}
	p.running[op] = time.Now()
	p.mu.Unlock()
	p.printf("%s: %s...\n", op.Address, verbs[op.Phase][0])
}

func (p *Progress) Retrying(op engine.Op, attempt int, err error) {
	p.printf("%s: retrying (attempt %d) after: %s\n", op.Address, attempt+1, firstLine(resources.Humanize(err).Error()))
}

func (p *Progress) Finished(op engine.Op, elapsed time.Duration, id string, err error) {
	p.mu.Lock()
	delete(p.running, op)
	p.mu.Unlock()
	if err != nil {
		p.printf("%s: %s failed after %s: %s\n", op.Address, verbs[op.Phase][0], round(elapsed), firstLine(resources.Humanize(err).Error()))
		return
	}
	p.printf("%s: %s after %s [id=%s]\n", op.Address, verbs[op.Phase][1], round(elapsed), id)
}

func round(d time.Duration) time.Duration {
	if d < time.Second {
		return d.Round(time.Millisecond)
	}
	return d.Round(100 * time.Millisecond)
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
