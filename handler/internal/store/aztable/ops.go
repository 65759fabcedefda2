package aztable

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/store"
)

// The primitives every method is built from. Each runs within the caller's
// operation timeout (see withTimeout). One primitive is one Table Storage
// transaction, except that add and put also write the row's index entry
// (one more) and a conflict after a retry costs a read (landed).

// get point-reads one record. It is ErrNotFound when the row is missing, when
// it has expired (no TTL in Table Storage: docs/architecture.md §7.2), when
// it was taken (take), or when the row holds a different key (only possible
// if two keys hashed alike).
func (s *Store) get(ctx context.Context, k keys, key, keyProp string) (*fields, azcore.ETag, error) {
	f, etag, err := s.getAny(ctx, k, key, keyProp)
	if err == nil && (s.expired(f.time("ExpiresAt")) || f.bool(propTaken)) {
		return nil, "", store.ErrNotFound
	}
	return f, etag, err
}

// getAny is get without the expiry check, for writers that replace an
// expired record in place.
func (s *Store) getAny(ctx context.Context, k keys, key, keyProp string) (*fields, azcore.ETag, error) {
	var resp aztables.GetEntityResponse
	err := s.call(ctx, func(ctx context.Context) (err error) {
		resp, err = s.client.GetEntity(ctx, k.pk, k.rk, nil)
		return err
	})
	if err != nil {
		return nil, "", err
	}
	f, err := decodeFields(resp.Value)
	if err != nil {
		return nil, "", err
	}
	if f.str(keyProp) != key {
		return nil, "", store.ErrNotFound
	}
	return f, resp.ETag, nil
}

// expired is the contract's rule: a non-zero ExpiresAt before now.
func (s *Store) expired(at time.Time) bool {
	return !at.IsZero() && s.now().After(at)
}

// propTaken marks a record as taken: every read treats it as absent until
// the purge deletes it.
const propTaken = "Taken"

// take reads a record and marks it taken with a merge conditional on the
// ETag just read (If-Match). Of any number of concurrent takers all may
// read it, but only the first write matches; the rest get 412, read it
// again and find it taken, which means "already used" (docs/architecture.md
// §7.2; Merge Entity,
// learn.microsoft.com/rest/api/storageservices/merge-entity). A mark rather
// than a delete, because a write can carry a WriteID: if the winner's write
// is retried after a fault, it recognises its own mark (retry.go), where a
// retried delete could not tell its own 404 from a rival's. The marked row
// costs nothing more: it is deleted by the purge instead of by the take.
func (s *Store) take(ctx context.Context, k keys, key, keyProp string) (*fields, error) {
	for {
		f, etag, err := s.get(ctx, k, key, keyProp)
		if err != nil {
			return nil, err
		}
		p := newProps()
		p.bool(propTaken, true)
		mark, err := p.entity(k)
		err = s.update(ctx, string(etag), mark, err, aztables.UpdateModeMerge)
		if !errors.Is(err, store.ErrConflict) {
			if err != nil {
				return nil, err
			}
			return f, nil
		}
		// Lost the race, or the record changed: read again. The operation
		// timeout bounds the loop.
	}
}

// add inserts; AddEntity is insert-only, so an existing key is a 409,
// which mapError makes ErrAlreadyExists, unless the row is our own from an
// earlier try. The index entry is written first: a record is never stored
// without one, so it cannot escape the purge.
func (s *Store) add(ctx context.Context, e entity, err error) error {
	if err != nil {
		return err
	}
	if err := s.index(ctx, e); err != nil {
		return err
	}
	w := newWriteID()
	b, err := e.body(w)
	if err != nil {
		return err
	}
	ctx, tr := withTries(ctx)
	err = s.call(ctx, func(ctx context.Context) error {
		_, err := s.client.AddEntity(ctx, b, nil)
		return err
	})
	if errors.Is(err, store.ErrAlreadyExists) && tr.retried() && s.landed(ctx, e.keys, w) {
		return nil
	}
	return err
}

// put inserts or replaces, after writing the index entry. Replace, not
// merge, so that a property left out because it is now zero does not keep
// its old value. It is idempotent, so retries need no check.
func (s *Store) put(ctx context.Context, e entity, err error) error {
	if err != nil {
		return err
	}
	if err := s.index(ctx, e); err != nil {
		return err
	}
	b, err := e.body("")
	if err != nil {
		return err
	}
	return s.call(ctx, func(ctx context.Context) error {
		_, err := s.client.UpsertEntity(ctx, b, &aztables.UpsertEntityOptions{UpdateMode: aztables.UpdateModeReplace})
		return err
	})
}

// update replaces the entity (or merges it, with mode
// aztables.UpdateModeMerge) only if it still has etag: a lost race is a
// 412 (ErrConflict), a deleted entity a 404 (ErrNotFound). An empty ETag
// is a conflict without asking: the contract says it never matches, and a
// nil If-Match would make the SDK send "*", which matches anything. A 412
// after a retry is checked against our WriteID (retry.go). Updates keep the
// record's expiry or move it later (the contract), so the index entry the
// record was created with still finds it: no index write.
func (s *Store) update(ctx context.Context, etag string, e entity, err error, mode ...aztables.UpdateMode) error {
	if err != nil {
		return err
	}
	if etag == "" {
		return store.ErrConflict
	}
	w := newWriteID()
	b, err := e.body(w)
	if err != nil {
		return err
	}
	um := aztables.UpdateModeReplace
	if len(mode) > 0 {
		um = mode[0]
	}
	ctx, tr := withTries(ctx)
	err = s.call(ctx, func(ctx context.Context) error {
		_, err := s.client.UpdateEntity(ctx, b, &aztables.UpdateEntityOptions{
			IfMatch:    (*azcore.ETag)(&etag),
			UpdateMode: um,
		})
		return err
	})
	if errors.Is(err, store.ErrConflict) && tr.retried() && s.landed(ctx, e.keys, w) {
		return nil
	}
	return err
}

// del deletes unconditionally; a missing record is not an error, so
// retries need no check.
func (s *Store) del(ctx context.Context, k keys) error {
	err := s.call(ctx, func(ctx context.Context) error {
		_, err := s.client.DeleteEntity(ctx, k.pk, k.rk, nil)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return err
}

// listed is an entity as a query returns it.
type listed struct {
	keys
	etag azcore.ETag
	f    *fields
}

// list runs one page of a query (filter, the properties in sel, at most
// top rows; start from the continuation in next, nil for the first page)
// and returns the rows and the continuation (nil at the end). A missing
// table has no rows.
func (s *Store) list(ctx context.Context, filter, sel string, top int32, next *[2]string) ([]listed, *[2]string, error) {
	opts := &aztables.ListEntitiesOptions{Filter: &filter, Select: &sel, Top: &top}
	if next != nil {
		opts.NextPartitionKey, opts.NextRowKey = &next[0], &next[1]
	}
	tctx, cancel := s.withTimeout(ctx)
	page, err := s.client.NewListEntitiesPager(opts).NextPage(tctx)
	cancel()
	if hasCode(err, aztables.TableNotFound) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, mapError(err)
	}
	rows := make([]listed, 0, len(page.Entities))
	for _, raw := range page.Entities {
		var e aztables.EDMEntity
		if err := e.UnmarshalJSON(raw); err != nil {
			return nil, nil, fmt.Errorf("aztable: decode listed entity: %w", err)
		}
		if e.ETag == "" {
			return nil, nil, fmt.Errorf("aztable: listed entity %s/%s has no ETag", e.PartitionKey, e.RowKey)
		}
		rows = append(rows, listed{keys{e.PartitionKey, e.RowKey}, azcore.ETag(e.ETag), &fields{m: e.Properties}})
	}
	if page.NextPartitionKey == nil {
		return rows, nil, nil
	}
	cont := [2]string{*page.NextPartitionKey, ""}
	if page.NextRowKey != nil {
		cont[1] = *page.NextRowKey
	}
	return rows, &cont, nil
}

// deleted is what a conditional delete of a listed row found.
type deleted int

const (
	removed deleted = iota // it deleted the row
	gone                   // the row was already gone
	changed                // the row was rewritten since it was listed
)

// deleteListed deletes one listed row with the ETag it was listed with, so
// a row rewritten in between (a renewed consent, a touched registration)
// survives. Gone or rewritten is not an error. A row found gone after a
// retry counts as removed: the first try most likely took it (only the
// purge, one instance at a time, and DeleteGrant delete listed rows).
func (s *Store) deleteListed(ctx context.Context, r listed) (deleted, error) {
	tctx, cancel := s.withTimeout(ctx)
	defer cancel()
	tctx, tr := withTries(tctx)
	_, err := s.client.DeleteEntity(tctx, r.pk, r.rk, &aztables.DeleteEntityOptions{IfMatch: &r.etag})
	switch err = mapError(err); {
	case err == nil, errors.Is(err, store.ErrNotFound) && tr.retried():
		return removed, nil
	case errors.Is(err, store.ErrNotFound):
		return gone, nil
	case errors.Is(err, store.ErrConflict):
		return changed, nil
	default:
		return gone, err
	}
}

// quote makes s an OData string literal.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// odataTime formats t for an OData filter, to the 100 ns of Edm.DateTime.
func odataTime(t time.Time) string {
	return "datetime'" + t.UTC().Format("2006-01-02T15:04:05.0000000Z") + "'"
}
