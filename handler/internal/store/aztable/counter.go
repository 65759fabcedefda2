package aztable

import (
	"context"
	"errors"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/store"
)

// TouchClient merges a new ExpiresAt into the registration's row. If-Match
// "*" makes it an update that fails with 404 on a missing row instead of
// creating one. It does not compare the stored ID: a RowKey is the ID
// itself or its SHA-256, and a caller touches only a client it just read.
func (s *Store) TouchClient(ctx context.Context, id string, expiresAt time.Time) error {
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	p := newProps()
	p.time("ExpiresAt", expiresAt)
	e, err := p.entity(own(kindClient, id))
	if err != nil {
		return err
	}
	b, err := e.body("")
	if err != nil {
		return err
	}
	anyETag := azcore.ETagAny
	return s.call(ctx, func(ctx context.Context) error {
		_, err := s.client.UpdateEntity(ctx, b, &aztables.UpdateEntityOptions{IfMatch: &anyETag, UpdateMode: aztables.UpdateModeMerge})
		return err
	})
}

// Increment reads the counter and writes it back one higher with If-Match
// on the ETag it read (or inserts it at 1), retrying when another writer
// got there first; so every call counts once. An expired counter is
// replaced in place, restarting at 1. The operation timeout bounds the
// retries.
func (s *Store) Increment(ctx context.Context, key string, expiresAt time.Time) (int64, error) {
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	for {
		f, etag, err := s.getAny(ctx, own(kindCounter, key), key, "Key")
		var n int64
		switch {
		case errors.Is(err, store.ErrNotFound):
			b, encErr := encodeCounter(key, 1, expiresAt)
			err = s.add(ctx, b, encErr)
			n = 1
		case err != nil:
			return 0, err
		default:
			n = f.int64("N") + 1
			restart := false
			if exp := f.time("ExpiresAt"); s.expired(exp) {
				n, restart = 1, true
			} else {
				expiresAt = exp
			}
			b, encErr := encodeCounter(key, n, expiresAt)
			if encErr == nil {
				// Many instances count on one row: keep the WriteIDs a
				// rival may have written over, for landed (retry.go).
				b.props[propRecentWrites] = recentWrites(f)
			}
			if restart && encErr == nil {
				// A new expiry: the index must list it (update does not).
				encErr = s.index(ctx, b)
			}
			err = s.update(ctx, string(etag), b, encErr)
		}
		switch {
		case err == nil:
			return n, nil
		case errors.Is(err, store.ErrConflict), errors.Is(err, store.ErrAlreadyExists), errors.Is(err, store.ErrNotFound):
			// Another writer changed, created or purged it: read again.
			if ctx.Err() != nil {
				return 0, mapError(ctx.Err())
			}
		default:
			return 0, err
		}
	}
}

func encodeCounter(key string, n int64, expiresAt time.Time) (entity, error) {
	p := newProps()
	p.str("Key", key)
	p.int64("N", n)
	p.time("ExpiresAt", expiresAt)
	return p.entity(own(kindCounter, key))
}
