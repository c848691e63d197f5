package resources

import (
	"context"
	"sync"
	"time"
)

// A watcher answers every wait of one kind on one Cloud (servers until
// ACTIVE or gone, volumes until available or gone) with one list call per
// poll, filtered to the objects waited on, instead of a GET per object per
// poll: 50 servers booting cost a handful of lists rather than hundreds of
// GETs. Each wait keeps its own backoff (Backoff, as Poll): a list happens
// when the earliest wait is due and answers all of them, each then waiting
// its next interval, so no wait is answered later than its own polling
// would have answered it. Waits come and go; the watcher's goroutine ends
// when none is left and starts again with the next. A failed list ends
// every wait it was to answer with its error, as a failed GET ended Poll.

// watchItem is one object waited on: its ID, and its name where the list
// filters by name (Nova has no filter by ID).
type watchItem struct{ ID, Name string }

// watchList reads the objects waited on with as few list calls as the API
// allows (all pages): every one of items that exists, by ID. Other objects
// in the answer do no harm.
type watchList[T any] func(ctx context.Context, c *Cloud, items []watchItem) (map[string]T, error)

// firstLook is how long a new wait gathers others before its first list:
// waits starting together (a wave of creates) share it. An object ready
// at once costs this much more than a GET straight away would.
const firstLook = 50 * time.Millisecond

// watchListTimeout bounds one list call: the waits have their own
// deadlines, the watcher's goroutine must not hang past them.
const watchListTimeout = 2 * time.Minute

type waiter[T any] struct {
	item watchItem
	// check says whether the wait is over, from the object as listed
	// (found false: the list did not return it).
	check func(v T, found bool) (done bool, err error)
	b     Backoff
	wait  time.Duration
	due   time.Time
	done  chan error // one answer, buffered
}

type watcher[T any] struct {
	c    *Cloud
	list watchList[T]

	mu      sync.Mutex
	waiters map[*waiter[T]]struct{}
	running bool
	wake    chan struct{} // buffered 1: a wait was added
}

// watcherFor returns the Cloud's watcher named key, made with list on
// first use.
func watcherFor[T any](c *Cloud, key string, list watchList[T]) *watcher[T] {
	c.watchMu.Lock()
	defer c.watchMu.Unlock()
	if w, ok := c.watchers[key]; ok {
		return w.(*watcher[T])
	}
	if c.watchers == nil {
		c.watchers = map[string]any{}
	}
	w := &watcher[T]{c: c, list: list, waiters: map[*waiter[T]]struct{}{}, wake: make(chan struct{}, 1)}
	c.watchers[key] = w
	return w
}

// watchFor waits, with the Cloud's watcher named key, until check says
// the object item names is done, or fails; b is the wait's backoff. It
// returns ctx's error wrapped in a *WaitError when ctx ends first.
func watchFor[T any](ctx context.Context, c *Cloud, key string, list watchList[T], b Backoff, item watchItem,
	check func(v T, found bool) (bool, error)) error {
	w := watcherFor(c, key, list)
	first := b.Initial
	if first <= 0 {
		first = DefaultBackoff.Initial
	}
	wt := &waiter[T]{item: item, check: check, b: b, wait: first, due: time.Now().Add(min(firstLook, first)), done: make(chan error, 1)}
	w.add(wt)
	select {
	case err := <-wt.done:
		return err
	case <-ctx.Done():
		w.remove(wt)
		select {
		case err := <-wt.done: // answered as ctx ended: the answer stands
			return err
		default:
		}
		return &WaitError{Err: context.Cause(ctx)}
	}
}

func (w *watcher[T]) add(wt *waiter[T]) {
	w.mu.Lock()
	w.waiters[wt] = struct{}{}
	start := !w.running
	w.running = true
	w.mu.Unlock()
	if start {
		go w.run()
		return
	}
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (w *watcher[T]) remove(wt *waiter[T]) {
	w.mu.Lock()
	delete(w.waiters, wt)
	w.mu.Unlock()
}

// run lists whenever the earliest wait is due, until no wait is left.
func (w *watcher[T]) run() {
	for {
		w.mu.Lock()
		if len(w.waiters) == 0 {
			w.running = false
			w.mu.Unlock()
			return
		}
		var next time.Time
		for wt := range w.waiters {
			if next.IsZero() || wt.due.Before(next) {
				next = wt.due
			}
		}
		w.mu.Unlock()
		if d := time.Until(next); d > 0 {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-w.wake: // a new wait may be due sooner
				t.Stop()
				continue
			}
		}
		w.poll()
	}
}

// poll makes one list and answers the waits it was made for.
func (w *watcher[T]) poll() {
	w.mu.Lock()
	batch := make([]*waiter[T], 0, len(w.waiters))
	items := make([]watchItem, 0, len(w.waiters))
	for wt := range w.waiters {
		batch = append(batch, wt)
		items = append(items, wt.item)
	}
	w.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), watchListTimeout)
	got, err := w.list(ctx, w.c, items)
	cancel()
	now := time.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, wt := range batch {
		if _, waiting := w.waiters[wt]; !waiting {
			continue // gave up during the list
		}
		done, cerr := true, err
		if err == nil {
			v, found := got[wt.item.ID]
			done, cerr = wt.check(v, found)
		}
		if done || cerr != nil {
			delete(w.waiters, wt)
			wt.done <- cerr
			continue
		}
		wt.due = now.Add(wt.wait)
		wt.wait = wt.b.next(wt.wait)
	}
}
