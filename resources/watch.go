package resources

import (
	"context"
	"sync"
	"time"
)

// A watcher answers every wait of one kind on one Cloud (servers until
// ACTIVE or gone, volumes until available or gone) with one list call per
// poll, filtered to the lab where the list can be, instead of a GET per
// object per poll: 50 servers booting cost a few dozen lists rather than
// hundreds of GETs. Each wait keeps its own backoff (Backoff, as Poll): a
// list starts when a wait is due (even while another is under way, so a
// slow list holds back no wait) and answers every wait; those it was made
// for then wait their next interval, the others keep their time. A look
// may come a tenth of its interval late to share a list; lists made for
// others answer a wait earlier than its own look would, as often.
// Waits come and go; the watcher's goroutine ends when none is left and
// starts again with the next. A failed list ends every wait it was made
// for with its error, as a failed GET ended Poll.

// watchItem is one object waited on: its ID, and the lab whose mark it
// carries where the list can filter by it ("" = list them all).
type watchItem struct{ ID, Lab string }

// watchList reads the objects waited on with as few list calls as the API
// allows (all pages): every one of items that exists, by ID. Other objects
// in the answer do no harm.
type watchList[T any] func(ctx context.Context, c *Cloud, items []watchItem) (map[string]T, error)

// deleteFirstLook is when a wait for a delete first looks: a delete is
// often done at once, and the deletes started within this time share the
// look.
const deleteFirstLook = 50 * time.Millisecond

// watchListTimeout bounds one list call: the waits have their own
// deadlines, the watcher's goroutine must not hang past them.
const watchListTimeout = 2 * time.Minute

type waiter[T any] struct {
	item watchItem
	// check says whether the wait is over, from the object as listed
	// (found false: the list did not return it).
	check func(v T, found bool) (done bool, err error)
	b     Backoff
	wait  time.Duration // the interval after the next look
	due   time.Time     // the next look
	slack time.Duration // how late the next look may be, to share a list
	// polled: a list made because this wait was due is under way.
	polled bool
	done   chan error // one answer, buffered
}

type watcher[T any] struct {
	c    *Cloud
	list watchList[T]

	mu      sync.Mutex
	waiters map[*waiter[T]]struct{}
	running bool
	wake    chan struct{} // buffered 1: a wait was added, or a list ended
	lists   int           // lists under way
}

// maxLists bounds the lists of one watcher under way at once: a list is
// made when a wait is due, not when the last list ends, so that a slow
// list does not hold back the waits due after it started.
const maxLists = 4

// lateShare: a look may come a tenth of its interval late to share a
// list with looks due a little later. Lists made for other waits answer
// it for free meanwhile, often earlier than its own look would have.
const lateShare = 10

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
// the object item names is done, or fails. The first look is after first
// (0 = with the next list: a delete often ends at once; a create that was
// just requested is not ready at once, so it first waits b.Initial), then
// b says how often. It returns ctx's error wrapped in a *WaitError when
// ctx ends first.
func watchFor[T any](ctx context.Context, c *Cloud, key string, list watchList[T], b Backoff, first time.Duration, item watchItem,
	check func(v T, found bool) (bool, error)) error {
	w := watcherFor(c, key, list)
	wait := b.Initial
	if wait <= 0 {
		wait = DefaultBackoff.Initial
	}
	wt := &waiter[T]{item: item, check: check, b: b, wait: wait, due: time.Now().Add(first), slack: first / lateShare,
		done: make(chan error, 1)}
	if first > 0 {
		wt.wait = b.next(wait)
	}
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
	w.poke()
}

func (w *watcher[T]) poke() {
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

// run starts a list whenever a wait no list is under way for is due, until
// no wait is left.
func (w *watcher[T]) run() {
	for {
		w.mu.Lock()
		if len(w.waiters) == 0 && w.lists == 0 {
			w.running = false
			w.mu.Unlock()
			return
		}
		// The next list: as late as the wait that may come least late
		// allows, for every wait due by then.
		var next time.Time
		if w.lists < maxLists {
			for wt := range w.waiters {
				if t := wt.due.Add(wt.slack); !wt.polled && (next.IsZero() || t.Before(next)) {
					next = t
				}
			}
		}
		w.mu.Unlock()
		if next.IsZero() { // nothing due, or lists enough under way
			<-w.wake
			continue
		}
		if d := time.Until(next); d > 0 {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-w.wake: // a new wait may be due sooner
				t.Stop()
				continue
			}
		}
		w.start()
	}
}

// start begins one list for every wait: those due are its looks, the
// others get its answer for free.
func (w *watcher[T]) start() {
	now := time.Now()
	w.mu.Lock()
	batch := make([]*waiter[T], 0, len(w.waiters))
	items := make([]watchItem, 0, len(w.waiters))
	var due []*waiter[T]
	for wt := range w.waiters {
		batch = append(batch, wt)
		items = append(items, wt.item)
		if !wt.polled && !wt.due.After(now) {
			wt.polled = true
			due = append(due, wt)
		}
	}
	w.lists++
	w.mu.Unlock()
	go w.poll(batch, items, due)
}

// poll makes one list and answers the waits it was made for.
func (w *watcher[T]) poll(batch []*waiter[T], items []watchItem, due []*waiter[T]) {
	ctx, cancel := context.WithTimeout(context.Background(), watchListTimeout)
	got, err := w.list(ctx, w.c, items)
	cancel()
	now := time.Now()
	w.mu.Lock()
	defer w.poke()
	defer w.mu.Unlock()
	w.lists--
	madeFor := map[*waiter[T]]bool{}
	for _, wt := range due {
		madeFor[wt] = true
		// The next look of a wait this list was made for is its next
		// interval after the last one was due: neither a list's time nor
		// a late look pushes the wait's schedule back.
		wt.polled = false
		wt.due, wt.slack = wt.due.Add(wt.wait), wt.wait/lateShare
		if wt.due.Before(now) {
			wt.due = now
		}
		wt.wait = wt.b.next(wt.wait)
	}
	for _, wt := range batch {
		if _, waiting := w.waiters[wt]; !waiting {
			continue // answered by another list, or gave up
		}
		var done bool
		var cerr error
		switch {
		case err != nil && !madeFor[wt]:
			continue // its own list will tell
		case err != nil:
			cerr = err
		default:
			v, found := got[wt.item.ID]
			done, cerr = wt.check(v, found)
		}
		if done || cerr != nil {
			delete(w.waiters, wt)
			wt.done <- cerr
		}
	}
}
