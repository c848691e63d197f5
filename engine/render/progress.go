package render

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/fuelplan/fuelplan/engine"
	"github.com/fuelplan/fuelplan/resources"
	"github.com/fuelplan/fuelplan/specs"
)

// Progress (--verbose) prints one line when an operation starts and one
// when it ends, and every Every, one summary line of what is still running, so a CI log
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

// Reread prints what a destroy's re-read of the lab found.
func (p *Progress) Reread(r engine.Reread) { p.printf("%s\n", r) }

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

// Lines is the compact view without a terminal (a CI log): failures and
// unusually slow operations as they happen, and one summary line (Tally.Line)
// every Every, instead of two lines per operation.
type Lines struct {
	W     io.Writer
	Every time.Duration // default 30s
	*Tally

	outMu sync.Mutex
	stop  chan struct{}
	done  chan struct{}
}

// NewLines makes the view of t on w; Start and Stop bracket the apply.
func NewLines(w io.Writer, t *Tally, every time.Duration) *Lines {
	l := &Lines{W: w, Every: every, Tally: t}
	t.Report = func(line string) { l.println(line) }
	return l
}

func (l *Lines) println(s string) {
	l.outMu.Lock()
	defer l.outMu.Unlock()
	_, _ = fmt.Fprintln(l.W, s)
}

// Start begins the interval lines.
func (l *Lines) Start() {
	every := l.Every
	if every <= 0 {
		every = 30 * time.Second
	}
	l.stop, l.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(l.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-l.stop:
				return
			case <-t.C:
				l.Tick()
			}
		}
	}()
}

// Tick reports slow operations and prints the summary line; Start's
// ticker calls it.
func (l *Lines) Tick() {
	l.CheckSlow()
	l.println(l.Line())
}

// Stop ends the interval lines and prints the last one.
func (l *Lines) Stop() {
	if l.stop != nil {
		close(l.stop)
		<-l.done
		l.stop = nil
	}
	l.println(l.Line())
}

// Live is the compact view on a terminal: one bar per kind (done of
// total, in flight, failed) under a total with the elapsed time and an
// estimate of what is left, drawn by mpb; failures and unusually slow
// operations are printed above the bars as they happen.
type Live struct {
	*Tally
	p    *mpb.Progress
	bars map[specs.Kind]*mpb.Bar
	// width is the kind names' column
	width int
	stop  chan struct{}
	done  chan struct{}
}

// NewLive draws t on w (a terminal) until Stop. It refreshes whatever w
// is (mpb would not on a pipe), so a test can read the frames.
func NewLive(w io.Writer, t *Tally) *Live {
	v := &Live{Tally: t, p: mpb.New(mpb.WithOutput(w), mpb.WithRefreshRate(200*time.Millisecond), mpb.WithAutoRefresh()),
		bars: map[specs.Kind]*mpb.Bar{}}
	kinds, _, _, _ := t.Snapshot()
	width := len("total")
	for _, k := range kinds {
		width = max(width, len(k.Kind))
	}
	v.width = width
	for _, k := range kinds {
		v.bars[k.Kind] = v.p.New(int64(k.Total), mpb.BarStyle(),
			mpb.PrependDecorators(decor.Name(string(k.Kind), decor.WC{W: width + 1, C: decor.DindentRight})),
			mpb.AppendDecorators(decor.Any(v.kindCounts(k.Kind))))
	}
	v.bars[""] = v.p.New(int64(len(kinds)), mpb.NopStyle(),
		mpb.PrependDecorators(decor.Name("total", decor.WC{W: width + 1, C: decor.DindentRight})),
		mpb.AppendDecorators(decor.Any(func(decor.Statistics) string {
			_, all, elapsed, left := t.Snapshot()
			s := fmt.Sprintf("%d/%d done, %d in flight, %d failed, %d left, %s", all.Done, all.Total, all.Running, all.Failed, all.Left, elapsed.Round(time.Second))
			if all.Done+all.Failed > 0 && all.Left+all.Running > 0 {
				s += fmt.Sprintf(", about %s to go", left.Round(time.Second))
			}
			return s
		})))
	t.Report = func(line string) { _, _ = fmt.Fprintln(v.p, line) }
	return v
}

func (v *Live) kindCounts(k specs.Kind) decor.DecorFunc {
	return func(decor.Statistics) string {
		kinds, _, _, _ := v.Snapshot()
		for _, s := range kinds {
			if s.Kind == k {
				return fmt.Sprintf("%d/%d  %d in flight  %d failed", s.Done, s.Total, s.Running, s.Failed)
			}
		}
		return ""
	}
}

// Start follows the tally: bars move as operations finish.
func (v *Live) Start() {
	v.stop, v.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(v.done)
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-v.stop:
				return
			case <-t.C:
				v.CheckSlow()
				v.update()
			}
		}
	}()
}

func (v *Live) update() {
	kinds, _, _, _ := v.Snapshot()
	for _, k := range kinds {
		b := v.bars[k.Kind]
		if b == nil {
			// A kind a destroy's re-read found (Tally.Reread), which the
			// plan had none of.
			b = v.p.New(int64(k.Total), mpb.BarStyle(),
				mpb.PrependDecorators(decor.Name(string(k.Kind), decor.WC{W: v.width + 1, C: decor.DindentRight})),
				mpb.AppendDecorators(decor.Any(v.kindCounts(k.Kind))))
			v.bars[k.Kind] = b
		}
		b.SetTotal(int64(k.Total), false)
		b.SetCurrent(int64(k.Done + k.Failed))
	}
}

// Stop draws the final state and lets the terminal go.
func (v *Live) Stop() {
	if v.stop != nil {
		close(v.stop)
		<-v.done
		v.stop = nil
	}
	v.update()
	for _, b := range v.bars {
		b.Abort(false) // stop drawing, keep the last frame on screen
	}
	v.p.Wait()
}
