package store

import (
	"context"
	"errors"
	"time"
)

// PurgeLease is the name of the lease that lets one instance at a time
// purge.
const PurgeLease = "purge"

// Purger removes expired records (Table Storage has no TTL;
// docs/architecture.md §7.2) in passes whose cost does not depend on the size
// of the store, one instance at a time: a pass takes the purge lease for
// Every, so every other instance skips its passes until the lease lapses,
// deletes at most Pages×PageSize records over at most Pages calls of
// DeleteExpired, and leaves the cursor in the lease for the next pass,
// whichever instance runs it. A table with more expired records than one pass
// removes is cleared over several intervals instead of in one long scan.
type Purger struct {
	Store    Store
	Holder   string        // this instance
	Every    time.Duration // how often passes run; the lease is held this long
	PageSize int           // records per DeleteExpired call; default 500
	Pages    int           // DeleteExpired calls per pass; default 10
}

// Run does one pass at now. ran is false when another instance holds the
// lease (nothing was done).
func (p Purger) Run(ctx context.Context, now time.Time) (deleted int, ran bool, err error) {
	l, err := p.Store.AcquireLease(ctx, PurgeLease, p.Holder, now, now.Add(p.Every))
	if errors.Is(err, ErrConflict) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	size, pages := p.PageSize, p.Pages
	if size <= 0 {
		size = 500
	}
	if pages <= 0 {
		pages = 10
	}
	cursor := l.Cursor
	for range pages {
		n, next, derr := p.Store.DeleteExpired(ctx, now, cursor, size)
		deleted += n
		if derr != nil {
			err = derr
			break
		}
		cursor = next
		if next == "" {
			break // the end of the store: the next pass starts over
		}
	}
	l.Cursor = cursor
	// A conflict means the pass outlived its lease and another instance
	// took over; its cursor wins.
	if uerr := p.Store.UpdateLease(ctx, l); uerr != nil && !errors.Is(uerr, ErrConflict) && err == nil {
		err = uerr
	}
	return deleted, true, err
}
