package aztable

import (
	"context"
	"errors"
	"time"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/store"
)

// Lease rows have no ExpiresAt, so the index never lists them and the
// purge never deletes them.

// AcquireLease reads the lease and claims it with an insert (none yet) or a
// replace with If-Match on the ETag it read, so of racing instances exactly
// one write succeeds; the others get 409 or 412, which is ErrConflict.
func (s *Store) AcquireLease(ctx context.Context, name, holder string, now, until time.Time) (store.Lease, error) {
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	f, etag, err := s.getAny(ctx, own(kindLease, name), name, "Name")
	l := store.Lease{Name: name, Holder: holder, Until: until}
	switch {
	case errors.Is(err, store.ErrNotFound):
		b, encErr := encodeLease(l)
		err = s.add(ctx, b, encErr)
		if errors.Is(err, store.ErrAlreadyExists) {
			err = store.ErrConflict
		}
	case err != nil:
		return store.Lease{}, err
	default:
		cur := decodeLease(f)
		if cur.Holder != holder && now.Before(cur.Until) {
			return store.Lease{}, store.ErrConflict
		}
		l.Cursor = cur.Cursor
		b, encErr := encodeLease(l)
		err = s.update(ctx, string(etag), b, encErr)
	}
	if err != nil {
		return store.Lease{}, err
	}
	return s.readLease(ctx, name)
}

// UpdateLease replaces the lease with If-Match on l.ETag.
func (s *Store) UpdateLease(ctx context.Context, l store.Lease) error {
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	b, err := encodeLease(l)
	err = s.update(ctx, l.ETag, b, err)
	if errors.Is(err, store.ErrNotFound) {
		return store.ErrConflict
	}
	return err
}

// readLease reads the lease back for its new ETag (an insert or replace
// through the SDK does not return the entity).
func (s *Store) readLease(ctx context.Context, name string) (store.Lease, error) {
	f, etag, err := s.getAny(ctx, own(kindLease, name), name, "Name")
	if err != nil {
		return store.Lease{}, err
	}
	l := decodeLease(f)
	l.ETag = string(etag)
	return l, f.err
}

func encodeLease(l store.Lease) (entity, error) {
	p := newProps()
	p.str("Name", l.Name)
	p.str("Holder", l.Holder)
	p.time("Until", l.Until)
	p.str("Cursor", l.Cursor)
	return p.entity(own(kindLease, l.Name))
}

func decodeLease(f *fields) store.Lease {
	return store.Lease{Name: f.str("Name"), Holder: f.str("Holder"), Until: f.time("Until"), Cursor: f.str("Cursor")}
}
